"""The five phases of a response and their steps: which apply, in what order, who closed them."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, Callable

# Stable ids, in order (DOMAIN.md and the source article). The review body's preliminary report
# and the GDPR report have steps of their own so that each deadline has a step that meets it.
PHASES = (
    ("report", ()),
    ("containment", ()),
    ("publication", ("notice", "client", "persons")),
    ("prevention", ("facts", "cause", "measures", "implementation", "verification")),
    ("authorities", ("review_body_preliminary", "review_body", "ppc_preliminary", "ppc_final", "gdpr")),
)
STEPS = dict(PHASES)
# The article's five steps of prevention build on each other: a cause needs the facts, and so on.
ORDERED = frozenset({"prevention"})


class PhaseError(ValueError):
    """A close that cannot be done; the message is one line."""


def _client_released(facts: dict, phases: list[dict]) -> bool:
    # APPI Art. 26(1) proviso: a processor that notified its client is released from the PPC
    # report and the notice to the persons; they become the client's.
    return facts.get("entrusted") is True and step_status(phases, "publication", "client") == "closed"


def _law_reason(assessment: dict, facts: dict, phases: list[dict]) -> str | None:
    if _client_released(facts, phases):
        return "released: the client (委託元) was notified and reports and notifies instead"
    if assessment.get("exempt_by_encryption"):
        return "exempt: the data was strongly encrypted and the key did not leak"
    if not assessment.get("ppc_report_required"):
        return "no trigger (T1-T4) on the known facts"
    return None


def _client_reason(assessment: dict, facts: dict, phases: list[dict]) -> str | None:
    if facts.get("entrusted") is True:
        return None
    if facts.get("entrusted") is False:
        return "not entrusted: no client (委託元) to notify"
    return "not entrusted as far as known (set entrusted when it is a client's data)"


def _review_body_reason(assessment: dict, facts: dict, phases: list[dict]) -> str | None:
    return None if assessment.get("privacy_mark", {}).get("applies") else "no Privacy Mark"


def _review_preliminary_reason(assessment: dict, facts: dict, phases: list[dict]) -> str | None:
    if not assessment.get("privacy_mark", {}).get("applies"):
        return "no Privacy Mark"
    if not assessment.get("privacy_mark", {}).get("preliminary_required"):
        return "no trigger (T1-T4): the review body needs only the final report"
    return None


def _gdpr_reason(assessment: dict, facts: dict, phases: list[dict]) -> str | None:
    return None if assessment.get("gdpr", {}).get("applies") else "GDPR does not apply (gdpr = false)"


# Why a step does not apply, or None when it does. Steps not listed always apply.
NOT_APPLICABLE: dict[tuple[str, str], Callable[[dict, dict, list[dict]], str | None]] = {
    ("publication", "client"): _client_reason,
    ("publication", "persons"): _law_reason,
    ("authorities", "review_body_preliminary"): _review_preliminary_reason,
    ("authorities", "review_body"): _review_body_reason,
    ("authorities", "ppc_preliminary"): _law_reason,
    ("authorities", "ppc_final"): _law_reason,
    ("authorities", "gdpr"): _gdpr_reason,
}


def _record(id_: str) -> dict:
    return {"id": id_, "status": "open", "closed_at": None, "closed_by": None, "note": None,
            "reason": None}


def _find(items: list[dict], id_: str) -> dict | None:
    return next((item for item in items if item["id"] == id_), None)


def step_status(phases: list[dict], phase_id: str, step_id: str) -> str:
    """open, closed or not_applicable; open when the case has no such step yet."""
    phase = _find(phases, phase_id)
    step = _find(phase["steps"], step_id) if phase else None
    return step["status"] if step else "open"


def _settle(phase: dict) -> None:
    """A phase with steps follows them: not applicable if none applies, closed when none is open."""
    steps = phase["steps"]
    if not steps:
        return
    if all(s["status"] == "not_applicable" for s in steps):
        phase.update(status="not_applicable", closed_at=None, closed_by=None, note=None,
                     reason="no step applies")
    elif any(s["status"] == "open" for s in steps):
        phase.update(status="open", closed_at=None, closed_by=None, note=None, reason=None)
    elif phase["status"] != "closed":
        last = max((s for s in steps if s["status"] == "closed"), key=lambda s: s["closed_at"])
        phase.update(status="closed", closed_at=last["closed_at"], closed_by=last["closed_by"],
                     note="all steps closed or not applicable", reason=None)


def refresh(phases: list[dict] | None, assessment: dict, facts: dict) -> list[dict]:
    """Phases with applicability re-applied: closed steps stay closed, others open or not_applicable."""
    old = copy.deepcopy(phases or [])
    fresh = []
    for phase_id, step_ids in PHASES:
        phase = _find(old, phase_id) or {**_record(phase_id), "steps": []}
        phase["steps"] = [_find(phase["steps"], s) or _record(s) for s in step_ids]
        fresh.append(phase)
    for phase in fresh:
        for step in phase["steps"]:
            if step["status"] != "closed":
                rule = NOT_APPLICABLE.get((phase["id"], step["id"]))
                reason = rule(assessment, facts, fresh) if rule else None
                step.update(status="not_applicable" if reason else "open", reason=reason)
        _settle(phase)
    return fresh


def initial(assessment: dict, facts: dict) -> list[dict]:
    """The phases of a new case."""
    return refresh(None, assessment, facts)


def _check_step(phase: dict, step_id: str) -> dict:
    names = [s["id"] for s in phase["steps"]]
    step = _find(phase["steps"], step_id)
    if step is None:
        steps = ", ".join(names) if names else "none"
        raise PhaseError(f"unknown step {step_id!r} in phase {phase['id']} (steps: {steps})")
    if step["status"] == "closed":
        raise PhaseError(f"{phase['id']}.{step_id} is already closed "
                         f"(by {step['closed_by']} at {step['closed_at']})")
    if step["status"] == "not_applicable":
        raise PhaseError(f"{phase['id']}.{step_id} does not apply: {step['reason']}")
    if phase["id"] in ORDERED:
        earlier = phase["steps"][:names.index(step_id)]
        pending = [s["id"] for s in earlier if s["status"] == "open"]
        if pending:
            raise PhaseError(f"{phase['id']}.{step_id} cannot close before {phase['id']}.{pending[0]}")
    return step


def _check_phase(phase: dict) -> dict:
    if phase["status"] == "closed":
        raise PhaseError(f"{phase['id']} is already closed (by {phase['closed_by']} at {phase['closed_at']})")
    if phase["status"] == "not_applicable":
        raise PhaseError(f"{phase['id']} does not apply: {phase['reason']}")
    pending = [s["id"] for s in phase["steps"] if s["status"] == "open"]
    if pending:
        raise PhaseError(f"{phase['id']} has open steps ({', '.join(pending)}): close each with its step")
    return phase


def close(phases: list[dict], phase_id: str, step: str | None = None, *, by: str, at: Any,
          note: str) -> list[dict]:
    """Phases with one phase (one without steps) or one step closed, recording who, when and why."""
    if not (note or "").strip():
        raise PhaseError("a note is required: say what was done")
    new = copy.deepcopy(phases)
    phase = _find(new, phase_id)
    if phase is None:
        raise PhaseError(f"unknown phase {phase_id!r} (phases: {', '.join(p for p, _ in PHASES)})")
    target = _check_step(phase, step) if step else _check_phase(phase)
    when = at.isoformat() if isinstance(at, datetime) else str(at)
    target.update(status="closed", closed_at=when, closed_by=by, note=note.strip(), reason=None)
    _settle(phase)
    return new


def open_items(phases: list[dict]) -> list[str]:
    """What is still open, as `phase` or `phase.step`, in order (empty when the case may close)."""
    items = []
    for phase in phases:
        if phase["status"] != "open":
            continue
        open_steps = [s["id"] for s in phase["steps"] if s["status"] == "open"]
        items += [f"{phase['id']}.{s}" for s in open_steps] if phase["steps"] else [phase["id"]]
    return items
