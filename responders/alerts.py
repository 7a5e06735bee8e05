"""What managers are told: escalations and reminders of a case, deadline reminders, dead letters.

Managers are internal, so these mails carry the case summary and the first lines of the report.
Every mail says how to act without a link: reply to it, or run the CLI command it prints.
"""

from __future__ import annotations

import shlex
from datetime import date, datetime, time

from leakline.config import Config
from leakline.process.vocabulary import CATEGORY_LABELS, DATA_ITEM_LABELS
from leakline.responders.assessview import view
from leakline.responders.escalation import Action, Recipient
from leakline.responders.render import Rendered, excerpt, local_time, render_mail

ACK_COMMAND = "leakline cases ack {case_id} --by {email}"
# The CLI's command that closes the step a deadline belongs to.
CLOSE_STEP_COMMAND = 'leakline phase close {case_id} {phase} --step {step} --note "..." --by YOUR_EMAIL'
RETRY_COMMAND = "leakline outbox retry {message_id}"


def _person(manager, reason: str) -> dict:
    return {"name": manager.name, "email": manager.email, "reason": reason}


def render_escalation(case: dict, config: Config, *, action: Action, recipient: Recipient,
                      notified: list[Recipient], now: datetime, notes: list[str] = (),
                      duties: list[str] = (), changes: list = (),
                      message: dict | None = None) -> Rendered:
    """One manager's copy of an escalation (stage initial, executive, reminder, required,
    dropped or closed), with the case's legal assessment in the organisation's language.

    Stage "required" names the `duties` (step ids) new facts made required, "dropped" those a
    change made no longer required and the `changes` (facts.Change or its dict) that did it,
    "closed" the `message` that arrived on a closed case. `notes` (English) are not shown.
    `notified` is everyone told of the case so far (escalation.notified_so_far plus this action's
    recipients); the mail lists them, the recipient excepted, so managers can reach each other.
    """
    tz = config.service.tz
    language = config.organization.language
    first = (case.get("sent") or {}).get("escalate:initial")
    elapsed = int((now - datetime.fromisoformat(first)).total_seconds() // 60) if first else 0
    others = [_person(r.manager, r.reason) for r in notified
              if r.manager.email.lower() != recipient.manager.email.lower()]
    return render_mail("escalation", language, {
        "stage": action.stage,
        "notes": list(notes),
        "duties": list(duties),
        # A field whose source changed and value did not is no news to a manager.
        "changes": [w for w in (_worded(c, language, tz) for c in changes) if w["old"] != w["new"]],
        "followup": _followup(message, tz, language) if message else None,
        "view": view(case, now=now, tz=tz),
        "reply": case.get("reporter_reply"),
        "window": config.escalation.reply_window_minutes,
        "case_id": case["id"],
        "recipient": _person(recipient.manager, recipient.reason),
        "reporter": case.get("reporter") or "",
        "reporter_name": case.get("reporter_name") or "",
        "case_subject": " ".join((case.get("subject") or "").split()),
        "received": local_time(case.get("received_at"), tz, language),
        "category": case.get("category"),
        "flags": [f for f in case.get("flags") or [] if f in ("external", "spoof_suspected", "unparsed")],
        "excerpt": excerpt(_report_text(case)),
        "others": others,
        "minutes": config.escalation.ack_within_minutes,
        "elapsed": elapsed,
        "ack_command": ACK_COMMAND.format(case_id=case["id"], email=shlex.quote(recipient.manager.email)),
        "org_name": config.organization.name,
    }, templates=config.organization.templates_dir)


MOMENTS = ("discovered_at", "occurred_at", "client_notified_at")


def _worded(change, language: str, tz) -> dict:
    """A fact change for a mail: ids of data items and categories as the language's words,
    moments as the organisation reads them."""
    c = change.to_dict() if hasattr(change, "to_dict") else dict(change)
    index = 0 if language == "ja" else 1

    def word(value):
        if c["field"] == "data_items" and isinstance(value, list):
            return [DATA_ITEM_LABELS.get(i, (i, i))[index] for i in value]
        if c["field"] == "category" and value in CATEGORY_LABELS:
            return CATEGORY_LABELS[value][index]
        if c["field"] in MOMENTS and isinstance(value, str):
            try:
                return local_time(value, tz, language)
            except ValueError:
                return value
        return value
    return {**c, "old": word(c.get("old")), "new": word(c.get("new"))}


def _followup(message: dict, tz, language: str) -> dict:
    return {"from": message.get("from") or "?", "subject": " ".join((message.get("subject") or "").split()),
            "received": local_time(message.get("received_at"), tz, language),
            "excerpt": excerpt(message.get("text"))}


def _report_text(case: dict) -> str:
    messages = case.get("messages") or []
    first_in = next((m for m in messages if m.get("direction", "in") == "in"), None)
    return (first_in or {}).get("text") or ""


def render_deadline_reminder(case: dict, config: Config, *, step: str, due: date | datetime,
                             today: date, label: str | None = None,
                             command: str | None = None, now: datetime | None = None) -> Rendered:
    """A reminder that a step of the process (e.g. the preliminary report) is due or overdue,
    with the case's assessment and its other nearest deadlines.

    `step` is the deadline's id; `label` overrides its translated name; `command` the close
    command; `now` the moment of the assessment view (default: noon of `today`).
    """
    due_day = due.date() if isinstance(due, datetime) else due
    tz = config.service.tz
    now = now or datetime.combine(today, time(12), tzinfo=tz)
    return render_mail("reminder", config.organization.language, {
        "case_id": case["id"],
        "case_subject": " ".join((case.get("subject") or "").split()),
        "step": step,
        "label": label,
        "due": due_day.isoformat(),
        "due_day": {"y": due_day.year, "m": due_day.month, "d": due_day.day, "time": None,
                    "iso": due_day.isoformat()},
        "days_left": (due_day - today).days,
        "view": view(case, now=now, tz=tz, leave_out=step),
        "command": command or _close_command(case["id"], step),
        "org_name": config.organization.name,
    }, templates=config.organization.templates_dir)


def _close_command(case_id: str, deadline_kind: str) -> str:
    from leakline.process.deadlines import STEPS

    phase, step = STEPS.get(deadline_kind, ("authorities", deadline_kind))
    return CLOSE_STEP_COMMAND.format(case_id=case_id, phase=phase, step=shlex.quote(step))


def render_deadletter_alert(config: Config, *, message_id: str, to: list[str], subject: str,
                            error: str, attempts: int, case_id: str | None,
                            first_tried: datetime | str | None = None) -> Rendered:
    """To the privacy officer: a message we could not deliver and gave up on (5xx or 5 days)."""
    return render_mail("deadletter_alert", config.organization.language, {
        "message_id": message_id,
        "to": list(to),
        "failed_subject": " ".join((subject or "").split()),
        "error": error,
        "attempts": attempts,
        "case_id": case_id,
        "first_tried": local_time(first_tried, config.service.tz),
        "retry_command": RETRY_COMMAND.format(message_id=shlex.quote(message_id)),
        "org_name": config.organization.name,
    }, templates=config.organization.templates_dir)
