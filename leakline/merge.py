"""One incident, two cases: `leakline cases merge FROM INTO` puts FROM's mail and facts on INTO.

For a follow-up that slipped past the threading (a new subject, a forwarded copy, a second
reporter of the same incident). FROM's messages move to INTO; its facts join INTO's by
precedence (admin > reply > extracted; on a tie INTO's, unless FROM's keeps a duty: the earlier
discovery (the law's days run from when anyone knew), the larger possible count, every data
item either names, a sensitive/financial/wrongful flag either set); every message identity
(Message-IDs, content keys, our own outgoing ids) points at INTO, so later replies to FROM's mail, or with
FROM's id in the subject, land on INTO; FROM is closed with `merged_into`; both audit trails say
so. INTO is reassessed, and the privacy officers are told of a duty that appeared or went.
Acknowledgements stay where they were given: INTO's escalation runs until INTO is acknowledged.
Safe to run again after a crash: nothing is moved or merged twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from leakline import casework, process
from leakline.listing import officer_acted
from leakline.process.deadlines import JAPAN, aware
from leakline.process.facts import SOURCES, Change, validate
from leakline.store.cases import CaseNotFound

# Markers of what was already answered for a message (responders): moved with the message.
MESSAGE_MARKERS = ("reply:", "answer:", "answered:", "answered-text:", "closed-followup:")
EARLIER_WINS = ("discovered_at",)


class MergeError(ValueError):
    """A merge that cannot be done as asked; the message is one line."""


@dataclass
class Merged:
    """INTO after the merge, the keys of the messages moved and the facts taken from FROM."""

    case: dict
    moved: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)


def _get(store, case_id: str) -> dict:
    try:
        return store.get(case_id)
    except CaseNotFound:
        raise MergeError(f"no such case {case_id}; `leakline cases list --status all` shows the ids") from None


def _check(source: dict, target: dict) -> None:
    if source["id"] == target["id"]:
        raise MergeError(f"{source['id']}: a case cannot be merged into itself")
    if target.get("merged_into"):
        raise MergeError(f"{target['id']} was itself merged into {target['merged_into']}; merge into that")
    if source.get("merged_into"):
        raise MergeError(f"{source['id']} was already merged into {source['merged_into']}")


PERSONS = ("persons", "persons_estimated", "persons_over", "persons_max")
FLAGS_KEPT_TRUE = ("sensitive", "financial", "wrongful")


def _rank(record: dict | None) -> int:
    return SOURCES.index(record["source"]) if record and record.get("value") is not None else -1


def _on_tie(name: str, mine: dict, theirs: dict):
    """On a tie of sources, the value that keeps a duty: the earlier discovery, every data item
    either case names, a flag either case set; else INTO's (None)."""
    if name in EARLIER_WINS:
        try:  # a bare date or a naive time is Japanese (APPI days are Japanese days)
            return theirs["value"] if aware(theirs["value"], JAPAN) < aware(mine["value"], JAPAN) else None
        except (TypeError, ValueError):
            return None
    if name == "data_items":
        union = validate(name, [*mine["value"], *theirs["value"]])
        return union if union != mine["value"] else None
    if name in FLAGS_KEPT_TRUE and theirs["value"] is True and mine["value"] is not True:
        return True
    return None


def _largest(records: dict) -> int:
    """The largest possible number of persons a case's records allow (GL 3-5-3-1)."""
    persons = (records.get("persons") or {}).get("value")
    most = (records.get("persons_max") or {}).get("value")
    over = bool((records.get("persons_over") or {}).get("value"))
    return max([-1] + [v for v in (None if persons is None else persons + over, most) if v is not None])


def _group_rank(records: dict) -> int:
    return max(_rank(records.get("persons")), _rank(records.get("persons_max")))


def _persons_win(mine: dict, theirs: dict) -> bool:
    """FROM's count (with its qualifiers, as one) beats INTO's: a higher source, or on a tie a
    larger possible number (where uncertain, the largest possible number counts)."""
    rank = _group_rank(theirs) - _group_rank(mine)
    return rank > 0 or (rank == 0 and _group_rank(theirs) >= 0 and _largest(theirs) > _largest(mine))


def merged_facts(into: dict, source: dict) -> tuple[dict, list[Change]]:
    """INTO's fact records with FROM's where they win (admin > reply > extracted; on a tie
    INTO's, unless FROM's keeps a duty: see _on_tie, _persons_win); each taken record keeps its
    source, author and time, and says where it came from."""
    records = dict(into.get("facts") or {})
    theirs_all = source.get("facts") or {}
    taken: dict[str, dict | None] = {}
    if _persons_win(records, theirs_all):
        taken.update({name: theirs_all.get(name) for name in PERSONS})
    for name, theirs in theirs_all.items():
        mine = records.get(name)
        if name in PERSONS or theirs.get("value") is None or _rank(theirs) < _rank(mine):
            continue
        if _rank(theirs) > _rank(mine):
            taken[name] = theirs
        elif (value := _on_tie(name, mine, theirs)) is not None:
            taken[name] = {**theirs, "value": value}
    changes = []
    for name, theirs in taken.items():
        mine = records.get(name)
        if theirs is None:
            if mine:  # a qualifier of INTO's count that FROM's count does not have
                records.pop(name)
                changes.append(Change(name, mine["value"], None, mine["source"], "merge", "", mine["source"]))
            continue
        said = theirs.get("evidence") or f"set by {theirs.get('by') or 'unknown'}"
        records[name] = {**theirs, "evidence": f"{said} (merged from {source['id']})"}
        changes.append(Change(name, mine["value"] if mine else None, theirs["value"], theirs["source"],
                              theirs.get("by") or "unknown", theirs.get("at") or "",
                              mine["source"] if mine else None))
    return records, changes


