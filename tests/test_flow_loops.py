"""Loop and abuse protection through the real wiring: auto-responders, lists, bounces, the window."""

from __future__ import annotations

import pytest

from conftest import make_config
from mailbuilders import plain_mail
from test_flow_harness import (BOSS, OFFICER, REPORTER, REPORTER_FROM, Clock, Flow, outgoing,
                               quoted, reply_to, report, to_addr)


@pytest.fixture
def flow(tmp_path) -> Flow:
    return Flow(make_config(tmp_path / "data"), Clock())


AUTORESPONDERS = {
    # RFC 3834, as Exchange and Gmail answer.
    "auto_submitted": ("Auto-Submitted: auto-replied",),
    # An old-style vacation program.
    "vacation": ("X-Autoreply: yes", "Precedence: auto_reply"),
    # A program that marks nothing at all and quotes what it answers.
    "unmarked": (),
    # A ticket system that marks nothing and echoes what it got, unquoted, form and all.
    "echo": (),
}


def autoreply(sent, style: str) -> bytes:
    (address,) = sent.to
    if style == "echo":
        body = f"以下の内容で受け付けました。\n\n{sent.text}\n"
    else:
        body = f"不在にしています。\n\n{sent.msg['Date']}、{sent.msg['From']}:\n{quoted(sent.text)}\n"
    return reply_to(sent, body, sender=address, extra=AUTORESPONDERS[style], prefix="自動応答: ")


@pytest.mark.parametrize("style", sorted(AUTORESPONDERS))
def test_an_autoresponder_answering_every_mail_does_not_start_a_loop(flow, style):
    """The reporter's mailbox answers everything we send, within minutes, for hours."""
    managers = {OFFICER, BOSS}
    inbox = flow.run(report())
    total = len(inbox)
    rounds = []
    for _ in range(6):
        for sent in inbox:
            # Marked auto-replies come from everyone; an unmarked one from a manager would be
            # indistinguishable from a person acknowledging, so only the reporter sends those.
            if style not in ("unmarked", "echo") or not managers & set(sent.to):
                flow.receive(autoreply(sent, style))
        flow.clock.advance(minutes=5)
        inbox = flow.run()
        rounds.append(len(inbox))
        total += len(inbox)
    assert rounds[-3:] == [0, 0, 0], rounds
    # The guidance; an unmarked auto-reply that reads like a person gets the one short answer
    # every follow-up gets (issue 12), its next one repeats itself and gets none.
    answered = 1 if style == "unmarked" else 0
    assert len(to_addr(flow.delivered(), REPORTER)) == 1 + answered
    case = flow.case()
    assert len(flow.case_ids()) == 1  # every auto-reply threaded into the case
    assert len(outgoing(case)) == total == 3 + answered
    if style == "auto_submitted":
        assert case["acks"] == []  # and no out-of-office acknowledged the case


def test_our_own_mail_coming_back_changes_nothing(flow):
    """A mail loop (e.g. a manager's mailbox forwarding to the incident address) returns our
    escalations verbatim, the report's own form answers included in their excerpt."""
    body = "USBメモリを紛失しました。\n人数: 約50名\n漏えいした情報: 氏名、住所\n"
    sent = flow.run(report("USBメモリ紛失", body))
    case_id = flow.case()["id"]
    before = flow.case()
    for mail in sent:
        flow.receive(b"Received: from mx.example.com by mx.example.com\r\n" + mail.raw,
                     mail_from=mail.envelope_from)
    assert flow.run() == []
    after = flow.case(case_id)
    assert after["event_count"] == before["event_count"]
    assert after["facts"] == before["facts"]


SUPPRESSED = {
    "null_sender": ((), ""),
    "mailer_daemon": ((), "MAILER-DAEMON@mx.example.com"),
    # A monitoring system's alert may be a report: auto-generated is no auto-reply.
    "auto_submitted": (("Auto-Submitted: auto-generated",), None),
}


@pytest.mark.parametrize("name", sorted(SUPPRESSED))
def test_machine_marked_mail_is_stored_and_escalated_but_never_answered(flow, name):
    extra, mail_from = SUPPRESSED[name]
    sender = mail_from if mail_from else REPORTER_FROM
    sent = flow.run(report(sender=sender, extra=extra), mail_from=mail_from)
    case = flow.case()
    assert [m["direction"] for m in case["messages"]].count("in") == 1
    assert all(OFFICER in s.to or BOSS in s.to for s in sent)  # managers still hear of it
    assert OFFICER in {a for s in sent for a in s.to}
    assert not [s for s in sent if str(s.msg["Auto-Submitted"]) == "auto-replied"]
    events = flow.store.audit.for_case(case["id"])
    (suppressed,) = [e for e in events if e["action"] == "reply_suppressed"]
    assert suppressed["details"]["reasons"]


