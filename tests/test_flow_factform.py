"""The fact form answered by reply, through the real wiring: facts, reassessment, one ack, alerts."""

from __future__ import annotations

import pytest

from conftest import make_config
from test_flow_harness import (BOSS, OFFICER, REPORTER, REPORTER_FROM, Clock, Flow, outgoing,
                               quoted, reply_to, report, to_addr)


@pytest.fixture
def flow(tmp_path) -> Flow:
    return Flow(make_config(tmp_path / "data"), Clock())


def guidance_of(flow: Flow):
    sent = flow.run(report())
    (guidance,) = to_addr(sent, REPORTER)
    assert "\n人数: " in guidance.text and "\n暗号化: \n" in guidance.text  # the form travels, pre-filled
    return guidance


def gmail_style(guidance, own: str) -> str:
    return (f"{own}\n\n2026年11月26日(木) 10:00 テスト株式会社 <incident@example.com>:\n\n"
            f"{quoted(guidance.text)}\n")


def outlook_style(guidance, own: str) -> str:
    return (f"{own}\n\n-----Original Message-----\nFrom: テスト株式会社 <incident@example.com>\n"
            f"Sent: Thursday, November 26, 2026 10:00 AM\nTo: {REPORTER}\n"
            f"Subject: {guidance.subject}\n\n{guidance.text}\n")


FILLED = "病歴も入っていました。\n\n人数: 約120名\n漏えいした情報: 氏名、病歴\n"


@pytest.mark.parametrize("style", [gmail_style, outlook_style])
def test_a_filled_form_updates_the_facts_reassesses_and_is_acknowledged_once(flow, style):
    guidance = guidance_of(flow)
    case_id = flow.case()["id"]
    assert flow.case()["assessment"]["ppc_report_required"] is None  # undetermined until facts come (issue 10)
    flow.clock.advance(minutes=15)
    answer = reply_to(guidance, style(guidance, FILLED), sender=REPORTER_FROM,
                      message_id="<form-1@sales.example.com>")
    sent = flow.run(answer)

    case = flow.case(case_id)
    assert case["facts"]["persons"]["value"] == 120 and case["facts"]["persons"]["source"] == "reply"
    assert case["facts"]["persons_estimated"]["value"] is True
    assert case["facts"]["data_items"]["source"] == "reply"
    assert case["facts"]["data_items"]["value"] == ["name", "medical"]
    assert case["facts"]["data_items"]["by"] == REPORTER
    assert case["assessment"]["triggers"] == ["T1"]
    assert case["assessment"]["ppc_report_required"] is True

    (ack,) = to_addr(sent, REPORTER)
    assert str(ack.msg["In-Reply-To"]) == "<form-1@sales.example.com>"
    assert str(ack.msg["Auto-Submitted"]) == "auto-replied" and ack.envelope_from == ""
    assert f"[{case_id}]" in ack.subject and "更新: 漏えいした情報、人数\n" in ack.text

    # The report became required: the privacy officer is told at once, the supervisor is not.
    (alert,) = to_addr(sent, OFFICER)
    assert "新たに必要になりました: 速報(個人情報保護委員会等への報告)" in alert.text  # issue 12: in Japanese
    assert f"[{case_id}]" in alert.subject
    assert to_addr(sent, BOSS) == []
    assert {"facts_changed", "assessed"} <= set(flow.actions(case_id))

    # The same answers again (a resend, a second reply): nothing changed, nothing sent.
    flow.clock.advance(minutes=5)
    again = reply_to(guidance, style(guidance, FILLED), sender=REPORTER_FROM,
                     message_id="<form-2@sales.example.com>")
    assert flow.run(again) == []
    flow.receive(answer)  # and the first one delivered twice
    assert flow.run() == []
    assert len(outgoing(flow.case(case_id), "ack")) == 1


@pytest.mark.parametrize("style", [gmail_style, outlook_style])
def test_a_reply_quoting_the_untouched_form_changes_nothing(flow, style):
    guidance = guidance_of(flow)
    before = flow.case()
    answer = reply_to(guidance, style(guidance, "確認しました。上長にも伝えました。"),
                      sender=REPORTER_FROM, message_id="<thanks-1@sales.example.com>")
    # Issue 12: every follow-up from the reporter gets a short answer; this one recorded nothing.
    (reply,) = flow.run(answer)
    assert reply.to == [REPORTER] and "内容は担当者が確認します" in reply.text and "更新:" not in reply.text
    after = flow.case(before["id"])
    assert after["facts"] == before["facts"]
    assert after["assessment"] == before["assessment"]
    assert len([m for m in after["messages"] if m["direction"] == "in"]) == 2  # stored, though


