"""Escalation timing through the real wiring, on an injected clock: no sleeps, no mocks."""

from __future__ import annotations

import pytest

from conftest import make_config
from test_flow_harness import (BOSS, EXEC, OFFICER, REPORTER, Clock, Flow, outgoing, reply_to,
                               report, to_addr)


@pytest.fixture
def flow(tmp_path) -> Flow:
    return Flow(make_config(tmp_path / "data"), Clock())


def escalations_to(mails, address):
    return [s for s in to_addr(mails, address) if str(s.msg["Auto-Submitted"]) == "auto-generated"]


def reported(flow: Flow):
    """A report at T0: the guidance and the initial escalations go out at once."""
    first = flow.run(report())
    assert sorted(a for s in first for a in s.to) == sorted([REPORTER, OFFICER, BOSS])
    return first, flow.case()["id"]


def test_executives_at_the_interval_then_reminders_until_acknowledged(flow):
    first, case_id = reported(flow)
    flow.clock.advance(minutes=59)
    flow.tick()
    assert flow.run() == []

    flow.clock.advance(minutes=1)  # t0 + 60: nobody acknowledged
    flow.tick()
    at_60 = flow.run()
    assert [s.to for s in at_60] == [[EXEC]]
    assert "【至急・未対応】" in at_60[0].subject and f"[{case_id}]" in at_60[0].subject
    assert "60分以内" in at_60[0].text

    flow.clock.advance(minutes=30)
    flow.tick()
    assert flow.run() == []  # the next step is a full interval later

    flow.clock.advance(minutes=30)  # t0 + 120: a reminder to everyone told so far
    flow.tick()
    at_120 = flow.run()
    assert sorted(a for s in at_120 for a in s.to) == sorted([OFFICER, BOSS, EXEC])
    assert all("【リマインド・未対応】" in s.subject for s in at_120)
    assert all("最初の通知から120分" in s.text for s in at_120)

    flow.tick()  # a second pass at the same time sends nothing again
    assert flow.run() == []

    flow.store.update(case_id, lambda case: flow.app.responder.acknowledge(case, BOSS, "cli"))
    for _ in range(3):
        flow.clock.advance(minutes=60)
        flow.tick()
        assert flow.run() == []
    case = flow.case()
    assert [(a["by"], a["via"]) for a in case["acks"]] == [(BOSS, "cli")]
    report_phase = next(p for p in case["phases"] if p["id"] == "report")
    assert report_phase["status"] == "closed" and report_phase["closed_by"] == BOSS
    assert {"acknowledged", "phase_closed"} <= set(flow.actions(case_id))


def test_a_managers_reply_to_the_escalation_acknowledges(flow):
    first, case_id = reported(flow)
    (escalation,) = to_addr(first, OFFICER)
    flow.clock.advance(minutes=10)
    answer = reply_to(escalation, "確認しました。対応します。", sender=f"管理者 <{OFFICER}>",
                      message_id="<ack-1@example.com>")
    assert flow.run(answer) == []  # an acknowledgement is not answered

    case = flow.case()
    assert [(a["by"], a["via"]) for a in case["acks"]] == [(OFFICER, "mail")]
    assert next(p for p in case["phases"] if p["id"] == "report")["status"] == "closed"
    joined = next(m for m in case["messages"] if m["message_id"] == "<ack-1@example.com>")
    assert joined["kind"] == "manager_reply" and "確認しました" in joined["text"]

    for _ in range(4):  # past the executive step and several reminder steps
        flow.clock.advance(minutes=60)
        flow.tick()
        assert flow.run() == []
    assert outgoing(flow.case(), "reminder") == []
    assert [m["to"] for m in outgoing(flow.case(), "escalation")] in (
        [[OFFICER], [BOSS]], [[BOSS], [OFFICER]])


def test_a_managers_mail_outside_the_escalation_thread_is_no_acknowledgement(flow):
    first, case_id = reported(flow)
    (guidance,) = to_addr(first, REPORTER)
    # The manager answers the reporter's guidance thread, not an escalation: not an ack.
    flow.run(reply_to(guidance, "状況を教えてください", sender=OFFICER, message_id="<cc-1@example.com>"))
    assert flow.case()["acks"] == []
    flow.clock.advance(minutes=60)
    flow.tick()
    assert [s.to for s in flow.run()] == [[EXEC]]


@pytest.mark.parametrize("marker", [
    ("Auto-Submitted: auto-replied",),
    ("Auto-Submitted: auto-replied", "X-Auto-Response-Suppress: All"),
])
def test_an_out_of_office_reply_from_a_manager_is_no_acknowledgement(flow, marker):
    """The privacy officer on holiday is exactly when the executives must be told."""
    first, case_id = reported(flow)
    for escalation in escalations_to(first, OFFICER) + escalations_to(first, BOSS):
        (manager,) = escalation.to
        flow.run(reply_to(escalation, "不在にしています。12月1日に戻ります。", sender=manager,
                          prefix="自動応答: ", extra=marker,
                          message_id=f"<oof-{manager.split('@')[0]}@example.com>"))
    case = flow.case()
    assert case["acks"] == []
    # Kept on the case as machine mail (issue 9: auto-replies are stored, never acted on).
    assert len([m for m in case["messages"] if m["kind"] == "machine"]) == 2
    flow.clock.advance(minutes=60)
    flow.tick()
    assert [s.to for s in flow.run()] == [[EXEC]]


