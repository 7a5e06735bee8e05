"""The five phases of a response and their steps: which apply, in what order, who closed them."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, Callable

# Stable ids, in order (DOMAIN.md and the source article). Every deadline has the step that
# closes it, with the same id (issue 10 fixed this vocabulary).
PHASES = (
    ("report", ()),
    ("containment", ()),
    ("publication", ("public_notice", "client_notice", "persons_notice")),
    ("prevention", ("facts", "cause", "measures", "implementation", "verification")),
    ("authorities", ("review_body_preliminary", "review_body_final", "ppc_preliminary", "ppc_final",
                     "gdpr_72h", "gdpr_controller_notice", "sector_report")),
)
STEPS = dict(PHASES)
# The step ids before issue 10: still accepted on input, and renamed in stored cases.
OLD_STEP_IDS = {"notice": "public_notice", "client": "client_notice", "persons": "persons_notice",
                "review_body": "review_body_final", "gdpr": "gdpr_72h"}
STEP_STATUSES = ("open", "pending", "closed", "skipped", "not_applicable")
# The article's five steps of prevention build on each other: a cause needs the facts, and so on.
ORDERED = frozenset({"prevention"})


class PhaseError(ValueError):
    """A close that cannot be done; the message is one line."""


def step_id(step: str) -> str:
    """The current id of a step given by its current or its old id."""
    return OLD_STEP_IDS.get(step, step)


# Why a step applies, is pending, or does not apply: (status, reason, optional).
Rule = Callable[[dict, dict], tuple[str, str | None, bool]]
OPEN = ("open", None, False)


def _duty(value: bool | None, why_not: str, why_pending: str) -> tuple[str, str | None, bool]:
    if value is True:
        return OPEN
    return ("pending", why_pending, False) if value is None else ("not_applicable", why_not, False)


def _law_reason(a: dict) -> str:
    if a.get("not_a_leak"):
        return "not a leak: all of it recovered before any third party viewed it (confirmed by an admin)"
    if a.get("released_to_client"):
        return "released: the client (委託元) was notified and reports and notifies instead"
    if a.get("exempt_by_encryption"):
        return "exempt: the data was strongly encrypted and the key did not leak (confirmed by an admin)"
    return "no trigger (T1-T4) on the known facts"


def _undetermined(a: dict) -> str:
    open_ = list(a.get("triggers_undetermined") or [])
    if (a.get("my_number") or {}).get("report_required") is None and (a.get("my_number") or {}).get("applies"):
        open_.append("My Number")
    return f"undetermined ({', '.join(open_) or 'facts unknown'}): due as if required until decided"


def _ppc(a: dict, facts: dict) -> tuple[str, str | None, bool]:
    return _duty(a.get("ppc_report_required"), _law_reason(a), _undetermined(a))


def _persons(a: dict, facts: dict) -> tuple[str, str | None, bool]:
    appi, gdpr = a.get("persons_notice_required"), (a.get("gdpr") or {}).get("persons_notice_required")
    if a.get("public_notice_required") is True:
        return ("not_applicable", "the persons cannot be reached: the public notice (public_notice) "
                "replaces the notice to them (APPI Art. 26(2) proviso)", False)
    if True in (appi, gdpr):
        return OPEN
    if None in (appi, gdpr):
        return ("pending", _undetermined(a) if appi is None else "GDPR Art. 34: high risk undetermined", False)
    return ("not_applicable", _law_reason(a), False)


def _public(a: dict, facts: dict) -> tuple[str, str | None, bool]:
    required = a.get("public_notice_required")
    if required is True:
        return OPEN
    if required is None:
        return ("pending", "may have to replace the notice to persons who cannot be reached", False)
    return ("open", "optional: publication is desirable, not mandatory (close it, or --skip it)", True)


def _client(a: dict, facts: dict) -> tuple[str, str | None, bool]:
    return _duty((a.get("client") or {}).get("required"), "not entrusted: no client (委託元) to notify",
                 "unknown whether the data is a client's (委託元): set entrusted")


def _review_final(a: dict, facts: dict) -> tuple[str, str | None, bool]:
    return OPEN if (a.get("privacy_mark") or {}).get("applies") else ("not_applicable", "no Privacy Mark", False)


def _review_preliminary(a: dict, facts: dict) -> tuple[str, str | None, bool]:
    track = a.get("privacy_mark") or {}
    if not track.get("applies"):
        return ("not_applicable", "no Privacy Mark", False)
    return _duty(track.get("preliminary_required"),
                 "no trigger (T1-T4): the review body needs only the final report",
                 "undetermined: due as if required until the triggers are decided")


def _gdpr(key: str, why_not: str) -> Rule:
    def rule(a: dict, facts: dict) -> tuple[str, str | None, bool]:
        track = a.get("gdpr") or {}
        if not track.get("applies"):
            return ("not_applicable", "GDPR does not apply (gdpr = false)", False)
        return OPEN if track.get(key) else ("not_applicable", why_not, False)
    return rule


def _sector(a: dict, facts: dict) -> tuple[str, str | None, bool]:
    track = a.get("sector") or {}
    if not track.get("applies"):
        return ("not_applicable", "no sector rule (organization.sector is not set)", False)
    if not track.get("report_required"):
        return ("not_applicable", "the data is not individual customers' (audience set by an admin)", False)
    return OPEN


RULES: dict[tuple[str, str], Rule] = {
    ("publication", "public_notice"): _public,
    ("publication", "client_notice"): _client,
    ("publication", "persons_notice"): _persons,
    ("authorities", "review_body_preliminary"): _review_preliminary,
    ("authorities", "review_body_final"): _review_final,
    ("authorities", "ppc_preliminary"): _ppc,
    ("authorities", "ppc_final"): _ppc,
    ("authorities", "gdpr_72h"): _gdpr("report_required", "processor: the controller reports (Art. 33(2))"),
    ("authorities", "gdpr_controller_notice"): _gdpr("controller_notice_required",
                                                     "controller: there is no controller to notify"),
    ("authorities", "sector_report"): _sector,
}


def _record(id_: str) -> dict:
    return {"id": id_, "status": "open", "closed_at": None, "closed_by": None, "note": None,
            "reason": None, "optional": False}


def _find(items: list[dict], id_: str) -> dict | None:
    return next((item for item in items if item["id"] == id_), None)


def step_status(phases: list[dict], phase_id: str, step: str) -> str:
    """open, pending, closed, skipped or not_applicable; open when the case has no such step yet."""
    phase = _find(phases, phase_id)
    found = _find(phase["steps"], step_id(step)) if phase else None
    return found["status"] if found else "open"


def _blocking(step: dict) -> bool:
    """A step that keeps its phase (and the case) open: open or pending, and not optional."""
    return step["status"] in ("open", "pending") and not step.get("optional")


def _settle(phase: dict) -> None:
    """A phase with steps follows them: open while a step it needs is open or pending, closed
    once one was closed and none is left, not applicable when no step applies."""
    steps = phase["steps"]
    if not steps:
        return
    done = [s for s in steps if s["status"] in ("closed", "skipped")]
    if any(_blocking(s) for s in steps):
        phase.update(status="open", closed_at=None, closed_by=None, note=None, reason=None)
    elif not done and all(s["status"] == "not_applicable" or s.get("optional") for s in steps):
        if any(s.get("optional") for s in steps):
            phase.update(status="open", closed_at=None, closed_by=None, note=None, reason=None)
        else:
            phase.update(status="not_applicable", closed_at=None, closed_by=None, note=None,
                         reason="no step applies")
    elif phase["status"] != "closed" and done:
        last = max(done, key=lambda s: s["closed_at"] or "")
        phase.update(status="closed", closed_at=last["closed_at"], closed_by=last["closed_by"],
                     note="all steps closed, skipped or not applicable", reason=None)


def migrate(phases: list[dict] | None) -> list[dict]:
    """Phases of a case stored before issue 10, with the steps renamed to today's ids."""
    fresh = copy.deepcopy(phases or [])
    for phase in fresh:
        for step in phase.get("steps", []):
            step["id"] = step_id(step["id"])
            step.setdefault("optional", False)
    return fresh


