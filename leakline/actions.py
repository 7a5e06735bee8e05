"""What an officer does to a case, as library functions; the CLI is a few lines over each.

Each function finds the case by the id as typed (`inc-2026-2`), changes it under the data lock
with its audit events, marks it seen by an officer, and returns what the CLI reports. Errors
are narrow and one line: NoSuchCase, ActionError, and the domain's FactError and PhaseError.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Callable

from leakline import casework, process
from leakline.caseref import find_case_id
from leakline.listing import officer_acted
from leakline.process.decisions import Skipped

MAX_NOTE = 10_000
REOPEN_COMMAND = 'leakline phase reopen {case_id} {phase} --step {step} --reason "..." --by {by}'


class ActionError(ValueError):
    """An action that cannot be done as asked; the message is one line."""


@dataclass
class Outcome:
    """The case after an action, and what the action found on the way."""

    case: dict
    earlier: list = field(default_factory=list)  # acks before this one; steps skipped; ...
    changed: bool = True


def checked_actor(value: str | None) -> str:
    """Who acts: an email address, as every --by is recorded in the audit trail."""
    actor = (value or "").strip().lower()
    if not actor:
        raise ActionError("who does this? give --by EMAIL, or set $LEAKLINE_USER or [cli] user")
    if "@" not in actor or any(c in actor for c in " \r\n<>,"):
        raise ActionError(f"--by: not an email address: {actor!r}")
    return actor


def _text(value: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ActionError(f"{what} is required")
    if len(text) > MAX_NOTE:
        raise ActionError(f"{what} is too long ({len(text)} characters; at most {MAX_NOTE})")
    return text


def apply(app, typed_id: str, by: str, change: Callable[[dict], list[dict]]) -> dict:
    """Run `change(case) -> events` on a case under the lock; an officer acted when it changed."""
    case_id = find_case_id(app.store, typed_id, app.config.service.case_prefix)

    def run(case: dict) -> list[dict]:
        case.update(process.migrate(case))
        events = change(case)
        if events:
            officer_acted(case, by, app.now().isoformat())
        return events

    return app.store.update(case_id, run)


def _org(app) -> dict:
    return {"org": app.config.organization, "tz": app.config.service.tz}


# -- acknowledge, note, assess -----------------------------------------------------------------

def acknowledge(app, typed_id: str, by: str) -> Outcome:
    """Acknowledge as a manager: escalation stops, the report phase closes. Acknowledging again
    changes nothing; `earlier` holds the acknowledgements there were before."""
    if app.config.manager(by) is None:
        raise ActionError(f"{by} is not one of the configured [[managers]]")
    earlier: list[dict] = []

    def ack(case: dict) -> list[dict]:
        earlier.extend(case.get("acks") or [])
        return casework.acknowledge(case, by, "cli", now=app.now(), config=app.config)

    case = apply(app, typed_id, by, ack)
    return Outcome(case, earlier, changed=not any(a["by"] == by for a in earlier))


def add_note(app, typed_id: str, text: str, by: str) -> Outcome:
    """Keep an officer's note with the case (and its text in the audit trail)."""
    text = _text(text, "--text")

    def note(case: dict) -> list[dict]:
        case.setdefault("notes", []).append({"by": by, "at": app.now().isoformat(), "text": text})
        return [{"action": "note_added", "actor": by, "details": {"text": text}}]

    return Outcome(apply(app, typed_id, by, note))


def assess(app, typed_id: str, values: dict, by: str, evidence: dict | None = None) -> Outcome:
    """Record facts as an admin (beats a reply and extraction), reassess, alert new duties."""

    def change(case: dict) -> list[dict]:
        now = app.now()
        # Either way a person is told at once: a duty that appeared, or one the change removed.
        return casework.record_facts(case, values, "admin", by=by, now=now, config=app.config,
                                     mailer=app.mailer, step=f"cli:{now.isoformat()}",
                                     evidence=evidence, assessed_by=by)[0]

    return Outcome(apply(app, typed_id, by, change))


# -- phases --------------------------------------------------------------------------------------

def close_phase(app, typed_id: str, phase_id: str, step: str | None, note: str, by: str, *,
                skip: bool = False, final_too: bool = False) -> Outcome:
    """Close a phase or one of its steps (`skip`: decide against an optional step)."""

    def close(case: dict) -> list[dict]:
        now = app.now()
        case.update(process.close(case, phase_id, step, by=by, at=now.isoformat(), note=note,
                                  skip=skip, final_too=final_too, now=now, **_org(app)))
        details = {"phase": phase_id, "step": step, "note": note}
        if skip or final_too:
            details.update(skipped=skip, final_too=final_too)
        return [{"action": "phase_closed", "actor": by, "details": details}]

    return Outcome(apply(app, typed_id, by, close))


