"""The reporter's side through the real wiring (issue 12): every new case gets its guidance,
every follow-up a short answer (never to a program or an outsider), what was held back is told
to the managers, and mail on a closed case reaches the privacy officer."""

from __future__ import annotations

import pytest

from conftest import make_config
from mailbuilders import plain_mail
from leakline.responders.replies import ANSWERS_PER_CASE, GUIDANCE_BURST
from test_flow_harness import (BOSS, OFFICER, REPORTER, REPORTER_FROM, Clock, Flow, outgoing,
                               reply_to, report, to_addr)

CUSTOMER = "suzuki@customer.example.net"


@pytest.fixture
def flow(tmp_path) -> Flow:
    return Flow(make_config(tmp_path / "data"), Clock())


def reply_line(sent) -> str:
    (line,) = [x for x in sent.text.splitlines() if x.startswith("報告者への返信: ")]
    return line


# -- a new case always gets its guidance --------------------------------------------------------

def test_a_second_incident_within_the_window_gets_its_guidance(flow):
    first = flow.run(report(message_id="<w1@sales.example.com>"))
    assert len(to_addr(first, REPORTER)) == 1
    flow.clock.advance(minutes=10)
    second = flow.run(report("別件: FAX誤送信", "FAXを別の会社に送ってしまいました。",
                             message_id="<w2@sales.example.com>"))
    (guidance,) = to_addr(second, REPORTER)
    case_id = flow.case_ids()[1]
    assert f"[{case_id}]" in guidance.subject and "FAX" in guidance.text
    (escalation,) = to_addr(second, OFFICER)
    assert reply_line(escalation) == "報告者への返信: 手順と記入フォームを送りました"
    assert flow.case(case_id)["reporter_reply"] == {"kind": "guidance", "held": None, "detail": ""}


def test_a_mail_loop_opening_case_after_case_is_held_and_the_escalation_says_so(flow):
    """A program that answers every guidance with a fresh mail (no headers, no subject tag) opens
    a case each time; past GUIDANCE_BURST within the window it gets no more guidance."""
    for n in range(GUIDANCE_BURST):
        sent = flow.run(report(f"報告{n}", "書類を紛失しました。", message_id=f"<l{n}@sales.example.com>"))
        assert len(to_addr(sent, REPORTER)) == 1
        flow.clock.advance(minutes=1)
    sent = flow.run(report("報告X", "書類を紛失しました。", message_id="<lx@sales.example.com>"))
    assert to_addr(sent, REPORTER) == []
    (escalation,) = to_addr(sent, OFFICER)
    assert "同じ送信者からの新しい報告が60分以内に続いたため(メールのループ防止)" in reply_line(escalation)
    flow.clock.advance(minutes=60)
    assert len(to_addr(flow.run(report("報告Y", "USBを紛失しました。", message_id="<ly@sales.example.com>")),
                       REPORTER)) == 1


def test_an_outsider_gets_one_receipt_a_window_and_the_escalation_says_why_not_more(flow):
    body = "御社から届いたメールに、別のお客様の氏名と住所が書かれていました。\n"
    sent = flow.run(report("お知らせ", body, sender=CUSTOMER, message_id="<c1@customer.example.net>"))
    (receipt,) = to_addr(sent, CUSTOMER)
    assert "受付の通知のみ送りました" in reply_line(to_addr(sent, OFFICER)[0])
    flow.clock.advance(minutes=5)
    sent = flow.run(report("別件", body, sender=CUSTOMER, message_id="<c2@customer.example.net>"))
    assert to_addr(sent, CUSTOMER) == []  # a forged flood must not make us mail a victim
    assert "同じ送信者に60分以内に受付通知を送ったため" in reply_line(to_addr(sent, OFFICER)[0])


def test_with_receipts_off_an_outsider_gets_nothing_and_the_escalation_says_why(tmp_path):
    flow = Flow(make_config(tmp_path / "data", escalation={"external_receipt": False}), Clock())
    sent = flow.run(report("お知らせ", "御社のメールに他人の住所がありました。\n", sender=CUSTOMER,
                           message_id="<c1@customer.example.net>"))
    assert to_addr(sent, CUSTOMER) == []
    assert reply_line(to_addr(sent, OFFICER)[0]) == ("報告者への返信: 送っていません(社外または送信元を確認できない"
                                                     "送信者で、受付通知を送らない設定のため)")


