"""Delivery: Maildir and SMTP transports against a real capturing relay, retries, dead letters."""

from __future__ import annotations

import asyncio
import email
import email.policy
import random
import stat
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from clock import Clock
from conftest import OUTBOX_T0
from leakline.config import Config, ConfigError, Mail, Service
from leakline.delivery.sender import SenderWorker
from leakline.delivery.transport import (MaildirTransport, SmtpTransport, TemporaryFailure,
                                  transport_for)
from smtp_sink import SmtpSink
from leakline.store.files import DataLock
from leakline.store.outbox import Item, Outbox

JST = timezone(timedelta(hours=9))
T0 = OUTBOX_T0

SUBJECT = "[INC-2026-0001] 報告を受け付けました"
BODY = "報告を受け付けました。証拠を保全してください。"


def make_message(to: str = "taro@example.com") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Example Co. <incident@example.com>"
    msg["To"] = to
    msg["Subject"] = SUBJECT
    msg["Message-ID"] = make_msgid(domain="example.com")
    msg["Auto-Submitted"] = "auto-replied"
    msg.set_content(BODY + "\n")
    return msg


@pytest.fixture
def sink():
    with SmtpSink() as running:
        yield running


def enqueue(box: Outbox, to: list[str] | None = None, kind: str = "guidance") -> str:
    to = to or ["taro@example.com"]
    return box.enqueue(make_message(", ".join(to)), envelope_from="", envelope_to=to,
                       case_id="INC-2026-0001", kind=kind)


def worker(box: Outbox, transport, clock: Clock, alerts: list | None = None) -> SenderWorker:
    on_dead_letter = alerts.append if alerts is not None else None
    return SenderWorker(box, transport, clock, on_dead_letter, rng=random.Random(7))


def last_due(box: Outbox) -> datetime:
    return max(datetime.fromisoformat(row["next_attempt_at"]) for row in box.list())


def run(coro):
    return asyncio.run(coro)


# -- Maildir ------------------------------------------------------------------------------------


def test_maildir_delivery_is_a_private_parseable_message(box, tmp_path, clock):
    message_id = enqueue(box)
    maildir = tmp_path / "mail-out"
    counts = run(worker(box, MaildirTransport(maildir), clock).run_once())

    assert (counts.sent, counts.retried, counts.failed) == (1, 0, 0)
    assert sorted(p.name for p in maildir.iterdir()) == ["cur", "new", "tmp"]
    assert list((maildir / "tmp").iterdir()) == []
    [path] = (maildir / "new").iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((maildir / "new").stat().st_mode) == 0o700
    raw = path.read_bytes()
    assert b"\r\n" not in raw
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Return-Path"] == "<>"
    assert parsed["Message-ID"] == message_id
    assert parsed["Subject"] == SUBJECT
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed.get_content().strip() == BODY
    assert box.list() == [] and box.get(message_id)["state"] == "sent"


def test_the_configured_transport_is_chosen(tmp_path):
    maildir = transport_for(Config(service=Service(data_dir=tmp_path)))
    assert isinstance(maildir, MaildirTransport) and maildir.path == tmp_path / "mail-out"
    relay = transport_for(Config(mail=Mail(transport="smtp", relay_host="relay.example.com")))
    assert isinstance(relay, SmtpTransport) and relay.mail.relay_host == "relay.example.com"


def test_maildir_names_are_unique(box, tmp_path, clock):
    for _ in range(20):
        enqueue(box)
    run(worker(box, MaildirTransport(tmp_path / "mail-out"), clock).run_once())
    assert len(list((tmp_path / "mail-out" / "new").iterdir())) == 20


# -- SMTP ---------------------------------------------------------------------------------------


def test_smtp_delivery_with_the_null_envelope_sender(box, sink, clock):
    message_id = enqueue(box)
    counts = run(worker(box, SmtpTransport(sink.mail_config()), clock).run_once())

    assert counts.sent == 1
    [got] = sink.received
    assert got.mail_from == "<>"  # aiosmtpd 1.4.6 reports MAIL FROM:<> as '<>'
    assert got.rcpt_tos == ("taro@example.com",)
    assert got.message_id == message_id
    assert got.message["Subject"] == SUBJECT
    assert got.message.get_content().strip() == BODY


