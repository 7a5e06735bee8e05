"""Deadlines of a case, counted in the organisation's timezone from the day it learned of the leak."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo

import holidays

from .phases import step_status

# Each kind of deadline and the phase step whose close meets it.
STEPS = {
    "ppc_preliminary": ("authorities", "ppc_preliminary"),
    "ppc_final": ("authorities", "ppc_final"),
    "review_body_preliminary": ("authorities", "review_body_preliminary"),
    "review_body_final": ("authorities", "review_body"),
    "client_notice": ("publication", "client"),
    "gdpr_72h": ("authorities", "gdpr"),
}
PROMPT_WARN_DAY, PROMPT_DUE_DAY = 3, 5  # "promptly": in practice 3-5 days (PPC guideline 3-5-3-3)
FINAL_DAYS, FINAL_DAYS_WRONGFUL = 30, 60  # Enforcement Rules Art. 8(2)
FINAL_WARN = timedelta(days=7)  # a working week to finish the final report
GDPR_WINDOW, GDPR_WARN = timedelta(hours=72), timedelta(hours=24)


@dataclass(frozen=True)
class Deadline:
    """One deadline: a date (a datetime for GDPR), when to warn, and the step that meets it."""

    kind: str
    due: date | datetime
    warn: date | datetime
    step: tuple[str, str]
    status: str = "open"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "due": self.due.isoformat(), "warn": self.warn.isoformat(),
                "status": self.status, "step": ".".join(self.step)}


def aware(moment: str | datetime, tz: tzinfo) -> datetime:
    """An ISO date or date-time as an aware datetime; a bare date is the start of that local day."""
    value = moment if isinstance(moment, datetime) else datetime.fromisoformat(moment)
    return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)


def knowledge_day(discovered_at: str | datetime, tz: tzinfo) -> date:
    """Day 1 of every count: the local date on which the organisation learned of it."""
    return aware(discovered_at, tz).date()


def day(first: date, n: int) -> date:
    """Day n of a count where `first` is day 1 (weekends and holidays count)."""
    return first + timedelta(days=n - 1)


def is_closed_day(d: date, national: holidays.HolidayBase) -> bool:
    """Saturday, Sunday, a national holiday, or the year-end break Dec 29 - Jan 3."""
    year_end = (d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3)
    return d.weekday() >= 5 or d in national or year_end


def next_open_day(d: date) -> date:
    """`d`, or the first later day that is not a closed day (the rule for a deadline's last day)."""
    national = holidays.country_holidays("JP", years=range(d.year, d.year + 2))
    while is_closed_day(d, national):
        d += timedelta(days=1)
    return d


def final_due(first: date, wrongful: bool) -> date:
    return next_open_day(day(first, FINAL_DAYS_WRONGFUL if wrongful else FINAL_DAYS))


def _prompt(kind: str, first: date) -> Deadline:
    # "Promptly" has no day-count rule and the portals take reports on any day, so the
    # 3-5 day window is not moved off weekends.
    return Deadline(kind, day(first, PROMPT_DUE_DAY), day(first, PROMPT_WARN_DAY), STEPS[kind])


def _final(kind: str, first: date, wrongful: bool) -> Deadline:
    due = final_due(first, wrongful)
    return Deadline(kind, due, due - FINAL_WARN, STEPS[kind])


def schedule(assessment: dict, discovered_at: str | datetime, *, tz: tzinfo) -> list[Deadline]:
    """Every deadline this organisation tracks for the case; all open until statuses are applied.

    PPC and client deadlines are always listed (not_applicable when their step does not apply);
    the review body's only for Privacy Mark holders and GDPR's only when the organisation has it.
    """
    first = knowledge_day(discovered_at, tz)
    wrongful = "T3" in assessment.get("triggers", ())
    deadlines = [_prompt("ppc_preliminary", first), _final("ppc_final", first, wrongful)]
    if assessment.get("privacy_mark", {}).get("applies"):
        deadlines += [_prompt("review_body_preliminary", first),
                      _final("review_body_final", first, wrongful)]
    deadlines.append(_prompt("client_notice", first))
    if assessment.get("gdpr", {}).get("applies"):
        due = aware(discovered_at, tz) + GDPR_WINDOW
        deadlines.append(Deadline("gdpr_72h", due, due - GDPR_WARN, STEPS["gdpr_72h"]))
    return deadlines


def is_past(due: date | datetime | str, now: datetime, tz: tzinfo) -> bool:
    """Whether `now` is after the deadline: after the local due date, or after the GDPR instant."""
    if isinstance(due, str):
        due = datetime.fromisoformat(due) if "T" in due else date.fromisoformat(due)
    if isinstance(due, datetime):
        return now > due
    return now.astimezone(tz).date() > due


def status_of(step: str, due: date | datetime | str, *, now: datetime, tz: tzinfo) -> str:
    """done when its step closed, not_applicable when the step does not apply, else open or overdue."""
    if step == "closed":
        return "done"
    if step == "not_applicable":
        return "not_applicable"
    return "overdue" if is_past(due, now, tz) else "open"


def with_status(deadlines: list[Deadline], phases: list[dict], *, now: datetime,
                tz: tzinfo) -> list[Deadline]:
    """The deadlines with statuses read from the phases at `now`."""
    return [replace(d, status=status_of(step_status(phases, *d.step), d.due, now=now, tz=tz))
            for d in deadlines]


def refreshed(stored: dict, *, now: datetime, tz: tzinfo) -> dict:
    """A stored deadline dict with open/overdue brought up to `now` (for listings between reassessments)."""
    if stored["status"] in ("done", "not_applicable"):
        return dict(stored)
    return {**stored, "status": "overdue" if is_past(stored["due"], now, tz) else "open"}


def days_left(stored: dict, *, now: datetime, tz: tzinfo) -> int:
    """Whole local days from today to the due date: 0 on the day, negative once past."""
    due = stored["due"]
    due_date = datetime.fromisoformat(due).astimezone(tz).date() if "T" in due else date.fromisoformat(due)
    return (due_date - now.astimezone(tz).date()).days
