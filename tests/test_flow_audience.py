"""Who may see case data, through the real wiring: outsiders and spoofed senders get no details."""

from __future__ import annotations

import pytest

from conftest import make_config
from test_flow_harness import (BOSS, OFFICER, REPORTER, Clock, Flow, outgoing, reply_to, report,
                               to_addr)

CUSTOMER = "suzuki@customer.example.net"
SUBJECT = "御社からのメールに他人の個人情報が"
BODY = "御社から届いたメールに、別のお客様の氏名と住所が書かれた請求書が添付されていました。\n"
SPOOF = ("Authentication-Results: mx.example.com; spf=fail smtp.mailfrom=example.com; "
         "dmarc=fail header.from=example.com")


def no_case_details(sent, case: dict) -> None:
    """Nothing of the case: no id, no subject echo, no category, no steps, no form, no names."""
    for part in (sent.subject, sent.text, sent.html, sent.raw.decode("utf-8", "replace")):
        assert case["id"] not in part
        assert "INC-" not in part
    for leaked in (SUBJECT, "請求書", "メール誤送信", "誤送信先", "一人で対応しない", "人数",
                   "個人情報保護管理者", "上長", "営業部長"):
        assert leaked not in sent.text and leaked not in sent.html and leaked not in sent.subject
    assert "X-Leakline-Case" not in sent.msg
    assert str(sent.msg["Auto-Submitted"]) == "auto-replied"
    assert sent.envelope_from == ""


def test_an_outsider_gets_a_minimal_receipt_and_the_case_is_escalated(tmp_path):
    flow = Flow(make_config(tmp_path / "data"), Clock())
    sent = flow.run(report(SUBJECT, BODY, sender=f"鈴木 <{CUSTOMER}>",
                           message_id="<c1@customer.example.net>"))
    case = flow.case()
    assert "external" in case["flags"]
    assert case["assessment"] and "assessed" in flow.actions(case["id"])  # assessed as usual

    (receipt,) = to_addr(sent, CUSTOMER)
    no_case_details(receipt, case)
    assert "受信" in receipt.text
    (record,) = outgoing(case, "receipt")
    assert record["to"] == [CUSTOMER]

    (escalation,) = to_addr(sent, OFFICER)  # the customer is covered by no supervisor
    assert to_addr(sent, BOSS) == []
    assert f"[{case['id']}]" in escalation.subject
    assert "社外のアドレス" in escalation.text and CUSTOMER in escalation.text

    # The outsider writes again, on the receipt's thread: stored, never answered, no facts taken.
    follow = reply_to(receipt, "人数: 約3000名\n漏えいした情報: 氏名、カード番号\n",
                      sender=CUSTOMER, message_id="<c2@customer.example.net>")
    assert flow.run(follow) == []
    after = flow.case(case["id"])
    assert len([m for m in after["messages"] if m["direction"] == "in"]) == 2
    assert after["facts"] == case["facts"]


def test_no_receipt_when_external_receipt_is_off(tmp_path):
    flow = Flow(make_config(tmp_path / "data", escalation={"external_receipt": False}), Clock())
    sent = flow.run(report(SUBJECT, BODY, sender=CUSTOMER, message_id="<c1@customer.example.net>"))
    assert to_addr(sent, CUSTOMER) == []
    assert to_addr(sent, OFFICER)
    case = flow.case()
    assert "external" in case["flags"]
    assert [m["kind"] for m in outgoing(case)] == ["escalation"]
    assert "reply_suppressed" in flow.actions(case["id"])


def test_a_spoofed_internal_sender_is_treated_as_outside(tmp_path):
    flow = Flow(make_config(tmp_path / "data"), Clock())
    sent = flow.run(report(extra=(SPOOF,), message_id="<spoof-1@evil.example>"),
                    mail_from="bounce@evil.example")
    case = flow.case()
    assert {"external", "spoof_suspected"} <= set(case["flags"])
    (receipt,) = to_addr(sent, REPORTER)  # a receipt, to the address the mail claims
    assert case["id"] not in receipt.subject + receipt.text
    assert "一人で対応しない" not in receipt.text
    assert outgoing(case, "guidance") == []
    (escalation,) = to_addr(sent, OFFICER)
    assert "なりすまし" in escalation.text


def test_a_spoofed_report_does_not_use_up_the_real_senders_guidance(tmp_path):
    """A forged mail in someone's name must not keep the real person's guidance from them."""
    flow = Flow(make_config(tmp_path / "data"), Clock())
    flow.run(report(extra=(SPOOF,), message_id="<spoof-1@evil.example>"), mail_from="x@evil.example")
    flow.clock.advance(minutes=5)
    sent = flow.run(report("本物の報告", "USBメモリを紛失しました。", message_id="<real-1@sales.example.com>"))
    (guidance,) = to_addr(sent, REPORTER)
    assert "一人で対応しない" in guidance.text


@pytest.mark.parametrize("results", [
    "mx.example.com; dkim=fail header.d=example.com",
    "mx.example.com; spf=softfail smtp.mailfrom=taro@sales.example.com",
])
def test_other_failed_checks_for_our_domain_are_spoof_suspected(tmp_path, results):
    flow = Flow(make_config(tmp_path / "data"), Clock())
    sent = flow.run(report(extra=(f"Authentication-Results: {results}",)))
    assert "spoof_suspected" in flow.case()["flags"]
    assert all("一人で対応しない" not in s.text for s in to_addr(sent, REPORTER))


def test_a_passing_check_leaves_an_internal_sender_inside(tmp_path):
    flow = Flow(make_config(tmp_path / "data"), Clock())
    sent = flow.run(report(extra=("Authentication-Results: mx.example.com; spf=pass "
                                  "smtp.mailfrom=example.com; dmarc=pass header.from=example.com",)))
    assert flow.case()["flags"] == []
    (guidance,) = to_addr(sent, REPORTER)
    assert flow.case()["id"] in guidance.subject
