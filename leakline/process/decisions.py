"""A person's decisions about the process: skip what will not be done, reopen what was settled.

Skipping is a decision, not a fact: any open or pending step may be skipped, a required report
included, with the reason recorded; a skipped step settles its phase (and no longer keeps the
case open), its deadline becomes `skipped` and its reminders stop. Reopening puts a closed or
skipped step (or a phase without steps) back to what the assessment says it is.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import phases as phases_
from .phases import PHASES, PhaseError, step_id

# The steps whose skipping drops a report or a notice the law or the mark may require.
REPORT_PHASES = frozenset({"publication", "authorities"})


@dataclass(frozen=True)
class Skipped:
    """One step (or a phase without steps) a person skipped, and what it was before."""

    phase: str
    step: str | None
    was: str
    optional: bool

    @property
    def name(self) -> str:
        return f"{self.phase}.{self.step}" if self.step else self.phase

    @property
    def drops_a_duty(self) -> bool:
        """A report or notice that was required (open) or may be (pending): a person must know."""
        return (self.phase in REPORT_PHASES and self.step is not None and not self.optional
                and self.was in ("open", "pending"))


def _phase(phases: list[dict], phase_id: str) -> dict:
    phase = next((p for p in phases if p["id"] == phase_id), None)
    if phase is None:
        raise PhaseError(f"unknown phase {phase_id!r} (phases: {', '.join(p for p, _ in PHASES)})")
    return phase


def _stamp(at: Any) -> str:
    return at.isoformat() if isinstance(at, datetime) else str(at)


def skip(phases: list[dict], phase_id: str, step: str | None = None, *, by: str, at: Any,
         reason: str) -> tuple[list[dict], list[Skipped]]:
    """Phases with one step, or every open and pending step of a phase, skipped for `reason`."""
    if not (reason or "").strip():
        raise PhaseError("a reason is required: say why it will not be done")
    new = copy.deepcopy(phases)
    phase = _phase(new, phase_id)
    targets = _skip_targets(phase, step_id(step) if step else None)
    done = []
    for target in targets:
        done.append(Skipped(phase_id, target["id"] if target is not phase else None,
                            target["status"], bool(target.get("optional"))))
        target.update(status="skipped", closed_at=_stamp(at), closed_by=by, note=reason.strip())
    phases_._settle(phase)
    return new, done


def _skip_targets(phase: dict, step: str | None) -> list[dict]:
    if step is None and not phase["steps"]:
        if phase["status"] != "open":
            raise PhaseError(f"{phase['id']} is {phase['status']}: nothing to skip")
        return [phase]
    if step is None:
        open_ = [s for s in phase["steps"] if s["status"] in ("open", "pending")]
        if not open_:
            raise PhaseError(f"{phase['id']} has no open or pending step to skip")
        return open_
    return [phases_.open_step(phase, step)]


def reopen(phases: list[dict], phase_id: str, step: str | None = None) -> tuple[list[dict], str]:
    """Phases with a closed or skipped step (or a phase without steps) open again; the caller
    reassesses, which makes a reopened step open, pending or not applicable as the facts say."""
    new = copy.deepcopy(phases)
    phase = _phase(new, phase_id)
    if step is None and phase["steps"]:
        settled = [s["id"] for s in phase["steps"] if s["status"] in ("closed", "skipped")]
        raise PhaseError(f"{phase_id} has steps: name the one to reopen with --step "
                         f"(closed or skipped: {', '.join(settled) or 'none'})")
    target = phase if step is None else next(
        (s for s in phase["steps"] if s["id"] == step_id(step)), None)
    if target is None:
        names = ", ".join(s["id"] for s in phase["steps"])
        raise PhaseError(f"unknown step {step!r} in phase {phase_id} (steps: {names})")
    if target["status"] not in ("closed", "skipped"):
        name = f"{phase_id}.{target['id']}" if step else phase_id
        raise PhaseError(f"{name} is {target['status']}: only a closed or skipped one can be reopened")
    was = target["status"]
    target.update(status="open", closed_at=None, closed_by=None, note=None)
    if step is not None:
        phase.update(status="open", closed_at=None, closed_by=None, note=None)
    return new, was


def skip_in_case(case: dict, phase_id: str, step: str | None, *, by: str, at: Any, reason: str,
                 org: Any, tz, now: datetime) -> tuple[dict, list[Skipped]]:
    """The case with the skip applied and reassessed (deadlines become skipped, reminders stop)."""
    from . import migrate, reassess

    case = migrate(case)
    if not case.get("phases"):
        case, _ = reassess(case, org=org, tz=tz, now=now)
    phases, done = skip(case["phases"], phase_id, step, by=by, at=at, reason=reason)
    updated, _ = reassess({**case, "phases": phases}, org=org, tz=tz, now=now)
    return updated, done


def reopen_in_case(case: dict, phase_id: str, step: str | None, *, org: Any, tz,
                   now: datetime) -> tuple[dict, str]:
    from . import migrate, reassess

    case = migrate(case)
    if not case.get("phases"):
        raise PhaseError("the case has not been assessed yet: nothing to reopen")
    phases, was = reopen(case["phases"], phase_id, step)
    updated, _ = reassess({**case, "phases": phases}, org=org, tz=tz, now=now)
    return updated, was
