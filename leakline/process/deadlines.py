"""Deadlines of a case: Japanese days for the APPI and the Privacy Mark, clock hours for GDPR.

Day-counted deadlines are dates in Asia/Tokyo whatever time zone the organisation displays (the
APPI's days are Japanese days); hour-counted ones (GDPR) are instants, added in UTC so that a DST
change does not move them, and shown in the organisation's zone with its offset.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from .phases import step_status

JAPAN = ZoneInfo("Asia/Tokyo")
# Each kind of deadline and the step whose close meets it: the kind is the step's id.
STEPS = {
    "ppc_preliminary": ("authorities", "ppc_preliminary"),
    "ppc_final": ("authorities", "ppc_final"),
    "review_body_preliminary": ("authorities", "review_body_preliminary"),
    "review_body_final": ("authorities", "review_body_final"),
    "client_notice": ("publication", "client_notice"),
    "gdpr_72h": ("authorities", "gdpr_72h"),
    "gdpr_controller_notice": ("authorities", "gdpr_controller_notice"),
    "sector_report": ("authorities", "sector_report"),
}
DEADLINE_STATUSES = ("open", "pending", "overdue", "done", "skipped", "not_applicable")
PROMPT_WARN_DAY, PROMPT_DUE_DAY = 3, 5  # "promptly": in practice 3-5 days (GL 3-5-3-3); policy, not law
FINAL_DAYS, FINAL_DAYS_WRONGFUL = 30, 60  # Enforcement Rules Art. 8(2); GL 3-5-3-4
FINAL_WARN = timedelta(days=7)  # a working week to finish the final report
GDPR_WINDOW, GDPR_WARN = timedelta(hours=72), timedelta(hours=24)  # GDPR Art. 33(1)


@dataclass(frozen=True)
class Deadline:
    """One deadline: a date (an aware datetime for GDPR), when to warn, and the step that meets it."""

    kind: str
    due: date | datetime
    warn: date | datetime
    step: tuple[str, str]
    status: str = "open"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "due": self.due.isoformat(), "warn": self.warn.isoformat(),
                "status": self.status, "step": ".".join(self.step)}


def aware(moment: str | datetime, tz: tzinfo) -> datetime:
    """An ISO date or date-time as an aware datetime in `tz`; naive values are local to `tz`
    (what the organisation's people see), a bare date is the start of that local day."""
    value = moment if isinstance(moment, datetime) else datetime.fromisoformat(moment)
    return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)


def knowledge_day(discovered_at: str | datetime, tz: tzinfo) -> date:
    """Day 1 of every day count: the Japanese date on which the organisation learned of it.

    GL 3-5-3-4: 「その時点を1日目とする」. A bare date is that date; a date-time (naive ones read in
    the organisation's zone `tz`) is converted to Asia/Tokyo: in London at 20:00 it is already the
    next day in Japan, and that is day 1.
    """
    if isinstance(discovered_at, str) and "T" not in discovered_at and " " not in discovered_at.strip():
        return date.fromisoformat(discovered_at.strip())
    if isinstance(discovered_at, date) and not isinstance(discovered_at, datetime):
        return discovered_at
    return aware(discovered_at, tz).astimezone(JAPAN).date()


def day(first: date, n: int) -> date:
    """Day n of a count where `first` is day 1 (weekends and holidays count)."""
    return first + timedelta(days=n - 1)


def is_closed_day(d: date, national) -> bool:
    """Saturday, Sunday, a national holiday (振替休日 and 国民の休日 included), or Dec 29 - Jan 3
    (行政機関の休日に関する法律 Art. 1)."""
    year_end = (d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3)
    return d.weekday() >= 5 or d in national or year_end


@functools.lru_cache(maxsize=16)
def japanese_holidays(year: int):
    """The national holidays of `year` and the next (built once: it cost 0.4 ms a case; the
    library is imported here, not by whoever only reads a deadline)."""
    import holidays

    return holidays.country_holidays("JP", years=range(year, year + 2))


def next_open_day(d: date) -> date:
    """`d`, or the first later day that is not a closed day (the same law, Art. 2)."""
    national = japanese_holidays(d.year)
    while is_closed_day(d, national):
        d += timedelta(days=1)
    return d


def final_days(wrongful: bool) -> int:
    return FINAL_DAYS_WRONGFUL if wrongful else FINAL_DAYS


def final_due(first: date, wrongful: bool) -> date:
    """The PPC's final report: day 30 (60 with T3), moved off a closed day."""
    return next_open_day(day(first, final_days(wrongful)))