def test_relay_down_for_a_while_then_up_delivers_each_message_once(box, sink, clock):
    ids = [enqueue(box) for _ in range(3)]
    sender = worker(box, SmtpTransport(sink.mail_config(), timeout=5), clock)
    sink.stop()  # connection refused
    for _ in range(4):
        counts = run(sender.run_once())
        assert (counts.sent, counts.retried) == (0, 3)
        clock.t = last_due(box)
    sink.fail("421 4.3.2 Service shutting down", times=2)
    sink.start()

    for _ in range(6):
        run(sender.run_once())
        if not box.list():
            break
        clock.t = last_due(box)

    assert box.list() == []
    assert sink.count_by_message_id() == {message_id: 1 for message_id in ids}
    assert sink.rejected == 2
    clock.advance(days=1)
    assert run(sender.run_once()).sent == 0 and len(sink.received) == 3


def test_temporary_failure_backs_off_exponentially_with_jitter(box, sink, clock):
    message_id = enqueue(box)
    sink.fail("451 4.3.0 Try again later", times=3)
    sender = worker(box, SmtpTransport(sink.mail_config()), clock)

    waits = []
    for _ in range(3):
        assert run(sender.run_once()).retried == 1
        waits.append((box.next_attempt_at() - clock()).total_seconds())
        clock.t = box.next_attempt_at()
    assert run(sender.run_once()).sent == 1

    for wait, base in zip(waits, (30, 60, 120)):
        assert base * 0.8 <= wait <= base * 1.2
    assert len(set(round(w / b, 6) for w, b in zip(waits, (30, 60, 120)))) > 1  # jittered
    assert box.get(message_id)["attempts"] == 3
    assert sink.count_by_message_id() == {message_id: 1}


def test_backoff_is_capped_at_an_hour():
    from leakline.delivery.sender import RetryPolicy
    policy, rng = RetryPolicy(), random.Random(1)
    assert max(policy.delay(n, rng) for n in range(8, 30)) <= timedelta(hours=1.2)
    assert min(policy.delay(n, rng) for n in range(8, 30)) >= timedelta(hours=0.8)


def test_permanent_failure_dead_letters_at_once_and_alerts_once(box, sink, clock):
    message_id = enqueue(box)
    sink.fail("550 5.7.1 Relaying denied")
    alerts: list[Item] = []
    sender = worker(box, SmtpTransport(sink.mail_config()), clock, alerts)

    counts = run(sender.run_once())
    assert (counts.sent, counts.retried, counts.failed) == (0, 0, 1)
    assert [(a.id, a.kind, a.case_id) for a in alerts] == [(message_id, "guidance", "INC-2026-0001")]
    assert "550" in alerts[0].last_error
    [row] = box.list(failed=True)
    assert row["id"] == message_id and "Relaying denied" in row["last_error"]
    clock.advance(days=1)
    run(sender.run_once())
    assert len(alerts) == 1 and box.pending_alerts() == []


def test_the_alert_callback_can_skip_alerts_about_alerts(box, sink, clock):
    """The documented pattern: the callback queues an alert unless the item is an alert."""
    sink.fail("550 5.1.1 User unknown")

    def on_dead_letter(item: Item) -> None:
        if item.kind != "deadletter_alert":
            enqueue(box, to=["privacy@example.com"], kind="deadletter_alert")

    sender = SenderWorker(box, SmtpTransport(sink.mail_config()), clock, on_dead_letter)
    enqueue(box)
    assert run(sender.run_once()).failed == 1
    assert [r["kind"] for r in box.list()] == ["deadletter_alert"]
    assert run(sender.run_once()).failed == 1
    assert box.list() == [] and len(box.list(failed=True)) == 2


def test_temporary_failures_give_up_after_five_days(box, sink, clock):
    message_id = enqueue(box)
    sink.fail("451 4.4.1 Remote host not responding")
    alerts: list[Item] = []
    sender = worker(box, SmtpTransport(sink.mail_config()), clock, alerts)

    attempts = 0
    while box.list() and attempts < 500:
        run(sender.run_once())
        attempts += 1
        assert not alerts or not box.list()
        if box.list():
            clock.t = box.next_attempt_at()
    deadline = T0 + timedelta(days=5)
    assert clock() == deadline  # the last try is at the deadline itself, not before
    assert [a.id for a in alerts] == [message_id]
    assert 100 < attempts < 140  # ~8 doublings, then hourly for five days
    assert "gave up after 5 days" in box.list(failed=True)[0]["last_error"]


