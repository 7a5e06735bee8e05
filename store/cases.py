"""The case store: the one interface the rest of leakline uses for cases, messages and evidence.

Layout under data_dir (files 0600, folders 0700), chosen so that no write grows with the number
of cases:
    cases/<year>/<bucket>/<CASE-ID>.json   one TinyDB file per case (tables: case, messages)
    index/<year>/<bucket>.json             TinyDB shard of case summaries, 100 cases a shard
    keys/<xx>/<sha256>                     message identity -> case id (dedupe and threading)
    raw/<yyyy>/<mm>/<sha256>.eml           raw messages, the evidence, content-addressed
    seq/<PREFIX>-<year>                    the case sequence, never reused
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from pathlib import Path
from typing import Callable, Iterator

from datetime import datetime, timezone

from store.audit import AuditLog, recover
from store.files import DataLock, atomic_write, ensure_dir, read_json
from store.tinystore import read_tables, write_tables

BUCKET = 100
SUMMARY_FIELDS = ("id", "status", "reporter", "reporter_name", "subject", "received_at",
                  "flags", "category", "closed_at")


class CaseNotFound(LookupError):
    def __init__(self, case_id: str):
        super().__init__(f"no such case: {case_id}")
        self.case_id = case_id


_CASE_ID = re.compile(r"^([A-Za-z0-9]+)-(\d{4})-(\d{4,})$")


def split_case_id(case_id: str) -> tuple[str, int, int]:
    match = _CASE_ID.match(case_id)
    if not match:
        raise CaseNotFound(case_id)
    return match.group(1), int(match.group(2)), int(match.group(3))


def summary(case: dict) -> dict:
    return {k: case.get(k) for k in SUMMARY_FIELDS}


class ChangeWithoutEvent(ValueError):
    """Every change to a case is recorded in the audit trail: a save needs its events."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Store:
    def __init__(self, data_dir: Path, prefix: str = "INC", now: Callable[[], datetime] = utc_now,
                 summarize: Callable[[dict], dict] | None = None):
        self.data_dir = Path(data_dir)
        self.prefix = prefix
        self.now = now
        # Extra index fields computed from a case (the CLI's listing: ack, next due, ...).
        self.summarize = summarize
        self.lock = DataLock(self.data_dir / ".lock")
        self.audit = AuditLog(self.data_dir)

    # -- layout -------------------------------------------------------------------------
    def prepare(self) -> None:
        for name in ("cases", "index", "keys", "raw", "seq"):
            ensure_dir(self.data_dir / name)
        self.audit.prepare()
        with self.lock.hold():
            self._recover()

    def _case_path(self, case_id: str) -> Path:
        _, year, seq = split_case_id(case_id)
        return self.data_dir / "cases" / str(year) / f"{seq // BUCKET:05d}" / f"{case_id}.json"

    def _index_path(self, case_id: str) -> Path:
        _, year, seq = split_case_id(case_id)
        return self.data_dir / "index" / str(year) / f"{seq // BUCKET:05d}.json"

    def _key_path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return self.data_dir / "keys" / digest[:2] / digest

    # -- sequence -------------------------------------------------------------------------
    def next_case_id(self, year: int) -> str:
        """Allocate a case id; the counter is durable before the id is used, so never reused."""
        with self.lock.hold():
            path = self.data_dir / "seq" / f"{self.prefix}-{year}"
            current = int((read_json(path) or {}).get("last", 0))
            atomic_write(path, b'{"last": %d}' % (current + 1))
        return f"{self.prefix}-{year}-{current + 1:04d}"

    # -- message identities -------------------------------------------------------------
    def case_for_key(self, key: str) -> str | None:
        try:
            return self._key_path(key).read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def put_key(self, key: str, value: str) -> None:
        """Set a small keyed value (e.g. when a sender last got a guidance reply)."""
        atomic_write(self._key_path(key), value.encode())

    def claim_key(self, key: str, case_id: str) -> None:
        path = self._key_path(key)
        if not path.exists():
            atomic_write(path, case_id.encode())

    # -- evidence -------------------------------------------------------------------------
    def put_raw(self, raw: bytes, year: int, month: int) -> str:
        digest = hashlib.sha256(raw).hexdigest()
        rel = f"raw/{year:04d}/{month:02d}/{digest}.eml"
        path = self.data_dir / rel
        if not path.exists():
            atomic_write(path, raw)
        return rel

    def raw_path(self, rel: str) -> Path:
        path = (self.data_dir / rel).resolve()
        if not path.is_relative_to(self.data_dir.resolve()):
            raise ValueError(f"raw path outside data_dir: {rel}")
        return path

    # -- cases ---------------------------------------------------------------------------
    def exists(self, case_id: str) -> bool:
        try:
            return self._case_path(case_id).exists()
        except CaseNotFound:
            return False

    def get(self, case_id: str) -> dict:
        path = self._case_path(case_id)
        if not path.exists():
            raise CaseNotFound(case_id)
        tables = read_tables(path)
        case = dict(tables.get("case", [{}])[0])
        case["messages"] = tables.get("messages", [])
        return case

    def save(self, case: dict, events: list[dict]) -> list[dict]:
        """Write a case and the audit events that explain the change, both or neither.

        `events` are {"action", "actor", "details"}; returns them as chained.
        """
        if not events:
            raise ChangeWithoutEvent(f"{case['id']}: a change needs its audit event")
        with self.lock.hold():
            self._recover()
            stamped = self._stamp(case, events)
            self.audit.record_intent(case["id"], [e["id"] for e in stamped])
            case["last_events"] = stamped
            fields = {k: v for k, v in case.items() if k != "messages"}
            write_tables(self._case_path(case["id"]), {
                "case": [fields], "messages": list(case.get("messages", [])),
            })
            chained = self.audit.append(stamped)
            self.audit.clear_intents()
            self._write_summary(case)
            return chained

    def _stamp(self, case: dict, events: list[dict]) -> list[dict]:
        at = self.now().isoformat(timespec="microseconds")
        number = int(case.get("event_count", 0))
        stamped = []
        for event in events:
            number += 1
            stamped.append({"id": f"{case['id']}#{number}", "case": case["id"], "at": at,
                            "actor": event.get("actor") or "system", "action": event["action"],
                            "details": event.get("details") or {}})
        case["event_count"] = number
        return stamped

    def _recover(self) -> None:
        def last_events(case_id: str) -> list[dict]:
            try:
                return self.get(case_id).get("last_events", [])
            except CaseNotFound:
                return []
        recover(self.audit, last_events)

    def ensure_indexed(self, case: dict) -> None:
        with self.lock.hold():
            self._write_summary(case)

    def _write_summary(self, case: dict) -> None:
        path = self._index_path(case["id"])
        tables = read_tables(path) if path.exists() else {}
        rows = {row["id"]: row for row in tables.get("cases", [])}
        row = summary(case)
        if self.summarize is not None:
            row.update(self.summarize(case))
        if rows.get(case["id"]) == row:
            return
        rows[case["id"]] = row
        write_tables(path, {"cases": sorted(rows.values(), key=lambda r: split_case_id(r["id"]))})

    def update(self, case_id: str, change: Callable[[dict], list[dict] | None]) -> dict:
        """Read-modify-write one case under the lock.

        `change` edits the case in place and returns the audit events of what it changed;
        when it returns none, nothing changed and nothing is written.
        """
        with self.lock.hold():
            case = self.get(case_id)
            events = change(case)
            if events:
                self.save(case, events)
            return case

    def summaries(self, status: str = "all") -> list[dict]:
        rows = []
        for path in self._index_files():
            for row in read_tables(path).get("cases", []):
                if status == "all" or row.get("status") == status:
                    rows.append(row)
        return rows

    def _index_files(self) -> Iterator[Path]:
        root = self.data_dir / "index"
        with contextlib.suppress(FileNotFoundError):
            for year in sorted(os.listdir(root)):
                for name in sorted(os.listdir(root / year)):
                    if name.endswith(".json"):
                        yield root / year / name

    def cases(self, status: str = "open") -> Iterator[dict]:
        for row in self.summaries(status):
            with contextlib.suppress(CaseNotFound):
                yield self.get(row["id"])