def refresh(phases: list[dict] | None, assessment: dict, facts: dict) -> list[dict]:
    """Phases with applicability re-applied: closed and skipped steps stay so, the others become
    open, pending or not_applicable by the assessment."""
    old = migrate(phases)
    fresh = []
    for phase_id, step_ids in PHASES:
        phase = _find(old, phase_id) or {**_record(phase_id), "steps": []}
        phase.pop("optional", None)
        phase["steps"] = [_find(phase["steps"], s) or _record(s) for s in step_ids]
        fresh.append(phase)
    for phase in fresh:
        for step in phase["steps"]:
            rule = RULES.get((phase["id"], step["id"]))
            status, reason, optional = rule(assessment, facts) if rule else OPEN
            if step["status"] in ("closed", "skipped"):
                step["optional"] = optional
                continue
            step.update(status=status, reason=reason, optional=optional)
        _settle(phase)
    return fresh


def initial(assessment: dict, facts: dict) -> list[dict]:
    """The phases of a new case."""
    return refresh(None, assessment, facts)


def open_step(phase: dict, step: str) -> dict:
    """The step of `phase` named `step` (old ids too), or PhaseError unless it is open or pending."""
    names = [s["id"] for s in phase["steps"]]
    found = _find(phase["steps"], step_id(step))
    if found is None:
        steps = ", ".join(names) if names else "none"
        raise PhaseError(f"unknown step {step!r} in phase {phase['id']} (steps: {steps})")
    if found["status"] in ("closed", "skipped"):
        raise PhaseError(f"{phase['id']}.{found['id']} is already {found['status']} "
                         f"(by {found['closed_by']} at {found['closed_at']})")
    if found["status"] == "not_applicable":
        raise PhaseError(f"{phase['id']}.{found['id']} does not apply: {found['reason']}")
    return found


