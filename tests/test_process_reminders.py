"""Reminders: two days before, on the day, one overdue alert; each once across restarts."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leakline.process.reminders import due_reminders

TOKYO = ZoneInfo("Asia/Tokyo")
CASE = "INC-2026-0001"
FINAL = {"kind": "ppc_final", "due": "2026-04-03", "warn": "2026-03-27", "status": "open",
         "step": "authorities.ppc_final"}


@pytest.mark.parametrize("now,stage", [
    (datetime(2026, 3, 31, 23, 59, tzinfo=TOKYO), None),        # three days before: nothing yet
    (datetime(2026, 4, 1, 0, 0, tzinfo=TOKYO), "before2"),
    (datetime(2026, 4, 2, 18, 0, tzinfo=TOKYO), "before2"),
    (datetime(2026, 4, 3, 0, 0, tzinfo=TOKYO), "on_day"),
    (datetime(2026, 4, 3, 23, 59, tzinfo=TOKYO), "on_day"),
    (datetime(2026, 4, 4, 0, 0, tzinfo=TOKYO), "overdue"),
    (datetime(2026, 5, 1, 9, 0, tzinfo=TOKYO), "overdue"),
    # 15:30 UTC on 04-02 is already 04-03 in Tokyo: the organisation's day counts.
    (datetime(2026, 4, 2, 15, 30, tzinfo=ZoneInfo("UTC")), "on_day"),
])
def test_stage_at_now(now, stage):
    found = due_reminders(CASE, [FINAL], now=now, tz=TOKYO, sent=set())
    assert [r.stage for r in found] == ([stage] if stage else [])


def test_each_reminder_is_sent_once_across_restarts():
    sent: dict[str, str] = {}  # what the store keeps (case["sent"]), surviving a restart
    now = datetime(2026, 3, 30, 0, 0, tzinfo=TOKYO)
    delivered = []
    while now < datetime(2026, 4, 8, tzinfo=TOKYO):
        for reminder in due_reminders(CASE, [FINAL], now=now, tz=TOKYO, sent=sent):
            delivered.append(reminder.key)
            sent[reminder.key] = now.isoformat()
        now += timedelta(hours=1)
    assert delivered == [f"{CASE}:ppc_final:2026-04-03:before2", f"{CASE}:ppc_final:2026-04-03:on_day",
                         f"{CASE}:ppc_final:2026-04-03:overdue"]


@pytest.mark.parametrize("status", ["done", "not_applicable"])
def test_closed_and_not_applicable_deadlines_give_none(status):
    now = datetime(2026, 4, 3, 9, tzinfo=TOKYO)
    assert due_reminders(CASE, [{**FINAL, "status": status}], now=now, tz=TOKYO, sent=set()) == []


def test_a_moved_deadline_is_reminded_again():
    sent = {f"{CASE}:ppc_final:2026-04-03:before2"}
    moved = {**FINAL, "due": "2026-05-07"}  # T3 found: 60 days
    found = due_reminders(CASE, [moved], now=datetime(2026, 5, 5, 9, tzinfo=TOKYO), tz=TOKYO, sent=sent)
    assert [r.key for r in found] == [f"{CASE}:ppc_final:2026-05-07:before2"]


def test_gdpr_is_overdue_at_the_hour():
    gdpr = {"kind": "gdpr_72h", "due": "2026-03-08T10:00:00+09:00", "warn": "2026-03-07T10:00:00+09:00",
            "status": "open", "step": "authorities.gdpr"}
    before = due_reminders(CASE, [gdpr], now=datetime(2026, 3, 8, 9, 59, tzinfo=TOKYO), tz=TOKYO, sent=set())
    after = due_reminders(CASE, [gdpr], now=datetime(2026, 3, 8, 10, 1, tzinfo=TOKYO), tz=TOKYO, sent=set())
    assert [r.stage for r in before] == ["on_day"] and [r.stage for r in after] == ["overdue"]
    assert after[0].to_dict() == {"key": f"{CASE}:gdpr_72h:2026-03-08:overdue", "case_id": CASE,
                                  "kind": "gdpr_72h", "stage": "overdue", "due": "2026-03-08T10:00:00+09:00"}


def test_several_deadlines_each_get_their_own():
    preliminary = {**FINAL, "kind": "ppc_preliminary", "due": "2026-03-09"}
    found = due_reminders(CASE, [preliminary, FINAL], now=datetime(2026, 3, 9, 9, tzinfo=TOKYO), tz=TOKYO,
                          sent=set())
    assert [(r.kind, r.stage) for r in found] == [("ppc_preliminary", "on_day")]