@pytest.mark.parametrize("extra, mail_from, said", [
    (("Auto-Submitted: auto-generated",), None, "自動送信のメール"),
    ((), "", "自動送信のメール"),  # the null envelope sender
])
def test_a_report_written_by_a_program_is_escalated_saying_nobody_was_answered(flow, extra, mail_from, said):
    sent = flow.run(report(extra=extra), mail_from=mail_from)
    assert to_addr(sent, REPORTER) == []
    line = reply_line(to_addr(sent, OFFICER)[0])
    assert line.startswith("報告者への返信: 送っていません(") and said in line


def test_a_from_naming_nobody_is_escalated_saying_so(flow):
    raw = plain_mail("USB紛失", "USBメモリを紛失しました。", sender="a@example.com, b@example.com",
                     message_id="<two@example.com>")
    sent = flow.run(raw, mail_from="a@example.com")
    assert "差出人(From)が一つのアドレスに定まらないため" in reply_line(to_addr(sent, OFFICER)[0])


# -- every follow-up from the reporter gets a short answer ----------------------------------------

def guidance_of(flow: Flow):
    (guidance,) = to_addr(flow.run(report()), REPORTER)
    flow.clock.advance(minutes=5)
    return guidance


def test_a_follow_up_with_nothing_to_record_is_answered_that_a_person_will_review_it(flow):
    guidance = guidance_of(flow)
    mail = reply_to(guidance, "先方の担当者にも電話しました。", sender=REPORTER_FROM,
                    message_id="<f1@sales.example.com>")
    (answer,) = flow.run(mail)
    assert answer.to == [REPORTER] and "内容は担当者が確認します" in answer.text
    assert f"[{flow.case()['id']}]" in answer.subject
    assert str(answer.msg["In-Reply-To"]) == "<f1@sales.example.com>" and answer.envelope_from == ""
    # Delivered again, or re-processed after a crash: the same message is never answered twice.
    flow.receive(mail)
    assert flow.run() == []
    assert len(outgoing(flow.case(), "ack")) == 1


def test_a_follow_up_that_records_facts_says_what(flow):
    guidance = guidance_of(flow)
    (answer,) = to_addr(flow.run(reply_to(guidance, "人数: 約300名\n", sender=REPORTER_FROM,
                                          message_id="<f2@sales.example.com>")), REPORTER)
    assert "更新: 人数" in answer.text and "担当者が確認します" not in answer.text


def test_a_new_mail_with_the_case_id_in_the_subject_is_answered_too(flow):
    guidance_of(flow)
    case_id = flow.case()["id"]
    sent = flow.run(plain_mail(f"【{case_id}】写真を送ります", "現場の写真です。", sender=REPORTER_FROM,
                               message_id="<f3@sales.example.com>"))
    (answer,) = sent
    assert answer.to == [REPORTER] and "内容は担当者が確認します" in answer.text


def test_no_answer_to_a_program_a_colleague_or_an_outsider(flow):
    guidance = guidance_of(flow)
    vacation = reply_to(guidance, "不在です。", sender=REPORTER_FROM, extra=("Auto-Submitted: auto-replied",),
                        message_id="<a1@sales.example.com>")
    assert flow.run(vacation) == []  # machine mail: stored, never reacted to
    program = reply_to(guidance, "監視システムからの通知です。", sender=REPORTER_FROM,
                       extra=("Auto-Submitted: auto-generated",), message_id="<a2@sales.example.com>")
    assert flow.run(program) == []
    colleague = reply_to(guidance, "私も見ました。", sender="hanako@example.com", message_id="<h1@example.com>")
    assert flow.run(colleague) == []
    outsider = reply_to(guidance, "件名の番号を見て書いています。", sender="x@attacker.example",
                        message_id="<x1@attacker.example>")
    assert flow.run(outsider, peer="203.0.113.7") == []
    held = [e["details"]["held"] for e in flow.store.audit.for_case(flow.case()["id"])
            if e["action"] == "reply_suppressed"]
    assert held == ["machine", "not_reporter", "not_reporter"]