def _check_step(phase: dict, step: str, skip: bool) -> dict:
    names = [s["id"] for s in phase["steps"]]
    found = open_step(phase, step)
    if skip and not found.get("optional"):
        raise PhaseError(f"{phase['id']}.{found['id']} cannot be skipped: only an optional step can "
                         "(close it with a note saying what was done)")
    if phase["id"] in ORDERED:
        earlier = phase["steps"][:names.index(found["id"])]
        pending = [s["id"] for s in earlier if s["status"] in ("open", "pending")]
        if pending:
            raise PhaseError(f"{phase['id']}.{found['id']} cannot close before {phase['id']}.{pending[0]}")
    return found


def _check_phase(phase: dict) -> dict:
    if phase["status"] in ("closed", "skipped"):
        raise PhaseError(f"{phase['id']} is already {phase['status']} (by {phase['closed_by']} at "
                         f"{phase['closed_at']})")
    if phase["status"] == "not_applicable":
        raise PhaseError(f"{phase['id']} does not apply: {phase['reason']}")
    pending = [s["id"] for s in phase["steps"] if s["status"] in ("open", "pending")]
    if pending:
        raise PhaseError(f"{phase['id']} has open steps ({', '.join(pending)}): close each with its step")
    return phase


def close(phases: list[dict], phase_id: str, step: str | None = None, *, by: str, at: Any,
          note: str, skip: bool = False) -> list[dict]:
    """Phases with one phase (one without steps) or one step closed, recording who, when and why.

    `skip` records a decision not to do an optional step (e.g. not to publish): status skipped.
    """
    if not (note or "").strip():
        raise PhaseError("a note is required: say what was done")
    new = copy.deepcopy(phases)
    phase = _find(new, phase_id)
    if phase is None:
        raise PhaseError(f"unknown phase {phase_id!r} (phases: {', '.join(p for p, _ in PHASES)})")
    if skip and not step:
        raise PhaseError("--skip needs --step: only an optional step can be skipped")
    target = _check_step(phase, step, skip) if step else _check_phase(phase)
    when = at.isoformat() if isinstance(at, datetime) else str(at)
    target.update(status="skipped" if skip else "closed", closed_at=when, closed_by=by,
                  note=note.strip(), reason=None)
    _settle(phase)
    return new


def open_items(phases: list[dict]) -> list[str]:
    """What still needs doing or deciding, as `phase` or `phase.step`, in order (empty when the case
    may close). Pending steps are listed; optional ones are not."""
    items = []
    for phase in phases:
        if phase["status"] != "open":
            continue
        if not phase["steps"]:
            items.append(phase["id"])
            continue
        items += [f"{phase['id']}.{s['id']}" for s in phase["steps"] if _blocking(s)]
    return items


def optional_open(phases: list[dict]) -> list[tuple[str, str]]:
    """(phase, step) of each optional step nobody closed or skipped."""
    return [(p["id"], s["id"]) for p in phases for s in p["steps"]
            if s.get("optional") and s["status"] == "open"]