def test_a_vacation_reply_without_auto_submitted_is_no_acknowledgement(flow):
    first, case_id = reported(flow)
    (escalation,) = to_addr(first, OFFICER)
    flow.run(reply_to(escalation, "休暇中です。", sender=OFFICER, prefix="自動応答: ",
                      extra=("X-Autoreply: yes", "Precedence: auto_reply")))
    assert flow.case()["acks"] == []


def test_a_spoofed_manager_reply_is_no_acknowledgement(flow):
    first, case_id = reported(flow)
    (escalation,) = to_addr(first, OFFICER)
    forged = reply_to(escalation, "確認しました", sender=OFFICER, extra=(
        "Authentication-Results: mx.example.com; spf=fail smtp.mailfrom=example.com; "
        "dmarc=fail header.from=example.com",))
    flow.run(forged, mail_from="attacker@evil.example")
    assert flow.case()["acks"] == []


def test_escalation_keeps_its_schedule_across_a_restart(tmp_path):
    clock = Clock()
    config = make_config(tmp_path / "data")
    flow = Flow(config, clock)
    flow.run(report())
    clock.advance(minutes=60)
    again = Flow(config, clock)  # a new process over the same data_dir
    again.tick()
    again.tick()
    again.deliver()
    executive = [s for s in again.delivered() if EXEC in s.to]
    assert len(executive) == 1


def test_deadline_reminders_go_to_the_privacy_officer_once_per_stage(flow):
    flow.run(report("健康診断結果の紛失", "社員30名分の健康診断結果を入れた封筒を紛失しました。"))
    case = flow.case()
    assert case["assessment"]["triggers"] == ["T1"]
    due = next(d for d in case["deadlines"] if d["kind"] == "ppc_preliminary")["due"]
    assert due == "2026-11-30"
    flow.store.update(case["id"], lambda c: flow.app.responder.acknowledge(c, OFFICER, "cli"))

    seen = []
    for _ in range(6):  # 11-27 .. 12-02, two passes a day
        flow.clock.advance(days=1)
        flow.tick()
        flow.tick()
        seen += [(flow.clock().date().isoformat(), s.subject) for s in flow.run()
                 if "速報(個人情報保護委員会等への報告)" in s.subject]
    assert [(day, subject.split("】")[0] + "】") for day, subject in seen] == [
        ("2026-11-28", f"[{case['id']}] 【期限のお知らせ】"),
        ("2026-11-30", f"[{case['id']}] 【期限のお知らせ】"),
        ("2026-12-01", f"[{case['id']}] 【期限超過】"),
    ]
    reminders = outgoing(flow.case(), "deadline")
    assert reminders and all(m["to"] == [OFFICER] for m in reminders)
    (mail,) = [s for s in flow.delivered() if "期限超過" in s.subject and "速報(個人情報保護委員会" in s.subject]
    assert f"leakline phase close {case['id']} authorities --step ppc_preliminary" in mail.text


def test_one_unreadable_case_does_not_stop_the_escalation_of_the_others(flow):
    flow.run(report(message_id="<first@sales.example.com>"))
    flow.run(report("別件", "FAXを誤送信しました。", sender="hanako@example.com",
                    message_id="<second@example.com>"))
    first, second = flow.case_ids()
    flow.store._case_path(first).write_text("{ not json")  # a hand edit gone wrong
    flow.clock.advance(minutes=60)
    flow.tick()
    executive = [s for s in flow.run() if EXEC in s.to]
    assert [s.msg["X-Leakline-Case"] for s in executive] == [second]


def test_scheduler_leaves_a_case_intake_has_not_reacted_to_yet(tmp_path):
    from leakline.app import App
    from leakline.store.spool import SpoolEntry

    from conftest import make_config
    from mailbuilders import plain_mail
    from test_flow_harness import Clock

    clock = Clock()
    app = App(make_config(tmp_path / "d"), now=clock)
    app.prepare()
    entry = SpoolEntry("s.0", {"spool_id": "s.0", "mail_from": "taro@example.com",
                               "received_at": clock().isoformat()},
                       plain_mail("USB紛失", "USBメモリを紛失しました", message_id="<race@example.com>"))
    case_id = app.intake.process(entry).case["id"]  # stored; the reaction has not run yet
    app.scheduler.run_once()
    assert app.outbox.list() == []
    clock.advance(minutes=11)  # the reaction never came: the scheduler escalates after all
    app.scheduler.run_once()
    kinds = [i["kind"] for i in app.outbox.list()]
    assert kinds and set(kinds) == {"escalation"}
    assert "escalate:initial" in app.store.get(case_id)["sent"]