def test_a_manual_retry_gets_a_new_five_day_window(box, sink, clock):
    message_id = enqueue(box)
    sink.fail("550 5.7.1 Relaying denied")
    sender = worker(box, SmtpTransport(sink.mail_config()), clock)
    assert run(sender.run_once()).failed == 1
    clock.advance(days=6)
    box.retry(message_id)
    sink.accept()
    sink.fail("451 4.3.0 Try again later", times=1)

    assert run(sender.run_once()).retried == 1  # not "gave up": the window restarted
    clock.t = box.next_attempt_at()
    assert run(sender.run_once()).sent == 1
    assert sink.count_by_message_id() == {message_id: 1}


def test_mixed_refusals_retry_then_dead_letter_only_the_rejected_recipient(box, sink, clock):
    sink.refuse_rcpt("hanako@example.com", "452 4.2.2 Mailbox full")
    sink.refuse_rcpt("ghost@example.com", "550 5.1.1 No such user")
    message_id = enqueue(box, to=["taro@example.com", "hanako@example.com", "ghost@example.com"])
    alerts: list[Item] = []
    sender = worker(box, SmtpTransport(sink.mail_config()), clock, alerts)

    assert run(sender.run_once()).retried == 1
    assert box.list()[0]["pending_to"] == ["ghost@example.com", "hanako@example.com"]
    del sink.rcpt_replies["hanako@example.com"]
    clock.t = box.next_attempt_at()
    assert run(sender.run_once()).failed == 1

    assert [r.rcpt_tos for r in sink.received] == [("taro@example.com",), ("hanako@example.com",)]
    [row] = box.list(failed=True)
    assert row["id"] == message_id and row["pending_to"] == ["ghost@example.com"]
    assert [a.recipients for a in alerts] == [("ghost@example.com",)]


def test_only_recipients_refused_for_now_are_retried(box, sink, clock):
    sink.refuse_rcpt("hanako@example.com", "452 4.2.2 Mailbox full")
    message_id = enqueue(box, to=["taro@example.com", "hanako@example.com"])
    sender = worker(box, SmtpTransport(sink.mail_config()), clock)

    assert run(sender.run_once()).retried == 1
    assert [r.rcpt_tos for r in sink.received] == [("taro@example.com",)]
    assert box.list()[0]["pending_to"] == ["hanako@example.com"]
    sink.rcpt_replies.clear()
    clock.t = box.next_attempt_at()
    assert run(sender.run_once()).sent == 1
    assert [r.rcpt_tos for r in sink.received] == [("taro@example.com",), ("hanako@example.com",)]
    assert sink.count_by_message_id() == {message_id: 2}


def test_a_restart_keeps_the_queue_and_the_message_id(tmp_path, sink, clock):
    first = Outbox(tmp_path, DataLock(tmp_path / ".lock"), clock)
    message_id = enqueue(first)
    sink.stop()
    run(worker(first, SmtpTransport(sink.mail_config(), timeout=5), clock).run_once())
    sink.start()

    second = Outbox(tmp_path, DataLock(tmp_path / ".lock"), clock)
    clock.t = second.next_attempt_at()
    assert run(worker(second, SmtpTransport(sink.mail_config()), clock).run_once()).sent == 1
    assert sink.count_by_message_id() == {message_id: 1}


def test_a_dead_letter_alert_lost_in_a_crash_is_made_at_the_next_start(box, clock, tmp_path):
    message_id = enqueue(box)
    box.mark_failed(message_id, "550 5.1.1 User unknown", alert=True)  # then the process died
    alerts: list[Item] = []
    sender = worker(box, MaildirTransport(tmp_path / "mail-out"), clock, alerts)
    run(sender.run_once())
    run(sender.run_once())
    assert [a.id for a in alerts] == [message_id]


def test_an_unexpected_error_keeps_the_message_queued(box, clock):
    class Broken:
        async def deliver(self, item):
            raise RuntimeError("bug")

    message_id = enqueue(box)
    assert run(worker(box, Broken(), clock).run_once()).retried == 1
    assert "RuntimeError" in box.get(message_id)["last_error"]


# -- AUTH and TLS -------------------------------------------------------------------------------


