"""Changes to a case made alike by a reply (the responders) and by an officer (leakline.actions,
the CLI): acknowledging, recording facts, telling the privacy officers of a duty that came or
went. Each changes the case in place and returns its audit events; the caller saves it.
"""

from __future__ import annotations

from datetime import datetime

from leakline import process
from leakline.config import Config


def acknowledge(case: dict, by: str, via: str, *, now: datetime, config: Config) -> list[dict]:
    """`by` acknowledges the case (escalation stops) and the report phase closes; a second
    acknowledgement by the same person changes nothing."""
    if any(a["by"] == by for a in case["acks"]):
        return []
    case["acks"].append({"by": by, "at": now.isoformat(), "via": via})
    events = [{"action": "acknowledged", "actor": by, "details": {"via": via}}]
    phase = next((p for p in case.get("phases", []) if p["id"] == "report"), None)
    if phase and phase["status"] == "open":
        case.update(process.close(case, "report", by=by, at=now.isoformat(),
                                  note=f"acknowledged ({via})", org=config.organization,
                                  tz=config.service.tz, now=now))
        events.append({"action": "phase_closed", "actor": by, "details": {"phase": "report"}})
    return events


def record_facts(case: dict, values: dict, source: str, *, by: str, now: datetime,
                 config: Config, mailer, step: str, evidence: dict | None = None,
                 assessed_by: str = "system") -> tuple[list[dict], list]:
    """Record facts from `source` ('reply', 'admin': process.facts' precedence), reassess, and
    tell the privacy officers of a duty that appeared or went. -> (events, changes); nothing is
    changed and no event made when no fact changed. `step` names the change (the message that
    made it, or the CLI call) for the alerts' stable Message-IDs."""
    before = case.get("assessment")
    updated, changes = process.apply_facts(case, values, source, by=by, at=now.isoformat(),
                                           evidence=evidence)
    if not changes:
        return [], []
    updated, notes = process.reassess(updated, org=config.organization, tz=config.service.tz, now=now)
    case.update(updated)
    events = [{"action": "facts_changed", "actor": by,
               "details": {"source": source, "changes": [c.to_dict() for c in changes]}},
              {"action": "assessed", "actor": assessed_by,
               "details": {"assessment": case["assessment"], "notes": notes}}]
    events += alert_new_duties(case, notes, mailer=mailer, config=config, now=now)
    events += alert_dropped_duties(case, before, changes, by, step, mailer=mailer, config=config, now=now)
    return events, changes


def alert_new_duties(case: dict, notes: list[str], *, mailer, config: Config,
                     now: datetime) -> list[dict]:
    """A change made a report newly required (`notes`, from process.reassess): the privacy
    officers are mailed at once."""
    if not notes:
        return []
    from leakline.responders.duties import alert, required_ids

    return alert(mailer, case, config, now, stage="required", key="required:" + "|".join(notes),
                 notes=notes, duties=required_ids(notes))


def alert_dropped_duties(case: dict, before: dict | None, changes: list, by: str, step: str, *,
                         mailer, config: Config, now: datetime) -> list[dict]:
    """A change made a report `before` required no longer required: who changed what, by mail
    to the privacy officers and in the audit trail."""
    from leakline.responders.duties import alert_dropped

    return alert_dropped(mailer, case, before, changes, config, lambda: now, by, step)