def test_the_reporter_and_the_ack_do_not_reply_to_each_other(flow):
    """Ten rounds of the reporter answering our latest mail with the same quoted form: one ack."""
    latest = guidance_of(flow)
    for n in range(10):
        flow.clock.advance(minutes=1)
        sent = flow.run(reply_to(latest, gmail_style(latest, FILLED), sender=REPORTER_FROM,
                                 message_id=f"<round-{n}@sales.example.com>"))
        mine = to_addr(sent, REPORTER)
        latest = mine[0] if mine else latest
    assert len(outgoing(flow.case(), "ack")) == 1


def test_a_later_answer_that_changes_a_fact_is_acknowledged_again(flow):
    guidance = guidance_of(flow)
    flow.run(reply_to(guidance, "人数: 約120名\n", sender=REPORTER_FROM, message_id="<f1@sales.example.com>"))
    flow.clock.advance(minutes=30)
    sent = flow.run(reply_to(guidance, "暗号化: なし\n委託元: なし\n", sender=REPORTER_FROM,
                             message_id="<f2@sales.example.com>"))
    (ack,) = to_addr(sent, REPORTER)
    assert "暗号化" in ack.text
    case = flow.case()
    assert case["facts"]["encrypted"]["value"] is False
    assert case["facts"]["entrusted"]["value"] is False
    assert len(outgoing(case, "ack")) == 2
    assert to_addr(sent, OFFICER) == []  # nothing became required


def test_an_auto_reply_gets_no_ack_and_a_managers_answers_are_not_the_reporters_facts(flow):
    guidance = guidance_of(flow)
    # An auto-reply that happens to carry form answers: facts may be read, but never answered.
    auto = reply_to(guidance, "人数: 約120名\n", sender=REPORTER_FROM,
                    extra=("Auto-Submitted: auto-replied",), message_id="<auto-1@sales.example.com>")
    assert to_addr(flow.run(auto), REPORTER) == []
    # A manager's answers on the thread are not taken as the reporter's facts.
    flow.run(reply_to(guidance, "漏えいした情報: 氏名、カード番号\n", sender=BOSS,
                      message_id="<mgr-1@example.com>"))
    assert flow.case()["facts"]["data_items"]["source"] == "extracted"


def test_the_newly_required_alert_does_not_claim_an_acknowledged_case_is_unacknowledged(flow):
    guidance = guidance_of(flow)
    case_id = flow.case()["id"]
    flow.store.update(case_id, lambda case: flow.app.responder.acknowledge(case, OFFICER, "cli"))
    sent = flow.run(reply_to(guidance, FILLED, sender=REPORTER_FROM, message_id="<f@sales.example.com>"))
    (alert,) = to_addr(sent, OFFICER)
    assert "未対応" not in alert.subject and "まだ受領確認がありません" not in alert.text


def test_an_english_report_gets_english_guidance_and_its_english_answers_are_read(flow):
    body = ("I sent an email with a spreadsheet of customer names and phone numbers to the wrong "
            "client this morning. I noticed it a few minutes ago.\n")
    sent = flow.run(report("Email sent to the wrong address", body, sender="John Smith <john@example.com>",
                           message_id="<en-1@example.com>"))
    (guidance,) = to_addr(sent, "john@example.com")
    assert guidance.subject.startswith(f"[{flow.case()['id']}] Received: ")
    assert "Do not handle it alone" in guidance.text and "一人で対応しない" not in guidance.text
    flow.clock.advance(minutes=20)
    answer = reply_to(guidance, "Persons: about 40\nEncrypted: no\n\n"
                      f"On Thu, 26 Nov 2026 at 10:00, incident@example.com wrote:\n{quoted(guidance.text)}\n",
                      sender="John Smith <john@example.com>", message_id="<en-2@example.com>")
    (ack,) = to_addr(flow.run(answer), "john@example.com")
    case = flow.case()
    assert case["facts"]["persons"]["value"] == 40 and case["facts"]["persons"]["source"] == "reply"
    assert case["facts"]["encrypted"]["value"] is False
    assert "Added to your report" in ack.subject and f"added to case {case['id']}" in ack.text
    assert "Updated: " in ack.text and "persons_estimated" not in ack.text
