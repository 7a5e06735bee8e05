"""The audit trail: an append-only, hash-chained log of every change to every case.

Each line is one event: {seq, id, at, actor, case, action, details, prev, hash}, where `prev` is
the previous line's hash and `hash` the SHA-256 of the line's canonical JSON without `hash`.
Editing, removing or reordering a line breaks the chain at that line; `head` (seq and hash of
the last line) catches a cut tail.

Crash safety, with the case store: the events of a unit of work are chained when the unit
commits and written into its record in the redo journal together with the change they explain
(store/journal.py), so there is no change without its event and no event without its change.
The chain file is appended behind the journal without an fsync of its own; a crash before that
append finished is repaired from the journal (`append_chained` skips what is already there).
`intents.log` and `recover()` are the mechanism of stores written before the journal: an intent
left there by an older version is still finished at start.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from leakline.store.files import FILE_MODE, atomic_write, ensure_dir, read_json, write_all

GENESIS = "0" * 64


def canonical(event: dict) -> bytes:
    body = {k: v for k, v in event.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(event: dict) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


@dataclass
class VerifyResult:
    ok: bool
    events: int
    broken_at: int | None = None  # 1-based line number of the first bad event
    reason: str = ""


class AuditLog:
    def __init__(self, data_dir: Path):
        self.root = data_dir / "audit"
        self.chain = self.root / "chain.jsonl"
        self.intents = self.root / "intents.log"
        self.head_path = self.root / "head.json"
        self._head: dict | None = None
        self._size = -1  # the chain's size when _head was read: another process may append

    def prepare(self) -> None:
        ensure_dir(self.root)

    # -- writing (caller holds the data lock) ---------------------------------------------
    def head(self) -> dict:
        """The last event's seq and hash; re-read when another process (the CLI) appended."""
        try:
            size = os.stat(self.chain).st_size
        except FileNotFoundError:
            size = 0
        if self._head is None or size != self._size:
            self._head = self._read_tail() or {"seq": 0, "hash": GENESIS}
            self._size = size
        return self._head

    def _read_tail(self) -> dict | None:
        try:
            with open(self.chain, "rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                window = 65536
                while True:
                    fh.seek(max(0, size - window))
                    lines = fh.read().split(b"\n")
                    for line in reversed(lines[1:] if size > window else lines):
                        try:
                            event = json.loads(line)
                            return {"seq": event["seq"], "hash": event["hash"]}
                        except (ValueError, KeyError):
                            continue  # empty, or a torn last line from a crash
                    if window >= size:
                        return None
                    window *= 4
        except FileNotFoundError:
            return None

    def chain_events(self, events: list[dict]) -> list[dict]:
        """The events with seq, prev and hash, after the chain's head (nothing is written)."""
        head = self.head()
        chained = []
        for event in events:
            event = dict(event, seq=head["seq"] + 1, prev=head["hash"])
            event["hash"] = event_hash(event)
            head = {"seq": event["seq"], "hash": event["hash"]}
            chained.append(event)
        return chained

    def append_chained(self, events: list[dict]) -> None:
        """Append events `chain_events` made, those past the head only (a replay finds some there).

        No fsync: the redo journal holds them until its checkpoint flushes the file system.
        """
        self._repair_torn_tail()
        head = self.head()
        todo = [e for e in events if e["seq"] > head["seq"]]
        if not todo:
            return
        if todo[0]["seq"] != head["seq"] + 1 or todo[0]["prev"] != head["hash"]:
            raise OSError(f"{self.chain}: events {todo[0]['seq']}.. do not follow the chain's "
                          f"head {head['seq']}; run `leakline audit verify`")
        data = b"".join(canonical(e)[:-1] + b',"hash":"' + e["hash"].encode() + b'"}\n'
                        for e in todo)
        ensure_dir(self.root)
        fd = os.open(self.chain, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
        self._head = {"seq": todo[-1]["seq"], "hash": todo[-1]["hash"]}
        self._size = os.stat(self.chain).st_size
        self.write_head_hint()

    def write_head_hint(self) -> None:
        """The head as a hint against a cut tail. Rewritten in place, no fsync: a hint torn by
        a crash reads as no hint (verify ignores it), and the next append writes it again."""
        if not self.chain.exists():
            return  # no events yet (or a store that keeps none: the service's outbox)
        data = json.dumps(self.head()).encode()
        fd = os.open(self.head_path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
        try:
            write_all(fd, data)
            os.ftruncate(fd, len(data))
        finally:
            os.close(fd)

    def record_intent(self, case_id: str, ids: list[str]) -> None:
        line = json.dumps({"case": case_id, "ids": ids}).encode() + b"\n"
        _append_durably(self.intents, line)

    def append(self, events: list[dict]) -> list[dict]:
        """Chain and append events durably; returns them with seq, prev and hash set."""
        head = self.head()
        lines, chained = [], []
        for event in events:
            event = dict(event, seq=head["seq"] + 1, prev=head["hash"])
            event["hash"] = event_hash(event)
            head = {"seq": event["seq"], "hash": event["hash"]}
            lines.append(canonical(event)[:-1] + b',"hash":"' + event["hash"].encode() + b'"}\n')
            chained.append(event)
        self._repair_torn_tail()
        _append_durably(self.chain, b"".join(lines))
        self._head = head
        self._size = os.stat(self.chain).st_size
        # The head is a hint against a cut tail, not a record: it needs no fsync of its own.
        atomic_write(self.head_path, json.dumps(head).encode(), sync_dir=False, sync=False)
        return chained

    def clear_intents(self) -> None:
        with open(self.intents, "r+b") as fh:
            fh.truncate(0)

    def pending_intents(self) -> list[dict]:
        try:
            data = self.intents.read_bytes()
        except FileNotFoundError:
            return []
        intents = []
        for line in data.splitlines():
            try:
                intents.append(json.loads(line))
            except ValueError:
                continue  # torn by a crash before its fsync: its change never started
        return intents

    def _repair_torn_tail(self) -> None:
        """Cut a last line left without its newline by a crash (it was never acknowledged)."""
        try:
            with open(self.chain, "r+b") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                if size == 0:
                    return
                fh.seek(size - 1)
                if fh.read(1) == b"\n":
                    return
                fh.seek(max(0, size - 1_000_000))
                data = fh.read()
                cut = data.rfind(b"\n")
                fh.truncate(size - len(data) + cut + 1 if cut >= 0 else size - len(data))
                os.fsync(fh.fileno())
        except FileNotFoundError:
            pass

    def contains(self, ids: set[str]) -> set[str]:
        return {e["id"] for e in self.events() if e.get("id") in ids}

    # -- reading --------------------------------------------------------------------------
    def events(self) -> Iterator[dict]:
        try:
            fh = open(self.chain, "rb")
        except FileNotFoundError:
            return
        with fh:
            for line in fh:
                if line.endswith(b"\n"):
                    yield json.loads(line)

    def for_case(self, case_id: str) -> list[dict]:
        return [e for e in self.events() if e.get("case") == case_id]

    def verify(self) -> VerifyResult:
        prev, count = GENESIS, 0
        try:
            fh = open(self.chain, "rb")
        except FileNotFoundError:
            return VerifyResult(True, 0)
        with fh:
            for number, line in enumerate(fh, start=1):
                problem = _check_line(line, prev, number)
                if problem:
                    return VerifyResult(False, count, number, problem)
                event = json.loads(line)
                prev, count = event["hash"], count + 1
        try:
            head = read_json(self.head_path) or {}
        except ValueError:
            head = {}  # a hint torn by a crash: no hint
        if not isinstance(head, dict) or not isinstance(head.get("seq", 0), int):
            head = {}
        if head and (head.get("seq", 0) > count):
            return VerifyResult(False, count, count + 1,
                                f"the log ends at event {count} but event {head['seq']} was written")
        return VerifyResult(True, count)


def _check_line(line: bytes, prev: str, number: int) -> str:
    try:
        event = json.loads(line)
    except ValueError:
        return "not a JSON event"
    if event.get("seq") != number:
        return f"sequence {event.get('seq')} where {number} was expected (removed or reordered)"
    if event.get("prev") != prev:
        return "does not chain to the event before it (removed or reordered)"
    if event.get("hash") != event_hash(event):
        return "content does not match its hash (altered)"
    return ""


def _append_durably(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def recover(log: AuditLog, case_events: Callable[[str], list[dict]]) -> int:
    """Finish what a crash interrupted; `case_events(case_id)` gives a case file's last events."""
    intents = log.pending_intents()
    if not intents:
        return 0
    appended = 0
    for intent in intents:
        wanted = set(intent["ids"])
        landed = [e for e in case_events(intent["case"]) if e.get("id") in wanted]
        if len(landed) != len(wanted):
            continue  # the change never reached the case file: neither it nor its events exist
        missing = wanted - log.contains(wanted)
        todo = [{k: v for k, v in e.items() if k not in ("seq", "prev", "hash")}
                for e in landed if e["id"] in missing]
        if todo:
            log.append(todo)
            appended += len(todo)
    log.clear_intents()
    return appended
