"""`audit verify`, second half: each case file against the audit events that changed it.

The hash chain proves the events were not altered; this proves the case files were not altered
behind the events' back. For every case file: its events are all in the chain, numbered 1..N
with nothing missing or extra; its last save is the chain's (same hashes); and what the file
says agrees with the events: every fact's value and source is the last change recorded for it,
the status follows the last close or reopen, every acknowledgement, closed or skipped step and
message has its event. A file edited by hand (persons 1,500 -> 150 to hide trigger T4) fails.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from leakline.store.tinystore import read_tables

MESSAGE_EVENTS = ("case_opened", "message_received", "mail_queued")


@dataclass
class CaseCheck:
    cases: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def case_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "cases").glob("*/*/*.json"))


def check_cases(data_dir: Path, events) -> CaseCheck:
    """Compare every case file under `data_dir` with the chain's `events` (an iterable)."""
    return _check(_case_files_read(data_dir), events)


def check_store_cases(store, events) -> CaseCheck:
    """check_cases for a store of either backend: a database's store gives its documents
    (`case_documents`), the file store's are read from its folder."""
    documents = getattr(store, "case_documents", None)
    if documents is None:
        return check_cases(store.data_dir, events)
    return _check(((case.get("id"), case) for case in documents()), events)


def _case_files_read(data_dir: Path):
    """(name, case) for each case file; case is an error text when it cannot be read."""
    for path in case_files(data_dir):
        try:
            tables = read_tables(path)
            case = dict(tables.get("case", [{}])[0])
        except (OSError, ValueError, IndexError, KeyError) as exc:
            yield path.stem, f"case file unreadable ({type(exc).__name__})"
            continue
        case["messages"] = tables.get("messages", [])
        yield path.stem, case


def _check(cases, events) -> CaseCheck:
    by_case: dict[str, list[dict]] = defaultdict(list)
    for event in events:
        by_case[event.get("case")].append(slim(event))
    result = CaseCheck()
    seen = set()
    for name, case in cases:
        if isinstance(case, str):
            result.problems.append(f"{name}: {case}")
            continue
        seen.add(case.get("id"))
        result.cases += 1
        result.problems += [f"{case.get('id')}: {p}" for p in check_case(case, by_case[case.get("id")])]
    for case_id in sorted(set(by_case) - seen - {None}):
        result.problems.append(f"{case_id}: {len(by_case[case_id])} event(s) in the chain but no case file")
    return result


def check_case(case: dict, events: list[dict]) -> list[str]:
    """What in one case file disagrees with its events (empty when nothing does)."""
    problems = _numbering(case, events)
    if problems:
        return problems  # the rest would only repeat the same cause
    return _facts(case, events) + _status(case, events) + _acks(case, events) + \
        _steps(case, events) + _messages(case, events)


def _numbering(case: dict, events: list[dict]) -> list[str]:
    count = int(case.get("event_count", 0))
    ids = [e.get("id") for e in events]
    expected = [f"{case['id']}#{n}" for n in range(1, count + 1)]
    if ids != expected:
        return [f"the file counts {count} event(s), the chain holds {len(ids)} for it"
                + ("" if len(ids) != count else " in another order or numbering")]
    chained = {e["id"]: e["digest"] for e in events}
    for last in case.get("last_events") or []:
        if last.get("id") not in chained:
            return [f"its last save's event {last.get('id')} is not in the chain"]
        if digest(last) != chained[last["id"]]:
            return [f"its last save's event {last['id']} differs from the chain's"]
    return []


def digest(event: dict) -> str:
    """The event as saved with its case, before the chain added seq, prev and hash."""
    body = {k: v for k, v in event.items() if k not in ("seq", "prev", "hash")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def slim(event: dict) -> dict:
    """What the checks need of an event (the chain can be large: assessments are in it)."""
    details = event.get("details") or {}
    keep = {k: details[k] for k in ("phase", "step", "final_too", "skipped", "message_id")
            if k in details}
    if event.get("action") == "facts_changed":
        keep["changes"] = [{k: c.get(k) for k in ("field", "new", "source")}
                           for c in details.get("changes", [])]
    return {"id": event.get("id"), "action": event.get("action"), "actor": event.get("actor"),
            "digest": digest(event), "details": keep}


def _facts(case: dict, events: list[dict]) -> list[str]:
    last: dict[str, dict] = {}
    client_closed = False
    for event in events:
        if event["action"] == "facts_changed":
            for change in event["details"].get("changes", []):
                last[change["field"]] = change
        elif event["action"] == "phase_closed" and event["details"].get("step") in ("client_notice", "client"):
            client_closed = True
    problems = []
    for name, record in (case.get("facts") or {}).items():
        change = last.get(name)
        if change is None:
            # Closing client_notice records when the client was told, with that close's event.
            if not (name == "client_notified_at" and client_closed):
                problems.append(f"fact {name} = {record.get('value')!r} has no event that set it")
        elif change.get("new") != record.get("value") or change.get("source") != record.get("source"):
            problems.append(f"fact {name} is {record.get('value')!r} ({record.get('source')}) but its "
                            f"last recorded change set {change.get('new')!r} ({change.get('source')})")
    return problems


def _status(case: dict, events: list[dict]) -> list[str]:
    moves = [e["action"] for e in events if e["action"] in ("case_closed", "case_reopened")]
    expected = "closed" if moves and moves[-1] == "case_closed" else "open"
    if case.get("status") != expected:
        return [f"status is {case.get('status')} but the events leave it {expected}"]
    return []


def _acks(case: dict, events: list[dict]) -> list[str]:
    acked = {e.get("actor") for e in events if e["action"] == "acknowledged"}
    return [f"acknowledgement by {a.get('by')} has no event" for a in case.get("acks") or []
            if a.get("by") not in acked]


def _steps(case: dict, events: list[dict]) -> list[str]:
    """Every closed or skipped step was closed, skipped, or (optional) settled by a case close."""
    recorded = set()
    for event in events:
        details = event.get("details") or {}
        if event["action"] == "phase_closed":
            recorded.add((details.get("phase"), details.get("step")))
            if details.get("final_too"):
                recorded.add((details.get("phase"), "ppc_final"))
        elif event["action"] == "phase_skipped":
            recorded.update(tuple(name.partition(".")[::2]) for name in details.get("skipped", []))
        elif event["action"] == "case_closed":
            recorded.update(tuple(name.partition(".")[::2]) for name in details.get("skipped", []))
    problems = []
    for phase in case.get("phases") or []:
        for step in phase.get("steps") or []:
            if step.get("status") in ("closed", "skipped") and not _has(recorded, phase["id"], step["id"]):
                problems.append(f"{phase['id']}.{step['id']} is {step['status']} with no event")
    return problems


def _has(recorded: set, phase: str, step: str) -> bool:
    from leakline.process.phases import OLD_STEP_IDS

    old = {o for o, new in OLD_STEP_IDS.items() if new == step}
    return any((phase, s) in recorded for s in {step, *old})


def _messages(case: dict, events: list[dict]) -> list[str]:
    logged = {e["details"].get("message_id") for e in events if e["action"] in MESSAGE_EVENTS}
    missing = [m.get("message_id") for m in case.get("messages") or []
               if m.get("message_id") and m.get("message_id") not in logged]
    return [f"message {mid} has no event" for mid in missing]
