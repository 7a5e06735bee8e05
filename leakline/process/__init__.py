"""The response process over a case document: facts in, assessment, phases and deadlines out."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from . import deadlines as deadlines_
from . import phases as phases_
from .assessment import REQUIRED, assess, newly_required
from .facts import Change, FactError, current, learned_at, merge
from .phases import PhaseError, open_items, optional_open, step_id

__all__ = ["reassess", "apply_extraction", "apply_facts", "close", "open_items", "discovered_at",
           "migrate", "optional_open", "current", "FactError", "PhaseError", "Change", "skip",
           "reopen"]


def _org_tracks(org: Any) -> dict:
    tracks = {"privacy_mark": org.privacy_mark, "gdpr": org.gdpr, "report_to": org.report_to}
    for key in ("gdpr_role", "gdpr_processor_notice_hours", "sector", "sector_report_to"):
        if hasattr(org, key):
            tracks[key] = getattr(org, key)
    return tracks


def migrate(case: dict) -> dict:
    """A case stored before issue 10 with today's step ids (phases and deadlines); a client step
    closed then becomes the client_notified_at fact that now carries the release. Idempotent."""
    phases = phases_.migrate(case.get("phases"))
    deadlines = []
    for stored in case.get("deadlines") or []:
        phase, _, step = (stored.get("step") or "").partition(".")
        deadlines.append({**stored, "step": f"{phase}.{step_id(step)}" if step else stored.get("step")})
    facts = case.get("facts") or {}
    client = next((s for p in phases if p["id"] == "publication" for s in p["steps"]
                   if s["id"] == "client_notice" and s["status"] == "closed"), None)
    if client and "client_notified_at" not in facts and client.get("closed_at"):
        facts, _ = merge(facts, {"client_notified_at": client["closed_at"]}, source="admin",
                         by=client.get("closed_by") or "migration", at=client["closed_at"],
                         evidence={"client_notified_at": f"client step closed: {client.get('note')}"})
    return {**case, "phases": phases, "deadlines": deadlines, "facts": facts} if case.get("phases") \
        else {**case, "facts": facts}


def discovered_at(case: dict) -> str:
    """When the organisation learned of it: the recorded fact, else when the report was received."""
    start = learned_at(case)
    if not start:
        raise FactError("discovered_at: unknown, and the case has no received_at")
    return start


def reassess(case: dict, *, org: Any, tz: tzinfo, now: datetime) -> tuple[dict, list[str]]:
    """The case with category, assessment, phases and deadlines recomputed from its facts at `now`.

    Also returns one line per report that became required since the stored assessment (every
    required report when there was none): the caller escalates those to the privacy officer.
    """
    case = migrate(case)
    records = case.get("facts") or {}
    values = current(records)
    result = assess(records, **_org_tracks(org)).to_dict()
    phases = phases_.refresh(case.get("phases"), result, values)
    scheduled = deadlines_.schedule(result, discovered_at(case), tz=tz)
    deadlines = deadlines_.with_status(scheduled, phases, now=now, tz=tz)
    notes = [f"{REQUIRED[name][0]} now required: " + (", ".join(result["triggers"]) or "every incident")
             for name in newly_required(case.get("assessment"), result)]
    updated = {**case, "category": values["category"], "assessment": result, "phases": phases,
               "deadlines": [d.to_dict() for d in deadlines]}
    return updated, notes


def apply_extraction(case: dict, text: str, subject: str, at: Any,
                     found: Any = None) -> tuple[dict, list[Change]]:
    """The case with facts extracted from a report's text (source "extracted"), and what changed.

    Extraction replaces earlier extraction field by field and never a reply's or an admin's
    word. discovered_at is the discovery the text dates before the case's received_at (昨日,
    先週金曜), else when the report was received. Call reassess afterwards. `found`: the
    extraction of this very subject and text at the case's received_at, done beforehand.
    """
    if found is None:
        from .extract import extract  # here, not at import: listing a case needs no extractor

        found = extract(subject, text, received_at=case.get("received_at"))
    values, evidence = dict(found.values), dict(found.evidence)
    records = case.get("facts") or {}
    received = case.get("received_at")
    if "discovered_at" not in records and received and not _earlier(values.get("discovered_at"), received):
        values["discovered_at"] = received
        evidence["discovered_at"] = "when the report was received"
    merged, changes = merge(records, values, source="extracted", by="extraction", at=at,
                            evidence=evidence)
    return {**case, "facts": merged}, changes


def _earlier(stated: Any, received: str) -> bool:
    """Whether a discovery date the text gives is before the receipt (then it is day 1)."""
    if not stated:
        return False
    try:
        given = datetime.fromisoformat(str(stated))
        got = datetime.fromisoformat(received)
    except ValueError:
        return False
    if given.tzinfo is None:
        return given.date() <= got.date() if len(str(stated)) <= 10 else given <= got.replace(tzinfo=None)
    return given <= got


def apply_facts(case: dict, values: dict, source: str, by: str, at: Any,
                evidence: dict | None = None) -> tuple[dict, list[Change]]:
    """The case with facts from a reply or an admin (FactError if a value is wrong). Then reassess."""
    merged, changes = merge(case.get("facts") or {}, values, source=source, by=by, at=at,
                            evidence=evidence)
    return {**case, "facts": merged}, changes


def close(case: dict, phase_id: str, step: str | None = None, *, by: str, at: Any, note: str,
          org: Any, tz: tzinfo, now: datetime, skip: bool = False, final_too: bool = False) -> dict:
    """The case with a phase or step closed (PhaseError if it cannot be) and reassessed.

    Reassessing matters: notifying the client releases the PPC steps (closing client_notice
    records client_notified_at), and closing a step marks its deadline done. `final_too` closes
    ppc_final with ppc_preliminary: one report that is both (速報兼確報, GL 3-5-3-4).
    """
    case = migrate(case)
    if not case.get("phases"):
        case, _ = reassess(case, org=org, tz=tz, now=now)
    step = step_id(step) if step else step
    if final_too and step != "ppc_preliminary":
        raise PhaseError("--final-too goes with --step ppc_preliminary (速報兼確報)")
    phases = phases_.close(case["phases"], phase_id, step, by=by, at=at, note=note, skip=skip)
    if final_too:
        phases = phases_.close(phases, phase_id, "ppc_final", by=by, at=at,
                               note=f"{note.strip()} (速報兼確報: the preliminary report was also the final)")
    if step == "client_notice" and not skip:
        facts = case.get("facts") or {}
        if not (facts.get("client_notified_at") or {}).get("value"):
            when = at.isoformat() if isinstance(at, datetime) else str(at)
            facts, _ = merge(facts, {"client_notified_at": when}, source="admin", by=by, at=when,
                             evidence={"client_notified_at": f"client_notice closed: {note.strip()}"})
            case = {**case, "facts": facts}
    updated, _ = reassess({**case, "phases": phases}, org=org, tz=tz, now=now)
    return updated


from .decisions import reopen_in_case as reopen, skip_in_case as skip  # noqa: E402