def test_auth_with_the_password_from_the_environment(box, clock, monkeypatch):
    monkeypatch.setenv("LEAKLINE_TEST_RELAY_PASSWORD", "s3cret")
    with SmtpSink(users={"leakline": "s3cret"}) as sink:
        mail = sink.mail_config(username="leakline", password_env="LEAKLINE_TEST_RELAY_PASSWORD")
        assert run(worker(box, SmtpTransport(mail), clock).run_once()).sent == 0  # empty queue
        enqueue(box)
        assert run(worker(box, SmtpTransport(mail), clock).run_once()).sent == 1
        assert sink.received[0].authenticated_as == "leakline"


def test_a_relay_that_requires_auth_refuses_without_it_for_now(box, clock):
    with SmtpSink(users={"leakline": "s3cret"}) as sink:
        enqueue(box)
        assert run(worker(box, SmtpTransport(sink.mail_config()), clock).run_once()).retried == 1
        assert sink.received == [] and box.list(failed=True) == []
        assert "530" in box.list()[0]["last_error"]  # a settings problem: the message waits


def test_a_wrong_password_is_temporary_not_a_dead_letter(box, clock, monkeypatch):
    monkeypatch.setenv("LEAKLINE_TEST_RELAY_PASSWORD", "wrong")
    with SmtpSink(users={"leakline": "s3cret"}) as sink:
        enqueue(box)
        mail = sink.mail_config(username="leakline", password_env="LEAKLINE_TEST_RELAY_PASSWORD")
        assert run(worker(box, SmtpTransport(mail), clock).run_once()).retried == 1
        assert sink.received == [] and box.list(failed=True) == []


def test_a_missing_password_variable_is_a_config_error(monkeypatch):
    monkeypatch.delenv("LEAKLINE_TEST_RELAY_PASSWORD", raising=False)
    mail = SmtpSink().mail_config(username="u", password_env="LEAKLINE_TEST_RELAY_PASSWORD")
    with pytest.raises(ConfigError, match="LEAKLINE_TEST_RELAY_PASSWORD"):
        SmtpTransport(mail)


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_tls_and_auth(box, clock, monkeypatch, tls):
    monkeypatch.setenv("LEAKLINE_TEST_RELAY_PASSWORD", "s3cret")
    with SmtpSink(tls=tls, users={"leakline": "s3cret"}) as sink:
        mail = sink.mail_config(username="leakline", password_env="LEAKLINE_TEST_RELAY_PASSWORD")
        transport = SmtpTransport(mail, tls_context=sink.client_tls_context())
        message_id = enqueue(box)
        assert run(worker(box, transport, clock).run_once()).sent == 1
        [got] = sink.received
        assert (got.message_id, got.tls, got.authenticated_as) == (message_id, True, "leakline")


def test_an_untrusted_certificate_is_temporary(box, clock):
    with SmtpSink(tls="starttls") as sink:
        enqueue(box)
        assert run(worker(box, SmtpTransport(sink.mail_config()), clock).run_once()).retried == 1
        assert "certificate" in box.list()[0]["last_error"].lower()
        assert sink.received == []


def test_starttls_required_but_not_offered_is_temporary(box, sink, clock):
    item_id = enqueue(box)
    transport = SmtpTransport(sink.mail_config(starttls=True))
    [item] = box.due(clock())
    with pytest.raises(TemporaryFailure, match="STARTTLS"):
        run(transport.deliver(item))
    assert sink.received == [] and box.get(item_id)["state"] == "queued"


# -- the long-running loop ----------------------------------------------------------------------


def test_run_delivers_at_once_on_wake_and_stops(tmp_path):
    box = Outbox(tmp_path, DataLock(tmp_path / ".lock"), lambda: datetime.now(JST))
    maildir = tmp_path / "mail-out"
    sender = SenderWorker(box, MaildirTransport(maildir), lambda: datetime.now(JST),
                          max_idle=30)

    async def scenario() -> float:
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop))
        await asyncio.sleep(0.05)  # the worker is idle, waiting up to 30 s
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.to_thread(enqueue, box)
        await asyncio.to_thread(sender.wake)  # as the SMTP server thread would
        while not (maildir / "new").is_dir() or not any((maildir / "new").iterdir()):
            assert loop.time() - started < 10, "not woken: delivered only by the 30 s poll"
            await asyncio.sleep(0.01)
        elapsed = loop.time() - started
        stop.set()
        await asyncio.wait_for(task, 2)
        return elapsed

    assert run(scenario()) < 2
    assert box.list() == []
