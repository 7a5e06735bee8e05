"""Report drafts: the nine items filled from the case, 調査中 when unknown, a notice naming nobody."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from leakline import process
from leakline.config import Organization
from leakline.process.reports import KINDS, ReportError, draft

TOKYO = ZoneInfo("Asia/Tokyo")
ORG = Organization(name="株式会社リークライン", privacy_mark=True, report_to="個人情報保護委員会")
NOW = datetime(2026, 3, 6, 9, 0, tzinfo=TOKYO)
TEXT = ("総務課の佐藤花子です。委託元である株式会社サンプル商事からお預かりした顧客約1,200名分の氏名・住所・病歴を"
        "含むUSBメモリを紛失しました。暗号化はしていません。秘密の合言葉はアオゾラ。")
ITEMS = ["1. ", "2. ", "3. ", "4. ", "5. ", "6. ", "7. ", "8. ", "9. "]


def make_case(closing=()):
    case = {"id": "INC-2026-0001", "status": "open", "reporter": "hanako.sato@example.com",
            "reporter_name": "佐藤花子", "subject": "USBメモリ紛失（佐藤）", "received_at": "2026-03-05T18:03:00+09:00",
            "facts": {}, "messages": [{"from": "hanako.sato@example.com", "from_name": "佐藤花子", "text": TEXT}]}
    case, _ = process.apply_extraction(case, TEXT, case["subject"], NOW)
    case, _ = process.reassess(case, org=ORG, tz=TOKYO, now=NOW)
    for phase, step, note in closing:
        case = process.close(case, phase, step, by="boss@example.com", at=NOW, note=note, org=ORG, tz=TOKYO,
                             now=NOW)
    return case


def render(case, kind, lang):
    return draft(case, kind, lang, org_name=ORG.name, report_to=ORG.report_to)


def headings(text):
    return [line[:3] for line in text.splitlines() if line[:1].isdigit() and line[1:3] == ". "]


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "persons-notice"])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_reports_carry_the_nine_items(kind, lang):
    assert headings(render(make_case(), kind, lang)) == ITEMS


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_persons_notice_carries_items_1_2_4_5_9(lang):
    assert headings(render(make_case(), "persons-notice", lang)) == ["1. ", "2. ", "4. ", "5. ", "9. "]


def test_a_preliminary_report_is_filled_from_the_case_and_says_under_investigation():
    text = render(make_case(), "ppc-preliminary", "ja")
    assert "宛先: 個人情報保護委員会" in text and "報告者: 株式会社リークライン" in text
    assert "2026年3月5日、紛失により" in text
    assert "氏名、住所、病歴・健康診断結果等" in text and "約1,200人" in text
    assert "紛失（詳細は調査中）" in text and "要配慮個人情報が第三者に知られるおそれ" in text
    assert text.count("調査中") >= 4 and "【要記入】" not in text
    assert "委託元: 株式会社サンプル商事" in text and "T1、T4" in text
    assert "under investigation" in render(make_case(), "ppc-preliminary", "en")


def test_a_final_report_uses_the_notes_of_the_phases():
    case = make_case(closing=[
        ("containment", None, "駅と警察に遺失届を提出"),
        ("publication", "notice", "3月7日に当社ウェブサイトで公表"),
        ("prevention", "facts", "USBメモリを持ち出し、電車内に置き忘れた"),
        ("prevention", "cause", "持ち出し時の暗号化ルールが守られていなかった"),
        ("prevention", "measures", "暗号化USB以外への書き出しを禁止する"),
    ])
    text = render(case, "ppc-final", "ja")
    assert "持ち出し時の暗号化ルールが守られていなかった" in text
    assert "3月7日に当社ウェブサイトで公表" in text
    assert "- 再発防止策: 暗号化USB以外への書き出しを禁止する" in text
    assert "- 被害拡大防止の措置: 駅と警察に遺失届を提出" in text
    assert "未実施（実施予定）" in text  # persons not yet notified
    assert "調査中" not in text.replace("【要記入】", "")  # a final report does not say "under investigation"


def test_the_client_notice_is_addressed_to_the_client():
    assert "宛先: 株式会社サンプル商事 ご担当者様" in render(make_case(), "client-notice", "ja")
    assert "To: 株式会社サンプル商事" in render(make_case(), "client-notice", "en")


def test_the_review_body_draft_is_final_once_the_preliminary_is_done():
    case = make_case(closing=[("authorities", "review_body_preliminary", "速報をポータルで提出")])
    assert "（確報）" in render(case, "review-body", "ja")
    assert "（速報）" in render(make_case(), "review-body", "ja")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_persons_notice_identifies_nobody(lang):
    case = make_case(closing=[
        ("containment", None, "佐藤花子が駅に遺失届を提出"),
        ("prevention", "facts", "佐藤花子がUSBを電車に置き忘れた"),
        ("prevention", "cause", "佐藤花子が持ち出しルールを守らなかった"),
    ])
    text = render(case, "persons-notice", lang)
    for secret in ("佐藤", "花子", "hanako", "example.com", "サンプル商事", "アオゾラ", "INC-2026-0001", "1,200"):
        assert secret not in text
    assert ORG.name in text  # the company itself is named, and the data items are listed
    assert ("病歴" if lang == "ja" else "medical history") in text


def test_unknown_kind_or_language_is_refused():
    with pytest.raises(ReportError, match="^unknown report kind 'press-release'"):
        render(make_case(), "press-release", "ja")
    with pytest.raises(ReportError, match="^unknown language 'fr'"):
        render(make_case(), "ppc-final", "fr")


def test_a_case_with_no_facts_still_drafts():
    case = {"id": "INC-2026-0002", "received_at": "2026-03-05T18:03:00+09:00", "facts": {}}
    case, _ = process.reassess(case, org=ORG, tz=TOKYO, now=NOW)
    text = render(case, "ppc-preliminary", "ja")
    assert headings(text) == ITEMS and "2026年3月5日、（事案の区分は調査中）" in text
