"""Escalation rules: who is told of a case, when the executives are told, and when to remind.

Pure functions of a case, the config and an injected `now`. The schedule is a grid anchored at the
first escalation (t0) with the interval I = escalation.ack_within_minutes: at t0 + I the
executives, at t0 + k*I (k >= 2) a reminder to everyone told so far, until a manager acknowledges.
Each step has a stable key ("escalate:initial", "escalate:exec:1", "remind:2", ...) that the caller
records in case["sent"] with the time it queued the mail; a recorded key is never due again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from leakline.config import PRIVACY_OFFICER, Config, Manager

INITIAL = "escalate:initial"
EXECUTIVE = "escalate:exec:1"


class Recipient(NamedTuple):
    """A manager to tell and why; unpacks as (manager, reason)."""

    manager: Manager
    reason: str  # why this person is told: "privacy_officer", "supervisor", "executive", ...


@dataclass(frozen=True)
class Action:
    """One escalation mail to send now. stage: 'initial' | 'executive' | 'reminder'."""

    key: str
    stage: str
    recipients: tuple[Recipient, ...]
    step: int  # k: whole intervals since the first escalation (0 for the initial one)


def _unique(pairs: list[Recipient]) -> list[Recipient]:
    seen: set[str] = set()
    result = []
    for pair in pairs:
        if pair.manager.email.lower() not in seen:
            seen.add(pair.manager.email.lower())
            result.append(pair)
    return result


def initial_recipients(case: dict, config: Config) -> list[Recipient]:
    """Every privacy officer and the reporter's supervisors (their `covers` match the reporter).

    With neither configured, every manager: a report must reach someone.
    """
    reporter = case.get("reporter") or ""
    pairs = [Recipient(m, PRIVACY_OFFICER) for m in config.privacy_officers()]
    pairs += [Recipient(m, "supervisor") for m in config.supervisors_of(reporter)]
    if not pairs:
        pairs = [Recipient(m, m.role) for m in config.managers]
    return _unique(pairs)


def executive_recipients(config: Config) -> list[Recipient]:
    return [Recipient(m, "executive") for m in config.managers_with("executive")]


def notified_so_far(case: dict, config: Config) -> list[Recipient]:
    """Everyone an escalation of this case went to, as recorded in case["sent"]."""
    sent = case.get("sent") or {}
    pairs = initial_recipients(case, config) if INITIAL in sent else []
    if EXECUTIVE in sent:
        pairs += executive_recipients(config)
    return _unique(pairs)


def is_acknowledged(case: dict) -> bool:
    return bool(case.get("acks"))


def _sent_times(case: dict) -> list[datetime]:
    sent = case.get("sent") or {}
    return [datetime.fromisoformat(at) for key, at in sent.items()
            if key == INITIAL or key == EXECUTIVE or key.startswith("remind:")]


def due_escalations(case: dict, config: Config, now: datetime) -> list[Action]:
    """The escalation mails due at `now`: at most one, so a scheduler that was down for hours
    sends one catch-up mail, not a burst. [] once acknowledged or closed."""
    if is_acknowledged(case) or case.get("status") == "closed":
        return []
    sent = case.get("sent") or {}
    if INITIAL not in sent:
        return [Action(INITIAL, "initial", tuple(initial_recipients(case, config)), 0)]
    interval = timedelta(minutes=config.escalation.ack_within_minutes)
    step = int((now - datetime.fromisoformat(sent[INITIAL])) / interval)
    if step < 1:
        return []
    executives = executive_recipients(config)
    if EXECUTIVE not in sent and executives:
        return [Action(EXECUTIVE, "executive", tuple(executives), step)]
    key = f"remind:{step}"
    # Skipped grid points are not made up for, and two mails never come closer than the interval.
    if key in sent or now - max(_sent_times(case)) < interval:
        return []
    return [Action(key, "reminder", tuple(notified_so_far(case, config)), step)]


def next_due_at(case: dict, config: Config) -> datetime | None:
    """When due_escalations may next return something, for a scheduler that sleeps until then."""
    sent = case.get("sent") or {}
    if is_acknowledged(case) or case.get("status") == "closed" or INITIAL not in sent:
        return None
    interval = timedelta(minutes=config.escalation.ack_within_minutes)
    return max(_sent_times(case)) + interval


def guidance_allowed(sender: str, last_sent_at: datetime | None, now: datetime,
                     window_minutes: int) -> bool:
    """At most one guidance reply per sender per window: a second report within it gets none."""
    if not sender or "@" not in sender:
        return False
    return last_sent_at is None or now - last_sent_at >= timedelta(minutes=window_minutes)
