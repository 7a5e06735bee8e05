"""Which deadline reminders are due: two days before, on the day, and one overdue alert."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime, tzinfo

from .deadlines import days_left, is_past

STAGES = ("before2", "on_day", "overdue")
BEFORE_DAYS = 2


@dataclass(frozen=True)
class Reminder:
    """One reminder to send; `key` is stable so the caller sends it once, across restarts."""

    key: str
    case_id: str
    kind: str
    stage: str
    due: str

    def to_dict(self) -> dict:
        return {"key": self.key, "case_id": self.case_id, "kind": self.kind, "stage": self.stage,
                "due": self.due}


def stage(deadline: dict, *, now: datetime, tz: tzinfo) -> str | None:
    """The reminder stage a deadline is in at `now`, or None between stages."""
    if is_past(deadline["due"], now, tz):
        return "overdue"
    left = days_left(deadline, now=now, tz=tz)
    if left == 0:
        return "on_day"
    return "before2" if 1 <= left <= BEFORE_DAYS else None


def reminder_key(case_id: str, deadline: dict, stage_: str) -> str:
    # The due date is part of the key: when a deadline moves (30 -> 60 days on T3) its
    # reminders are owed again for the new date.
    return f"{case_id}:{deadline['kind']}:{deadline['due'][:10]}:{stage_}"


def due_reminders(case_id: str, deadlines: list[dict], *, now: datetime, tz: tzinfo,
                  sent: Container[str]) -> list[Reminder]:
    """Reminders owed now for one case's deadlines (dicts as stored), minus those already sent.

    Only the current stage is sent: a reminder whose moment passed while the service was down is
    not sent late, because the next stage says more. Done, skipped and not-applicable deadlines
    give none; pending ones (a duty not yet decided) are reminded as if due.
    """
    owed = []
    for deadline in deadlines:
        if deadline["status"] in ("done", "skipped", "not_applicable"):
            continue
        current = stage(deadline, now=now, tz=tz)
        if current is None:
            continue
        key = reminder_key(case_id, deadline, current)
        if key not in sent:
            owed.append(Reminder(key, case_id, deadline["kind"], current, deadline["due"]))
    return owed