def _moved(into: dict, source: dict) -> list[dict]:
    """FROM's messages not yet on INTO, each with a key unique on INTO."""
    present = {(m.get("sha256"), m.get("direction")) for m in into["messages"]}
    keys = {m.get("key") for m in into["messages"]}
    moving = []
    for message in source.get("messages") or []:
        if (message.get("sha256"), message.get("direction")) in present:
            continue
        message = {**message, "merged_from": source["id"]}
        if message.get("key") in keys:
            message["key"] = f"{message['key']}#{(message.get('sha256') or '')[:16]}"
        keys.add(message.get("key"))
        moving.append(message)
    return moving


def message_keys(message: dict) -> list[str]:
    """Every key intake claims for a message (intake.processor, intake.record.same_key)."""
    keys = [message.get("key"), message.get("message_id")]
    if message.get("direction", "in") == "in" and message.get("sha256"):
        keys.append(f"raw:{message['sha256']}")
    if message.get("message_id") and message.get("body_sha256") and message.get("direction", "in") == "in":
        triple = "\x00".join((message["message_id"], message.get("from") or "", message["body_sha256"]))
        keys.append("same:" + hashlib.sha256(triple.encode("utf-8", "surrogatepass")).hexdigest())
    return [k for k in dict.fromkeys(keys) if k]


def _into_events(app, into: dict, source: dict, by: str, result: Merged) -> list[dict]:
    now = app.now()
    moving = _moved(into, source)
    into["messages"].extend(moving)
    records, changes = merged_facts(into, source)
    into["flags"] = list(dict.fromkeys([*into.get("flags", []), *source.get("flags", [])]))
    for key, at in (source.get("sent") or {}).items():
        if key.startswith(MESSAGE_MARKERS):
            into.setdefault("sent", {}).setdefault(key, at)
    before = into.get("assessment")
    updated, notes = process.reassess({**into, "facts": records}, org=app.config.organization,
                                      tz=app.config.service.tz, now=now)
    into.update(updated)
    officer_acted(into, by, now.isoformat())  # a merge is an officer's act: what was new is seen
    result.moved, result.changes = [m["key"] for m in moving], changes
    events = [{"action": "case_merged_in", "actor": by, "details": {
        "from": source["id"], "messages": result.moved,
        "facts": [c.to_dict() for c in changes]}}]
    if changes:
        events.append({"action": "assessed", "actor": by,
                       "details": {"assessment": into["assessment"], "notes": notes}})
    told = {"mailer": app.mailer, "config": app.config, "now": now}
    events += casework.alert_new_duties(into, notes, **told)
    events += casework.alert_dropped_duties(into, before, changes, by, f"merge:{source['id']}", **told)
    # A duty FROM's own assessment had and the merged case does not is no silent loss either.
    events += casework.alert_dropped_duties(into, source.get("assessment"), changes, by,
                                            f"merge-from:{source['id']}", **told)
    return events


def merge_cases(app, from_id: str, into_id: str, *, by: str) -> Merged:
    """Merge case `from_id` into `into_id` as `by` (see the module's docstring). MergeError
    for a case that does not exist, the same case twice, or a case already merged."""
    store = app.store
    with store.unit_of_work():  # both cases, the keys and the officers' mail: one commit
        source, target = _get(store, from_id), _get(store, into_id)
        _check(source, target)
        result = Merged(target)
        # INTO first: should a unit ever be split, FROM stays whole until INTO has its messages,
        # and a second run moves only what is not on INTO yet.
        result.case = store.update(into_id, lambda case: _into_events(app, case, source, by, result))
        for message in source.get("messages") or []:
            for key in message_keys(message):
                store.put_key(key, into_id)
        store.update(from_id, lambda case: _close(app, case, into_id, by, result.moved))
    return result


def _close(app, case: dict, into_id: str, by: str, moved: list[str]) -> list[dict]:
    at = app.now().isoformat()
    keys = [m.get("key") for m in case.get("messages") or []]
    case.update(messages=[], status="closed", closed_at=case.get("closed_at") or at, merged_into=into_id)
    return [{"action": "case_merged", "actor": by,
             "details": {"into": into_id, "messages": keys, "moved": moved, "at": at}}]
