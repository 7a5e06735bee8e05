"""Escalation timing with an injected clock: no sleeps, every step once."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leakline.config import Config, Escalation, Manager
from leakline.responders.escalation import (
    EXECUTIVE, INITIAL, due_escalations, guidance_allowed, initial_recipients,
    next_due_at, notified_so_far,
)

T0 = datetime(2026, 11, 26, 18, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
OFFICER = Manager("佐藤花子", "privacy@example.com", "privacy_officer")
SALES = Manager("鈴木一郎", "sales-boss@example.com", "supervisor", ("*@sales.example.com",))
OTHER = Manager("高橋", "dev-boss@example.com", "supervisor", ("*@dev.example.com",))
DIRECTOR = Manager("Director", "director@example.com", "executive")
CONFIG = Config(managers=(OFFICER, SALES, OTHER, DIRECTOR))


def new_case(reporter="taro@sales.example.com"):
    return {"id": "INC-2026-0001", "status": "open", "reporter": reporter, "acks": [], "sent": {},
            "messages": []}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def run(case, minutes, config=CONFIG):
    """What a scheduler tick does: ask what is due, 'send' it, record the key with the time."""
    actions = due_escalations(case, config, at(minutes))
    for action in actions:
        case["sent"][action.key] = at(minutes).isoformat()
    return actions


def emails(action):
    return [r.manager.email for r in action.recipients]


def test_initial_escalation_goes_to_officer_and_the_reporters_supervisor():
    case = new_case()
    [action] = run(case, 0)
    assert action.key == INITIAL and action.stage == "initial"
    assert emails(action) == ["privacy@example.com", "sales-boss@example.com"]
    assert [r.reason for r in action.recipients] == ["privacy_officer", "supervisor"]


def test_timeline_59_nothing_60_executives_120_reminder_then_ack_stops_it():
    case = new_case()
    run(case, 0)
    assert run(case, 1) == []
    assert run(case, 59) == []
    [executive] = run(case, 60)
    assert executive.key == EXECUTIVE and executive.stage == "executive"
    assert emails(executive) == ["director@example.com"]
    assert run(case, 60) == []
    assert run(case, 119) == []
    [reminder] = run(case, 120)
    assert reminder.key == "remind:2" and reminder.stage == "reminder"
    assert emails(reminder) == ["privacy@example.com", "sales-boss@example.com", "director@example.com"]
    assert run(case, 121) == []
    assert run(case, 179) == []
    assert [a.key for a in run(case, 180)] == ["remind:3"]
    case["acks"].append({"by": "privacy@example.com", "at": at(181).isoformat(), "via": "mail"})
    assert run(case, 240) == []
    assert run(case, 10_000) == []


def test_each_key_is_sent_once_even_if_asked_many_times():
    case = new_case()
    keys = []
    for minute in range(0, 200):
        keys += [a.key for a in run(case, minute)]
    assert keys == [INITIAL, EXECUTIVE, "remind:2", "remind:3"]


def test_a_scheduler_that_was_down_sends_one_catch_up_not_a_burst():
    case = new_case()
    run(case, 0)
    assert [a.key for a in run(case, 300)] == [EXECUTIVE]
    assert run(case, 301) == []
    assert run(case, 359) == []
    assert [a.key for a in run(case, 360)] == ["remind:6"]


def test_a_late_tick_does_not_send_two_mails_closer_than_the_interval():
    case = new_case()
    run(case, 0)
    run(case, 61)  # executives, a minute late
    assert run(case, 120) == []
    assert [a.key for a in run(case, 121)] == ["remind:2"]


def test_without_executives_the_first_step_is_a_reminder():
    config = Config(managers=(OFFICER, SALES))
    case = new_case()
    run(case, 0, config)
    assert run(case, 59, config) == []
    [action] = run(case, 60, config)
    assert action.key == "remind:1" and action.stage == "reminder"
    assert emails(action) == ["privacy@example.com", "sales-boss@example.com"]


def test_interval_comes_from_the_config():
    config = Config(managers=CONFIG.managers, escalation=Escalation(ack_within_minutes=15))
    case = new_case()
    run(case, 0, config)
    assert run(case, 14, config) == []
    assert [a.key for a in run(case, 15, config)] == [EXECUTIVE]
    assert [a.key for a in run(case, 30, config)] == ["remind:2"]


def test_acknowledged_or_closed_cases_get_nothing():
    acked = new_case()
    acked["acks"] = [{"by": "privacy@example.com", "at": T0.isoformat(), "via": "cli"}]
    closed = new_case()
    closed["status"] = "closed"
    closed["sent"][INITIAL] = T0.isoformat()
    assert due_escalations(acked, CONFIG, at(0)) == []
    assert due_escalations(closed, CONFIG, at(500)) == []


def test_next_due_at():
    case = new_case()
    assert next_due_at(case, CONFIG) is None
    run(case, 0)
    assert next_due_at(case, CONFIG) == at(60)
    run(case, 60)
    assert next_due_at(case, CONFIG) == at(120)
    case["acks"] = [{"by": "x", "at": "", "via": "cli"}]
    assert next_due_at(case, CONFIG) is None


def test_supervisor_only_for_reporters_they_cover():
    assert [r.manager for r in initial_recipients(new_case("hanako@dev.example.com"), CONFIG)] == [OFFICER, OTHER]
    assert [r.manager for r in initial_recipients(new_case("guest@outside.example"), CONFIG)] == [OFFICER]


def test_a_person_in_two_roles_is_told_once():
    both = Manager("佐藤花子", "privacy@example.com", "supervisor", ("*@sales.example.com",))
    config = Config(managers=(OFFICER, both))
    assert [r.reason for r in initial_recipients(new_case(), config)] == ["privacy_officer"]


def test_without_officer_or_supervisor_every_manager_is_told():
    config = Config(managers=(DIRECTOR,))
    assert [r.manager for r in initial_recipients(new_case("guest@outside.example"), config)] == [DIRECTOR]


def test_notified_so_far_follows_what_was_sent():
    case = new_case()
    assert notified_so_far(case, CONFIG) == []
    run(case, 0)
    assert len(notified_so_far(case, CONFIG)) == 2
    run(case, 60)
    assert [r.manager for r in notified_so_far(case, CONFIG)] == [OFFICER, SALES, DIRECTOR]


@pytest.mark.parametrize("last, now, allowed", [
    (None, 0, True),
    (0, 59, False),
    (0, 60, True),
    (0, 600, True),
])
def test_guidance_allowed_once_per_window(last, now, allowed):
    last_sent = at(last) if last is not None else None
    assert guidance_allowed("taro@example.com", last_sent, at(now), 60) is allowed


def test_guidance_never_to_an_empty_sender():
    assert not guidance_allowed("", None, at(0), 60)
