"""The organisation's reporter block and legal tracks in the config: read, checked, documented."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from leakline.config import ConfigError, corporate_number_ok, from_dict

ORG = """[organization]
incident_address = "incident@example.com"
legal_name = "株式会社リークライン"
corporate_number = "4010001234567"
industry = "情報通信業"
[organization.contact]
name = "個人情報保護管理者 鈴木次郎"
phone = "03-1234-5678"
email = "privacy@example.com"
enquiry_desk = "お問い合わせ窓口 0120-000-000"
"""


def _org(text: str):
    return from_dict(tomllib.loads(text)).organization


def test_the_reporter_config_is_read_and_checked():
    org = _org(ORG)
    assert org.legal_name == "株式会社リークライン" and org.contact.enquiry_desk == "お問い合わせ窓口 0120-000-000"
    assert org.report_to == "個人情報保護委員会" and org.gdpr_role == "controller"
    assert org.gdpr_processor_notice_hours == 24 and org.sector == "" and org.sector_report_to == "金融庁"


@pytest.mark.parametrize("extra,message", [
    ('corporate_number = "4010001234568"\n', "organization.corporate_number: not a valid 法人番号"),
    ('corporate_number = "12345"\n', "organization.corporate_number: not a valid 法人番号"),
    ('gdpr_role = "owner"\n', "organization.gdpr_role: must be one of controller, processor"),
    ('gdpr_processor_notice_hours = 0\n', "organization.gdpr_processor_notice_hours: must be a positive"),
    ('sector = "retail"\n', "organization.sector: must be one of , financial"),
    ('representative = "代表\\n取締役"\n', "organization.representative: must be one line"),
    ('[organization.contact]\nphone = "call me"\n', "organization.contact.phone: digits"),
    ('[organization.contact]\nemail = "nobody"\n', "organization.contact.email: not an email address"),
    ('[organization.contact]\nfax = "03"\n', "organization.contact.fax: unknown key"),
])
def test_wrong_reporter_config_is_one_clear_line(extra, message):
    text = '[organization]\nincident_address = "incident@example.com"\n' + extra
    with pytest.raises(ConfigError, match="^" + re.escape(message)):
        _org(text)


def test_the_sample_config_documents_the_new_keys():
    sample = (Path(__file__).parent.parent / "leakline" / "sample.toml").read_text(encoding="utf-8")
    for key in ("legal_name", "corporate_number", "address", "representative", "industry", "[organization.contact]",
                "enquiry_desk", "gdpr_role", "gdpr_processor_notice_hours", "sector", "sector_report_to"):
        assert key in sample, key


@pytest.mark.parametrize("number,valid", [
    ("7000012050002", True),    # 国税庁
    ("1180301018771", True),    # a listed company's number, as published
    ("1180301018772", False),   # one digit off
    ("118030101877", False), ("ABCDEFGHIJKLM", False), ("１１８０３０１０１８７７１", False),
])
def test_the_corporate_number_check_digit(number, valid):
    assert corporate_number_ok(number) is valid
