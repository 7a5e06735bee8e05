"""Review of issue 13: a key that names a case which is gone or unreadable never lends its id.

Before units of work a crash could leave a message's claims without its case; intake resumed
into the case id claimed then. A claim naming a quarantined case, a damaged case file or no case
id at all must not become the id of a new case (ids are never reused) nor stop the message.
"""

import hashlib

import pytest

from conftest import cli
from mailbuilders import plain_mail
from test_store_heal import spool_reports

ENVELOPE = {"mail_from": "hanako@example.com", "rcpt_tos": ["incident@example.com"],
            "received_at": "2026-11-26T01:00:00+00:00"}


def report():
    return plain_mail("名簿の誤送信", "顧客名簿を誤送信しました", sender="hanako@example.com",
                      message_id="<resumed@example.com>")


def claim_raw(app, raw: bytes, case_id: str) -> None:
    app.store.put_key(f"raw:{hashlib.sha256(raw).hexdigest()}", case_id)


def new_cases(app, before: set[str]) -> list[str]:
    return sorted({row["id"] for row in app.store.summaries("all")} - before)


def test_a_claim_naming_a_quarantined_case_does_not_lend_it_its_id(cli_app):
    spool_reports(cli_app, 2)
    cli_app.store._case_path("INC-2026-0002").write_bytes(b"{trunc")
    assert cli(cli_app, "store", "check", "--repair").exit_code == 0
    raw = report()
    claim_raw(cli_app, raw, "INC-2026-0002")
    before = {row["id"] for row in cli_app.store.summaries("all")}
    cli_app.spool.write([(raw, ENVELOPE)])
    assert cli_app.pipeline.drain() == 1
    assert new_cases(cli_app, before) == ["INC-2026-0003"]
    case = cli_app.store.get("INC-2026-0003")
    assert case["messages"][0]["message_id"] == "<resumed@example.com>"
    # The claim now names the case that holds the message: a resend is found there.
    cli_app.spool.write([(raw, ENVELOPE)])
    cli_app.pipeline.drain()
    assert new_cases(cli_app, before) == ["INC-2026-0003"]


@pytest.mark.parametrize("junk", ["not a case", "../../etc/passwd", "INC-2026-x"])
def test_a_claim_holding_junk_is_ignored(app, junk):
    raw = report()
    claim_raw(app, raw, junk)
    app.spool.write([(raw, ENVELOPE)])
    assert app.pipeline.drain() == 1
    (row,) = app.store.summaries("all")
    assert row["id"] == "INC-2026-0001" and not list(app.spool.shunt.iterdir())


def test_a_claim_naming_a_damaged_case_file_starts_a_case_of_its_own(app):
    spool_reports(app, 1)
    app.store._case_path("INC-2026-0001").write_bytes(b"{damaged")
    raw = report()
    claim_raw(app, raw, "INC-2026-0001")
    app.spool.write([(raw, ENVELOPE)])
    assert app.pipeline.drain() == 1
    case = app.store.get("INC-2026-0002")
    assert case["messages"][0]["message_id"] == "<resumed@example.com>"
    assert not list(app.spool.shunt.iterdir())