MACHINE = {
    # Issue 9: list mail, auto-replies, read receipts and our own mail are kept, not escalated.
    "list": ("List-Id: <staff.example.com>", "List-Unsubscribe: <mailto:leave@example.com>"),
    "bulk": ("Precedence: bulk",),
    "x_loop": ("X-Loop: incident@example.com",),
    "auto_replied": ("Auto-Submitted: auto-replied",),
    "vacation": ("X-Autoreply: yes",),
}


@pytest.mark.parametrize("name", sorted(MACHINE))
def test_machine_mail_referencing_no_case_is_kept_apart_and_never_escalated(flow, name):
    raw = report(extra=MACHINE[name])
    assert flow.run(raw) == []
    assert flow.case_ids() == []
    (kept,) = list(flow.store.machine_mail().records())
    assert kept["kind"] == "machine" and kept["machine"]
    assert flow.store.raw_path(kept["raw"]).read_bytes() == raw
    flow.clock.advance(minutes=120)
    flow.tick()
    assert flow.run() == []


def dsn(original_id: str, recipient: str) -> bytes:
    boundary = "dsn-boundary-1"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.sales.example.com>\r\n"
        "To: incident@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "Message-ID: <dsn-1@mx.sales.example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"<{recipient}>: host mx said: 550 5.1.1 User unknown\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.sales.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        f"Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: User unknown\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: incident@example.com\r\nTo: {recipient}\r\nMessage-ID: {original_id}\r\n\r\n"
        f"--{boundary}--\r\n").encode()


def test_a_bounce_of_our_guidance_marks_the_case_and_is_never_answered(flow):
    sent = flow.run(report())
    (guidance,) = to_addr(sent, REPORTER)
    flow.clock.advance(minutes=2)
    assert flow.run(dsn(guidance.message_id, REPORTER), mail_from="") == []

    (case_id,) = flow.case_ids()  # joined its case, no case of its own
    case = flow.case(case_id)
    assert "delivery_failed" in case["flags"]
    (record,) = outgoing(case, "guidance")
    assert record["status"] == "bounced" and "User unknown" in record["error"]
    bounce = next(m for m in case["messages"] if m["kind"] == "bounce")
    assert bounce["direction"] == "in"
    assert "mail_bounced" in flow.actions(case_id)

    flow.receive(dsn(guidance.message_id, REPORTER), mail_from="")  # the same DSN again
    assert flow.run() == []
    assert flow.actions(case_id).count("mail_bounced") == 1
    # The escalation goes on: a reporter we cannot reach is no reason to stop telling managers.
    flow.clock.advance(minutes=60)
    flow.tick()
    assert flow.run() != []


def test_a_bounce_matching_no_case_is_kept_and_not_escalated(flow):
    assert flow.run(dsn("<unknown-1@elsewhere.example>", "nobody@example.com"), mail_from="") == []
    case = flow.case()
    assert {"bounce", "delivery_failed"} <= set(case["flags"])
    flow.clock.advance(minutes=120)
    flow.tick()
    assert flow.run() == []


def test_a_failed_reaction_does_not_cost_the_reporter_the_guidance(flow):
    """The outbox cannot be written (disk trouble): the message is processed again later, and
    the reporter still gets the guidance, once."""
    table = flow.app.outbox.root / "outbox.sqlite"
    table.mkdir(parents=True)  # a folder where the outbox's table should be
    flow.receive(report())
    flow.drain()
    assert flow.app.spool.segments()  # kept for another try
    table.rmdir()
    flow.clock.advance(seconds=30)
    sent = flow.run()
    assert len(to_addr(sent, REPORTER)) == 1
    assert not flow.app.spool.segments()
    flow.receive(report())  # and a resend of the same report changes nothing
    assert flow.run() == []


@pytest.mark.parametrize("sender", [
    "taro <ta ro@example.com>",  # a broken mailer's From
    "たろう@example.com",  # an SMTPUTF8 mailbox
    "taro..docomo.@docomo.ne.jp",  # a legacy Japanese mobile address (not RFC 5322)
    "taro@例え.jp",  # 8-bit bytes in the header, as sent
])
def test_a_sender_we_cannot_answer_is_still_assessed_and_escalated(flow, sender):
    """An address compose() cannot write must cost the reporter the reply, never the case."""
    raw = plain_mail("USBメモリ紛失", "顧客30名分の名簿が入ったUSBメモリを紛失しました。",
                     sender=sender, message_id="<odd-1@example.net>")
    sent = flow.run(raw, mail_from="bounce@example.net")
    assert not flow.app.spool.segments() and not list(flow.app.spool.shunt.iterdir())
    case = flow.case()
    assert case["category"] == "loss" and case["deadlines"]
    assert to_addr(sent, OFFICER)
    assert "reply_suppressed" in flow.actions(case["id"]) or len(outgoing(case)) == 2
