"""Machine mail is kept, not escalated; outsiders' follow-ups are capped and rate-limited.

Through the real wiring: auto-replies, list mail, read receipts (MDNs) and our own mail come
back, each with and without a reference to a case; `cases list --machine`; a flood of
follow-ups from an outsider on a case's tag.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import make_config
from leakline.intake.processor import MAX_UNTRUSTED_TEXT, UNTRUSTED_PER_HOUR
from leakline.cli import main
from mailbuilders import plain_mail
from test_flow_harness import (OFFICER, REPORTER, REPORTER_FROM, Clock, Flow, outgoing, report, reply_to,
                               to_addr)

OUTSIDER = "mallory@attacker.example"


@pytest.fixture
def flow(tmp_path) -> Flow:
    return Flow(make_config(tmp_path / "data"), Clock())


def mdn(original_id: str, *, sender: str = REPORTER) -> bytes:
    boundary = "mdn-1"
    return (f"From: {sender}\r\nTo: incident@example.com\r\nSubject: Read: USB\r\n"
            "Message-ID: <mdn-1@sales.example.com>\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/report; report-type=disposition-notification; boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\nContent-Type: text/plain\r\n\r\nYour message was displayed.\r\n"
            f"--{boundary}\r\nContent-Type: message/disposition-notification\r\n\r\n"
            f"Final-Recipient: rfc822; {sender}\r\nOriginal-Message-ID: {original_id}\r\n"
            "Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n"
            f"--{boundary}--\r\n").encode()


MACHINE = {
    "auto_reply": ("Auto-Submitted: auto-replied",),
    "vacation": ("X-Autoreply: yes", "Precedence: auto_reply"),
    "list": ("List-Id: <all.example.com>",),
    "bulk": ("Precedence: bulk",),
}


@pytest.mark.parametrize("kind", sorted(MACHINE))
def test_machine_mail_on_a_case_is_stored_there_and_changes_nothing(flow, kind):
    sent = flow.run(report())
    (guidance,) = to_addr(sent, REPORTER)
    before = flow.case()
    answer = reply_to(guidance, "人数: 約5000名\n", sender=REPORTER, extra=MACHINE[kind],
                      message_id=f"<{kind}-1@sales.example.com>")
    assert flow.run(answer) == []
    after = flow.case(before["id"])
    machine = [m for m in after["messages"] if m.get("kind") == "machine"]
    assert len(machine) == 1 and machine[0]["machine"]
    assert after["facts"] == before["facts"] and after["acks"] == []


def test_a_read_receipt_joins_its_case_and_is_never_an_ack(flow):
    sent = flow.run(report())
    (escalation,) = to_addr(sent, OFFICER)
    receipt = mdn(escalation.message_id, sender=OFFICER).replace(
        b"MIME-Version", f"In-Reply-To: {escalation.message_id}\r\nMIME-Version".encode())
    assert flow.run(receipt) == []
    case = flow.case()
    assert case["acks"] == [] and [m["kind"] for m in case["messages"] if m["direction"] == "in"] \
        == ["report", "machine"]


def test_machine_mail_of_every_kind_referencing_no_case_is_listed_apart(flow, tmp_path):
    mails = [report(extra=MACHINE["auto_reply"], message_id="<a@sales.example.com>"),
             report(extra=MACHINE["list"], message_id="<b@sales.example.com>"),
             mdn("<unknown@elsewhere.example>")]
    for raw in mails:
        assert flow.run(raw) == []
    # Our own mail come back, from a mailbox that forwards everything (no case to join: its
    # case was purged, say): recognised by the signature in its Message-ID.
    own = flow.app.mailer.ids().stable("INC-2025-0001", "escalate:initial", OFFICER)
    assert flow.run(plain_mail("【要対応】", "本文", sender="someone@example.net", message_id=own)) == []
    assert flow.case_ids() == []
    kept = list(flow.store.machine_mail().records())
    assert len(kept) == 4
    reasons = " ".join(r["machine"][0] for r in kept)
    for rule in ("auto_reply", "list_mail", "read_receipt", "own_mail"):
        assert rule in reasons
    config = tmp_path / "c.toml"
    config.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\n')
    listed = CliRunner().invoke(main, ["--config", str(config), "cases", "list", "--machine", "--json"])
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.output)) == 4
    text = CliRunner().invoke(main, ["--config", str(config), "cases", "list", "--machine"]).output
    assert "read_receipt" in text and "own_mail" in text


def test_a_signed_looking_id_from_elsewhere_is_not_our_own_mail(flow):
    fake = "<aaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbb.leakline@example.com>"
    flow.run(report(message_id=fake))
    assert len(flow.case_ids()) == 1  # a report like any other, escalated


# -- outsiders' follow-ups ------------------------------------------------------------------

def follow_up(case_id: str, n: int, body: str = "追加の情報です。") -> bytes:
    return plain_mail(f"Re: [{case_id}] 件", body, sender=OUTSIDER, message_id=f"<f{n}@attacker.example>")


def test_outsiders_follow_ups_are_rate_limited_per_case_and_still_kept(flow):
    flow.run(report())
    case_id = flow.case()["id"]
    for n in range(UNTRUSTED_PER_HOUR + 2):
        flow.receive(follow_up(case_id, n), peer="203.0.113.7")
    flow.drain()
    case = flow.case(case_id)
    stored = [m for m in case["messages"] if m["direction"] == "in" and m["from"] == OUTSIDER]
    assert len(stored) == UNTRUSTED_PER_HOUR
    assert case["throttled"]["count"] == 2 and "throttled" in case["flags"]
    events = [e for e in flow.store.audit.for_case(case_id) if e["action"] == "message_throttled"]
    assert len(events) == 2
    for event in events:  # the raw of every message past the limit is kept and named
        assert flow.store.raw_path(event["details"]["raw"]).exists()
    flow.receive(follow_up(case_id, UNTRUSTED_PER_HOUR + 1), peer="203.0.113.7")  # a resend
    flow.drain()
    assert flow.case(case_id)["throttled"]["count"] == 2
    flow.clock.advance(minutes=61)
    flow.run(follow_up(case_id, 99), peer="203.0.113.7")
    assert len([m for m in flow.case(case_id)["messages"] if m["from"] == OUTSIDER]) == UNTRUSTED_PER_HOUR + 1


def test_an_outsiders_huge_follow_up_is_capped_in_the_case_and_kept_whole(flow):
    flow.run(report())
    case_id = flow.case()["id"]
    raw = follow_up(case_id, 1, "あ" * 300_000)
    flow.run(raw, peer="203.0.113.7")
    (message,) = [m for m in flow.case(case_id)["messages"] if m["from"] == OUTSIDER]
    assert len(message["text"]) == MAX_UNTRUSTED_TEXT and message["text_truncated"]
    assert flow.store.raw_path(message["raw"]).read_bytes() == raw
    assert len(outgoing(flow.case(case_id))) == len(outgoing(flow.case(case_id), "escalation")) + 1


def test_8bit_bytes_in_the_headers_that_say_why_are_stored(flow):
    raw = report(extra=("Auto-Submitted: auto-replied; note=X",))
    raw = raw.replace(b"note=X", b"note=\x81")  # a raw 8-bit byte in the reason we record
    assert flow.run(raw) == []
    nothing_lost = list(flow.store.machine_mail().records())
    assert len(nothing_lost) == 1 and not list(flow.app.spool.shunt.iterdir())


def test_8bit_bytes_in_the_reason_of_machine_mail_on_a_case_reach_the_audit_event(flow):
    """The rules that fired say why in the message's audit event: stored as text, never lost."""
    sent = flow.run(report())
    (guidance,) = to_addr(sent, REPORTER)
    raw = reply_to(guidance, "不在です。", sender=REPORTER_FROM,
                   extra=("Auto-Submitted: auto-replied; note=X",)).replace(b"note=X", b"note=\x81")
    flow.run(raw)
    (case_id,) = flow.case_ids()
    received = [e for e in flow.store.audit.for_case(case_id) if e["action"] == "message_received"]
    assert len(received) == 1 and received[0]["details"]["disposition"] == "machine"
    assert "\ufffd" in received[0]["details"]["rules"][0]
    assert not list(flow.app.spool.shunt.iterdir())
