"""The SMTP relay transport and restarts, through the real wiring, against a capturing relay."""

from __future__ import annotations

import asyncio
import collections

import pytest

from conftest import make_config
from smtp_sink import SmtpSink
from test_flow_harness import (BOSS, OFFICER, REPORTER, Clock, Flow, from_sink, outgoing, report,
                               to_addr)


@pytest.fixture
def sink():
    with SmtpSink() as running:
        yield running


def relay_config(tmp_path, sink: SmtpSink):
    return make_config(tmp_path / "data", mail={"transport": "smtp", "relay_host": sink.host,
                                               "relay_port": sink.port})


@pytest.fixture
def flow(tmp_path, sink) -> Flow:
    return Flow(relay_config(tmp_path, sink), Clock())


def statuses(flow: Flow) -> dict[str, str]:
    return {m["message_id"]: m["status"] for m in outgoing(flow.case())}


def test_the_guidance_goes_out_with_a_null_envelope_sender(flow, sink):
    flow.receive(report())
    flow.drain()
    assert flow.deliver().sent == 3
    sent = from_sink(sink.received)
    assert [r.mail_from for r in sink.received if REPORTER in r.rcpt_tos] == ["<>"]
    (guidance,) = to_addr(sent, REPORTER)
    assert str(guidance.msg["Auto-Submitted"]) == "auto-replied"
    assert "一人で対応しない" in guidance.text
    for manager in (OFFICER, BOSS):
        (escalation,) = [r for r in sink.received if r.rcpt_tos == (manager,)]
        assert escalation.mail_from == "incident@example.com"  # a bounce from a manager comes back
    assert set(statuses(flow).values()) == {"sent"}


def test_relay_down_for_a_while_then_up_delivers_everything_exactly_once(flow, sink):
    sink.stop()
    flow.receive(report())
    flow.drain()
    ids = set(statuses(flow))
    assert set(statuses(flow).values()) == {"queued"}
    for minutes in (0, 1, 2, 5, 10):  # down for ten minutes, the sender trying now and then
        flow.clock.advance(minutes=minutes)
        assert flow.deliver().sent == 0
    queued = flow.app.outbox.list()
    assert {q["id"] for q in queued} == ids
    assert all(q["attempts"] >= 2 and "relay" in q["last_error"] for q in queued)
    assert set(statuses(flow).values()) == {"queued"}

    sink.start()
    flow.clock.advance(hours=1)  # past the longest back-off (capped at an hour, +20 %)
    flow.clock.advance(minutes=15)
    assert flow.deliver().sent == 3
    for _ in range(3):
        flow.clock.advance(hours=1)
        flow.deliver()
    assert sink.count_by_message_id() == collections.Counter({i: 1 for i in ids})
    assert set(statuses(flow).values()) == {"sent"}
    assert flow.app.outbox.list() == []
    actions = flow.actions(flow.case()["id"])
    assert actions.count("mail_queued") == 3 and actions.count("mail_sent") == 3


def test_temporary_answers_451_are_retried_and_delivered_once(flow, sink):
    sink.fail("451 4.3.0 Try again later", times=2)
    flow.receive(report())
    flow.drain()
    counts = flow.deliver()
    assert (counts.sent, counts.retried) == (1, 2)
    for _ in range(4):
        flow.clock.advance(minutes=30)
        flow.deliver()
    assert sink.rejected == 2
    assert sorted(sink.count_by_message_id().values()) == [1, 1, 1]
    assert set(statuses(flow).values()) == {"sent"}


def test_a_permanent_refusal_is_a_dead_letter_with_one_alert_to_the_privacy_officer(flow, sink):
    sink.refuse_rcpt(REPORTER, "550 5.1.1 <taro@sales.example.com>: No such user")
    flow.receive(report())
    flow.drain()
    counts = flow.deliver()
    assert (counts.sent, counts.failed) == (2, 1)

    case = flow.case()
    (guidance,) = outgoing(case, "guidance")
    assert guidance["status"] == "failed" and "550" in guidance["error"]
    assert [m["status"] for m in outgoing(case, "escalation")] == ["sent", "sent"]
    actions = flow.actions(case["id"])
    assert actions.count("mail_failed") == 1 and actions.count("mail_sent") == 2
    (dead,) = flow.app.outbox.list(failed=True)
    assert dead["id"] == guidance["message_id"] and dead["kind"] == "guidance"

    for _ in range(3):  # the alert goes out on the next pass, and only once
        flow.clock.advance(minutes=1)
        flow.deliver()
    again = Flow(flow.config, flow.clock)  # a restart does not alert again either
    again.deliver()
    alerts = [s for s in from_sink(sink.received) if "【配信失敗】" in s.subject]
    assert len(alerts) == 1
    (alert,) = alerts
    assert alert.to == [OFFICER] and alert.envelope_from == "incident@example.com"
    assert guidance["message_id"] in alert.text and REPORTER in alert.text
    assert "試行回数: 1\n" in alert.text and "550" in alert.text
    assert f"leakline outbox retry '{guidance['message_id']}'" in alert.text
    assert str(alert.msg["Auto-Submitted"]) == "auto-generated"
    assert sink.count_by_message_id()[guidance["message_id"]] == 0