def test_an_outside_reporter_gets_a_receipt_for_a_follow_up_once_a_window(flow):
    sent = flow.run(report("お知らせ", "御社のメールに他人の住所がありました。\n", sender=CUSTOMER,
                           message_id="<c1@customer.example.net>"))
    (receipt,) = to_addr(sent, CUSTOMER)
    flow.clock.advance(minutes=61)
    (again,) = flow.run(reply_to(receipt, "写真もあります。", sender=CUSTOMER, message_id="<c2@customer.example.net>"))
    assert again.to == [CUSTOMER] and flow.case()["id"] not in again.subject + again.text
    assert flow.run(reply_to(receipt, "もう一枚。", sender=CUSTOMER, message_id="<c3@customer.example.net>")) == []


def test_answers_on_one_case_are_bounded_within_a_window(flow):
    guidance = guidance_of(flow)
    answered = 0
    for n in range(ANSWERS_PER_CASE + 2):
        answered += len(flow.run(reply_to(guidance, f"追加の連絡 {n} です。", sender=REPORTER_FROM,
                                          message_id=f"<n{n}@sales.example.com>")))
    assert answered == ANSWERS_PER_CASE
    flow.clock.advance(minutes=61)
    assert len(flow.run(reply_to(guidance, "さらに追加です。", sender=REPORTER_FROM,
                                 message_id="<later@sales.example.com>"))) == 1


# -- follow-ups on a closed case ------------------------------------------------------------

def close(flow: Flow, case_id: str) -> None:
    def closing(case: dict) -> list[dict]:
        case.update(status="closed", closed_at=flow.clock().isoformat())
        return [{"action": "case_closed", "actor": OFFICER, "details": {}}]
    flow.store.update(case_id, closing)


def test_a_follow_up_on_a_closed_case_reaches_the_privacy_officer_and_marks_it_updated(flow):
    guidance = guidance_of(flow)
    case_id = flow.case()["id"]
    close(flow, case_id)
    flow.clock.advance(days=3)
    sent = flow.run(reply_to(guidance, "先方から、転送してしまったとの連絡がありました。", sender=REPORTER_FROM,
                             message_id="<late-1@sales.example.com>"))
    (alert,) = to_addr(sent, OFFICER)
    assert alert.subject.startswith(f"[{case_id}] 【終了した案件に連絡あり】")
    assert "転送してしまった" in alert.text and f"差出人: {REPORTER}" in alert.text
    assert f"leakline cases show {case_id}" in alert.text
    assert to_addr(sent, BOSS) == []
    (answer,) = to_addr(sent, REPORTER)
    assert "内容は担当者が確認します" in answer.text
    case = flow.case(case_id)
    assert case["status"] == "closed" and case["updated"]["reason"] == "follow-up on a closed case"
    assert "marked_updated" in flow.actions(case_id)
    # The table's deferring rule and the one that decided, both in the message's audit event.
    event = [e for e in flow.store.audit.for_case(case_id) if e["action"] == "message_received"][-1]
    assert event["details"]["rules"][0] == f"closed_case: {case_id} is closed"
    assert event["details"]["disposition"] == "fact_reply" and len(event["details"]["rules"]) == 2

    # A second one within the window: on the audit trail and the marker, no second mail.
    flow.clock.advance(minutes=10)
    sent = flow.run(reply_to(guidance, "もう一点あります。", sender=REPORTER_FROM, message_id="<late-2@sales.example.com>"))
    assert to_addr(sent, OFFICER) == []
    assert flow.actions(case_id).count("marked_updated") == 2
    flow.clock.advance(minutes=61)
    sent = flow.run(reply_to(guidance, "さらに一点。", sender=REPORTER_FROM, message_id="<late-3@sales.example.com>"))
    assert len(to_addr(sent, OFFICER)) == 1