def _prompt(kind: str, first: date) -> Deadline:
    # "Promptly" has no day-count rule and the portals take reports on any day, so the
    # 3-5 day window is not moved off weekends.
    return Deadline(kind, day(first, PROMPT_DUE_DAY), day(first, PROMPT_WARN_DAY), STEPS[kind])


def _final(kind: str, due: date) -> Deadline:
    return Deadline(kind, due, due - FINAL_WARN, STEPS[kind])


def _hours(kind: str, start: datetime, hours: timedelta, warn: timedelta, tz: tzinfo) -> Deadline:
    # Clock hours are added in UTC: 72 hours across a DST change are still 72 hours.
    utc = start.astimezone(timezone.utc)
    due, warn_at = utc + hours, utc + hours - min(warn, hours / 2)
    return Deadline(kind, due.astimezone(tz), warn_at.astimezone(tz), STEPS[kind])


def schedule(assessment: dict, discovered_at: str | datetime, *, tz: tzinfo) -> list[Deadline]:
    """Every deadline kind, in a stable order, all open until statuses are applied from the steps:
    like the steps, a deadline whose step does not apply is listed as not_applicable."""
    first = knowledge_day(discovered_at, tz)
    wrongful = "T3" in assessment.get("triggers", ()) or "T3" in (
        assessment.get("privacy_mark") or {}).get("triggers", ())
    start = aware(discovered_at, tz)
    hours = timedelta(hours=(assessment.get("gdpr") or {}).get("controller_notice_hours") or 24)
    return [
        _prompt("ppc_preliminary", first), _final("ppc_final", final_due(first, wrongful)),
        _prompt("review_body_preliminary", first),
        # JIPDEC publishes no rule that moves a deadline off a weekend: the earlier date stands.
        _final("review_body_final", day(first, final_days(wrongful))),
        _prompt("client_notice", first),
        _hours("gdpr_72h", start, GDPR_WINDOW, GDPR_WARN, tz),
        _hours("gdpr_controller_notice", start, hours, GDPR_WARN, tz),
        _prompt("sector_report", first),
    ]


def _due_value(due: date | datetime | str) -> date | datetime:
    if isinstance(due, str):
        return datetime.fromisoformat(due) if "T" in due else date.fromisoformat(due)
    return due


def is_past(due: date | datetime | str, now: datetime, tz: tzinfo | None = None) -> bool:
    """Whether `now` is after the deadline: after the Japanese due date, or after the GDPR instant.

    `tz` is accepted for the callers' convenience and not used: a due date is a Japanese date.
    """
    due = _due_value(due)
    if isinstance(due, datetime):  # in UTC: same-zone comparison in Python is wall-clock
        return now.astimezone(timezone.utc) > due.astimezone(timezone.utc)
    return now.astimezone(JAPAN).date() > due


def status_of(step: str, due: date | datetime | str, *, now: datetime, tz: tzinfo | None = None) -> str:
    """The deadline's status from its step's: done when closed, skipped or not_applicable as the
    step, overdue once past (also a pending one: it may well be owed), else open or pending."""
    if step == "closed":
        return "done"
    if step in ("skipped", "not_applicable"):
        return step
    if is_past(due, now):
        return "overdue"
    return "pending" if step == "pending" else "open"


def with_status(deadlines: list[Deadline], phases: list[dict], *, now: datetime,
                tz: tzinfo | None = None) -> list[Deadline]:
    """The deadlines with statuses read from the phases at `now`."""
    return [replace(d, status=status_of(step_status(phases, *d.step), d.due, now=now))
            for d in deadlines]


def refreshed(stored: dict, *, now: datetime, tz: tzinfo | None = None) -> dict:
    """A stored deadline dict with its status brought up to `now` (for listings between reassessments)."""
    if stored["status"] in ("done", "skipped", "not_applicable"):
        return dict(stored)
    if is_past(stored["due"], now):
        return {**stored, "status": "overdue"}
    return {**stored, "status": "pending" if stored["status"] == "pending" else "open"}


def days_left(stored: dict, *, now: datetime, tz: tzinfo | None = None) -> int:
    """Whole days from today to the due date: Japanese days for a date, the organisation's days
    (`tz`) for a GDPR instant; 0 on the day, negative once past."""
    due = _due_value(stored["due"])
    zone = (tz or JAPAN) if isinstance(due, datetime) else JAPAN
    due_date = due.astimezone(zone).date() if isinstance(due, datetime) else due
    return (due_date - now.astimezone(zone).date()).days