def skip_phase(app, typed_id: str, phase_id: str, step: str | None, reason: str, by: str) -> Outcome:
    """Skip one step, or every open and pending step of a phase, required ones included: a person
    decides, the reason is kept, and a skipped required report alerts the privacy officer."""
    reason = _text(reason, "--reason")
    found: list[Skipped] = []

    def skip(case: dict) -> list[dict]:
        now = app.now()
        updated, done = process.skip(case, phase_id, step, by=by, at=now.isoformat(),
                                     reason=reason, now=now, **_org(app))
        case.update(updated)
        found.extend(done)
        event = {"action": "phase_skipped", "actor": by,
                 "details": {"phase": phase_id, "step": step, "reason": reason,
                             "skipped": [s.name for s in done],
                             "required": [s.name for s in done if s.drops_a_duty]}}
        return [event] + alert_skipped(app, case, [s for s in done if s.drops_a_duty], reason, by)

    return Outcome(apply(app, typed_id, by, skip), found)


def reopen_phase(app, typed_id: str, phase_id: str, step: str | None, reason: str, by: str) -> Outcome:
    """Open a closed or skipped step (or a phase without steps) again; the assessment decides
    whether it is then open, pending or not applicable."""
    reason = _text(reason, "--reason")
    was: list[str] = []

    def reopen(case: dict) -> list[dict]:
        updated, before = process.reopen(case, phase_id, step, now=app.now(), **_org(app))
        case.update(updated)
        was.append(before)
        return [{"action": "phase_reopened", "actor": by,
                 "details": {"phase": phase_id, "step": step, "was": before, "reason": reason}}]

    return Outcome(apply(app, typed_id, by, reopen), was)


def alert_skipped(app, case: dict, skipped: list[Skipped], reason: str, by: str) -> list[dict]:
    """Mail the privacy officers (every manager when none is configured) about skipped duties."""
    if not skipped:
        return []
    from leakline.responders.render import local_time, render_mail

    config = app.config
    now = app.now()
    rendered = render_mail("skip_alert", config.organization.language, {
        "case_id": case["id"], "case_subject": " ".join((case.get("subject") or "").split()),
        "by": by, "at": local_time(now, config.service.tz), "reason": " ".join(reason.split()),
        "skipped": [{"name": s.name, "step": s.step, "was": s.was,
                     "reopen": REOPEN_COMMAND.format(case_id=case["id"], phase=s.phase,
                                                     step=shlex.quote(s.step or ""), by="YOUR_EMAIL")}
                    for s in skipped],
        "org_name": config.organization.name}, templates=config.organization.templates_dir)
    officers = config.officer_addresses()
    key = "skip:" + ",".join(s.name for s in skipped) + ":" + now.isoformat()
    return [app.mailer.send(case, kind="skip_alert", to=[email], rendered=rendered, step=key)
            for email in officers]


# -- the case ----------------------------------------------------------------------------------

def close_case(app, typed_id: str, by: str) -> Outcome:
    """Close a case; refused while a phase or step is open or pending (skipped ones are settled).
    Optional steps nobody did are recorded skipped."""
    skipped: list[str] = []

    def close(case: dict) -> list[dict]:
        if case["status"] == "closed":
            raise ActionError(f"{case['id']} is already closed")
        still_open = process.open_items(case.get("phases") or [])
        if still_open:
            raise ActionError(f"{case['id']} cannot be closed; still open: {', '.join(still_open)}")
        now = app.now()
        for phase_id, step in process.optional_open(case.get("phases") or []):
            case.update(process.close(case, phase_id, step, by=by, at=now.isoformat(), skip=True,
                                      note="not done (optional); the case was closed", now=now,
                                      **_org(app)))
            skipped.append(f"{phase_id}.{step}")
        case["status"], case["closed_at"] = "closed", now.isoformat()
        return [{"action": "case_closed", "actor": by, "details": {"skipped": skipped}}]

    return Outcome(apply(app, typed_id, by, close), skipped)


def reopen_case(app, typed_id: str, reason: str, by: str) -> Outcome:
    """Open a closed case again (escalation does not restart; deadlines and reminders resume)."""
    reason = _text(reason, "--reason")

    def reopen(case: dict) -> list[dict]:
        if case["status"] != "closed":
            raise ActionError(f"{case['id']} is not closed")
        closed_at = case.get("closed_at")
        case["status"], case["closed_at"] = "open", None
        return [{"action": "case_reopened", "actor": by,
                 "details": {"reason": reason, "closed_at": closed_at}}]

    return Outcome(apply(app, typed_id, by, reopen))


def save_draft(app, typed_id: str, result, by: str) -> Outcome:
    """Keep a printed report draft with the case; its SHA-256 goes into the audit trail."""
    record = {"kind": result.kind, "stage": result.stage, "lang": result.lang,
              "sha256": result.sha256, "forced": result.forced, "saved_by": by,
              "saved_at": app.now().isoformat(), "text": result.text}

    def keep(case: dict) -> list[dict]:
        case.setdefault("drafts", []).append(record)
        return [{"action": "report_saved", "actor": by,
                 "details": {k: record[k] for k in ("kind", "stage", "lang", "sha256", "forced")}}]

    return Outcome(apply(app, typed_id, by, keep))