def test_a_relay_that_refuses_everything_does_not_alert_about_alerts(flow, sink):
    sink.fail("554 5.7.1 Rejected by policy")
    flow.receive(report())
    flow.drain()
    for _ in range(5):
        flow.deliver()
        flow.clock.advance(minutes=1)
    assert sink.received == []
    failed = flow.app.outbox.list(failed=True)
    kinds = collections.Counter(f["kind"] for f in failed)
    assert kinds == {"guidance": 1, "escalation": 2, "deadletter_alert": 3}
    assert flow.app.outbox.list() == []
    assert sink.rejected == 6


def test_five_days_without_a_relay_is_a_dead_letter_and_the_alert_follows_when_it_is_back(flow, sink):
    sink.stop()
    flow.receive(report())
    flow.drain()
    flow.deliver()
    flow.clock.advance(days=5, minutes=1)
    assert flow.deliver().failed == 3
    assert {m["status"] for m in outgoing(flow.case())} == {"failed"}
    sink.start()
    flow.clock.advance(minutes=1)
    flow.deliver()
    alerts = from_sink(sink.received)
    assert len(alerts) == 3 and all(a.to == [OFFICER] for a in alerts)
    assert all("gave up after 5 days" in a.text for a in alerts)


def test_a_restart_between_queueing_and_sending_delivers_each_message_once(tmp_path, sink):
    config = relay_config(tmp_path, sink)
    clock = Clock()
    first = Flow(config, clock)
    first.receive(report())
    first.drain()  # queued; the process stops before its sender runs
    queued = {m["message_id"] for m in outgoing(first.case())}
    assert len(queued) == 3

    second = Flow(config, clock)
    second.drain()
    assert second.deliver().sent == 3
    first.deliver()  # the old process's sender, should it still run, finds nothing
    second.deliver()
    assert sink.count_by_message_id() == collections.Counter({i: 1 for i in queued})
    assert set(statuses(second).values()) == {"sent"}


def test_a_restart_between_sending_and_marking_sent_resends_with_the_same_message_id(tmp_path, sink):
    config = relay_config(tmp_path, sink)
    clock = Clock()
    first = Flow(config, clock)
    first.receive(report())
    first.drain()
    item = next(i for i in first.app.outbox.due(clock()) if i.kind == "guidance")
    # The relay took it, then the process died before the outbox recorded it as sent.
    asyncio.run(first.app.transport().deliver(item))

    second = Flow(config, clock)
    assert second.deliver().sent == 3
    copies = [r for r in sink.received if r.message_id == item.id]
    assert len(copies) == 2 and copies[0].data == copies[1].data
    assert sorted(sink.count_by_message_id().values()) == [1, 1, 2]
    assert statuses(second)[item.id] == "sent"


def test_a_case_that_cannot_be_saved_after_delivery_does_not_make_a_second_delivery(flow, sink):
    """Recording `sent` in the case is bookkeeping: if it fails, the mail has still gone."""
    flow.receive(report())
    flow.drain()
    case_file = flow.app.store._case_path(flow.case_ids()[0])
    kept = case_file.read_bytes()
    case_file.write_bytes(b"{damaged")  # the case cannot be read, so not saved (a hand edit)
    flow.deliver()
    case_file.write_bytes(kept)
    for _ in range(3):
        flow.clock.advance(hours=1)
        flow.deliver()
    assert sorted(sink.count_by_message_id().values()) == [1, 1, 1]
    assert flow.app.outbox.list() == []


def test_the_dead_letter_alert_goes_out_even_when_the_case_cannot_record_the_failure(flow, sink):
    sink.refuse_rcpt(REPORTER, "550 5.1.1 No such user")
    flow.receive(report())
    flow.drain()
    case_file = flow.app.store._case_path(flow.case_ids()[0])
    case_file.write_bytes(b"{damaged")  # the case cannot be read, so not saved, from here on
    flow.deliver()
    flow.clock.advance(minutes=1)
    flow.deliver()
    alerts = [s for s in from_sink(sink.received) if "【配信失敗】" in s.subject]
    assert [a.to for a in alerts] == [[OFFICER]]
