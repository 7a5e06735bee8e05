"""No silent change of a duty: the privacy officers are told at once when a change of facts
makes a report required (newly_required) or no longer required (no_longer_required), and who
changed what. Both by mail (an escalation of stage "required" or "dropped") and in the audit.
The mail is worded from the step ids and the changes themselves, in the organisation's
language; the English notes only name the mail (its stable Message-ID) and the audit event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from leakline.config import PRIVACY_OFFICER, Config
from leakline.process.assessment import REQUIRED, no_longer_required
from leakline.responders import escalation as esc
from leakline.responders.alerts import render_escalation


def officers(case: dict, config: Config) -> list[esc.Recipient]:
    return [r for r in esc.initial_recipients(case, config) if r.reason == PRIVACY_OFFICER]


def officers_or_managers(case: dict, config: Config) -> list[esc.Recipient]:
    """The privacy officers; without one configured, whoever the case was escalated to."""
    return officers(case, config) or esc.initial_recipients(case, config)


def required_ids(notes: list[str]) -> list[str]:
    """The step ids behind process.reassess's notes ("<REQUIRED label> now required: ...")."""
    return [name for name, (label, _) in REQUIRED.items()
            if any(note.startswith(f"{label} now required") for note in notes)]


def alert(mailer, case: dict, config: Config, now: datetime, *, stage: str, key: str,
          notes: list[str], duties: list[str] = (), changes: list = (), message: dict | None = None,
          recipients: list[esc.Recipient] | None = None) -> list[dict]:
    """One escalation mail of `stage` to each privacy officer (or `recipients`): `duties` are
    step ids (REQUIRED), `changes` the facts.Change records that moved them, `message` the mail
    that is the news (a follow-up on a closed case); `notes` name it in `key` only."""
    told = officers(case, config) if recipients is None else recipients
    action = esc.Action(key, stage, tuple(told), 0)
    return [mailer.send(case, kind="escalation", to=[r.manager.email], step=action.key,
                        rendered=render_escalation(case, config, action=action, recipient=r,
                                                   notified=told, now=now, notes=notes,
                                                   duties=duties, changes=changes, message=message))
            for r in told]


def _shown(value) -> str:
    return "unknown" if value is None else str(value)


def alert_dropped(mailer, case: dict, before: dict | None, changes: list, config: Config,
                  now: Callable[[], datetime], by: str, step: str) -> list[dict]:
    """Reports `before` required that the case's assessment no longer does: audit and mail.

    `step` names the change (the message that made it, or the CLI call) for a stable Message-ID.
    """
    dropped = no_longer_required(before, case.get("assessment") or {})
    if not dropped:
        return []
    at = now()
    changed = [f"{c.field}: {_shown(c.old)} -> {_shown(c.new)} ({c.source}, by {c.by})" for c in changes]
    notes = [f"{REQUIRED[name][0]}: no longer required" for name in dropped] + \
        [f"changed: {line}" for line in changed]
    event = {"action": "duty_dropped", "actor": by,
             "details": {"reports": dropped, "changes": [c.to_dict() for c in changes]}}
    return [event] + alert(mailer, case, config, at, stage="dropped",
                           key=f"dropped:{step}:{'|'.join(dropped)}", notes=notes,
                           duties=dropped, changes=changes)
