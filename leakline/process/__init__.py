"""The response process over a case document: facts in, assessment, phases and deadlines out."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from . import deadlines as deadlines_
from . import phases as phases_
from .assessment import REQUIRED, assess, newly_required
from .extract import extract
from .facts import Change, FactError, current, learned_at, merge
from .phases import PhaseError, open_items

__all__ = ["reassess", "apply_extraction", "apply_facts", "close", "open_items", "discovered_at",
           "current", "FactError", "PhaseError", "Change"]


def _org_tracks(org: Any) -> dict:
    return {"privacy_mark": org.privacy_mark, "gdpr": org.gdpr, "report_to": org.report_to}


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


def apply_extraction(case: dict, text: str, subject: str, at: Any) -> tuple[dict, list[Change]]:
    """The case with facts extracted from a report's text (source "extracted"), and what changed.

    Extraction replaces earlier extraction field by field and never a reply's or an admin's
    word. discovered_at is the discovery the text dates before the case's received_at (昨日,
    先週金曜), else when the report was received. Call reassess afterwards.
    """
    found = extract(subject, text, received_at=case.get("received_at"))
    values, evidence = dict(found.values), dict(found.evidence)
    records = case.get("facts") or {}
    if "discovered_at" not in values and "discovered_at" not in records and case.get("received_at"):
        values["discovered_at"] = case["received_at"]
        evidence["discovered_at"] = "when the report was received"
    merged, changes = merge(records, values, source="extracted", by="extraction", at=at,
                            evidence=evidence)
    return {**case, "facts": merged}, changes


def apply_facts(case: dict, values: dict, source: str, by: str, at: Any,
                evidence: dict | None = None) -> tuple[dict, list[Change]]:
    """The case with facts from a reply or an admin (FactError if a value is wrong). Then reassess."""
    merged, changes = merge(case.get("facts") or {}, values, source=source, by=by, at=at,
                            evidence=evidence)
    return {**case, "facts": merged}, changes


def close(case: dict, phase_id: str, step: str | None = None, *, by: str, at: Any, note: str,
          org: Any, tz: tzinfo, now: datetime) -> dict:
    """The case with a phase or step closed (PhaseError if it cannot be) and reassessed.

    Reassessing matters: notifying the client releases the PPC steps, and closing a step
    marks its deadline done.
    """
    if not case.get("phases"):
        case, _ = reassess(case, org=org, tz=tz, now=now)
    phases = phases_.close(case["phases"], phase_id, step, by=by, at=at, note=note)
    updated, _ = reassess({**case, "phases": phases}, org=org, tz=tz, now=now)
    return updated
