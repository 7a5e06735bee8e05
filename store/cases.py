"""The case store: the one interface the rest of leakline uses for cases, messages and evidence.

Layout under data_dir (files 0600, folders 0700), chosen so that no write grows with the number
of cases:
    cases/<year>/<bucket>/<CASE-ID>.json   one TinyDB file per case (tables: case, messages)
    index/<year>/<bucket>.json             TinyDB shard of case summaries, 100 cases a shard
    keys/<xx>/<sha256>                     message identity -> case id (dedupe and threading)
    raw/<yyyy>/<mm>/<sha256>.eml           raw messages, the evidence, content-addressed
    seq/<PREFIX>-<year>                    the case sequence, never reused
    quarantine/<time>/<path>               damaged files moved aside, each with a note

One damaged file affects only its own case: shards and sequences are rebuilt from the case
files (store/health.py), and a case that cannot be read is skipped and reported, not fatal.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
from pathlib import Path
from typing import Callable, Iterator

from datetime import datetime, timezone

from store.audit import AuditLog, recover
from store.files import DataLock, atomic_write, ensure_dir, inject_fault
from store.machine import MachineMail
from store.secret import load_or_create_key
from store.tinystore import StoreDamaged, checked_tables, write_tables

log = logging.getLogger("leakline.store")

BUCKET = 100
SUMMARY_FIELDS = ("id", "status", "reporter", "reporter_name", "subject", "received_at",
                  "flags", "category", "closed_at")


class CaseNotFound(LookupError):
    def __init__(self, case_id: str):
        super().__init__(f"no such case: {case_id}")
        self.case_id = case_id


class CaseDamaged(StoreDamaged):
    def __init__(self, case_id: str, path: Path, reason: str):
        super().__init__(path, reason)
        self.case_id = case_id


_CASE_ID = re.compile(r"^([A-Za-z0-9]+)-(\d{4})-(\d{4,})$")


def split_case_id(case_id: str) -> tuple[str, int, int]:
    match = _CASE_ID.match(case_id)
    if not match:
        raise CaseNotFound(case_id)
    return match.group(1), int(match.group(2)), int(match.group(3))


def summary(case: dict) -> dict:
    return {k: case.get(k) for k in SUMMARY_FIELDS}


def read_case(path: Path, case_id: str) -> dict:
    """One case file, checked: CaseDamaged when it cannot be read back as that case."""
    try:
        tables = checked_tables(path)
    except StoreDamaged as exc:
        raise CaseDamaged(case_id, path, exc.reason) from None
    rows = tables.get("case") or []
    if len(rows) != 1 or rows[0].get("id") != case_id:
        raise CaseDamaged(case_id, path, "empty, or no record of this case in it")
    case = dict(rows[0])
    case["messages"] = tables.get("messages", [])
    return case


def read_shard(path: Path) -> list[dict]:
    """The summary rows of one index shard; StoreDamaged when it cannot be read back."""
    rows = checked_tables(path).get("cases", [])
    for row in rows:
        try:
            split_case_id(row.get("id") if isinstance(row.get("id"), str) else "")
        except CaseNotFound:
            raise StoreDamaged(path, "an index row without a valid case id") from None
    return rows


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
        # Damage found on the way (a skipped case, a rebuilt shard): logged, and the CLI shows it.
        self.on_problem: Callable[[str], None] = lambda message: log.warning("%s", message)

    def report(self, message: str) -> None:
        self.on_problem(message)

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
        """Allocate a case id; the counter is durable before the id is used, so never reused.

        A sequence file that is missing or damaged is recovered from the highest case id on
        disk, and an id whose case file exists is never handed out again.
        """
        from store.health import highest_case_number, read_sequence

        with self.lock.hold():
            path = self.data_dir / "seq" / f"{self.prefix}-{year}"
            try:
                current = read_sequence(path) if path.exists() else None
            except StoreDamaged as exc:
                self.report(f"{exc}: recovered from the case files")
                current = None
            if current is None:
                current = highest_case_number(self, self.prefix, year)
            number = current + 1
            while self._case_path(f"{self.prefix}-{year}-{number:04d}").exists():
                number += 1
            atomic_write(path, b'{"last": %d}' % number)
        return f"{self.prefix}-{year}-{number:04d}"

    # -- message identities -------------------------------------------------------------
    def case_for_key(self, key: str) -> str | None:
        path = self._key_path(key)
        try:
            inject_fault("read", path)
            value = path.read_bytes().decode("utf-8").strip()
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            value = "\x00"
        if any(ord(c) < 32 for c in value):
            # Treated as absent (the message starts a case instead of threading), never fatal.
            self.report(f"{path}: key file is damaged; run `leakline store check --repair`")
            return None
        return value or None

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

    def machine_mail(self) -> MachineMail:
        """Machine mail that belongs to no case (store.machine)."""
        return MachineMail(self.data_dir)

    # -- the installation's secret (store.secret) ----------------------------------------
    def message_id_key(self) -> bytes:
        """The key our Message-IDs are signed with; made at the first start, never logged."""
        if not hasattr(self, "_message_id_key"):
            self._message_id_key = load_or_create_key(self.data_dir / "secret" / "message-id.key")
        return self._message_id_key

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
        return read_case(path, case_id)

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
            except (CaseNotFound, StoreDamaged):
                return []
        recover(self.audit, last_events)

    def ensure_indexed(self, case: dict) -> None:
        with self.lock.hold():
            self._write_summary(case)

    def _write_summary(self, case: dict) -> None:
        path = self._index_path(case["id"])
        rows = {row["id"]: row for row in self._shard_rows(path)} if path.exists() else {}
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
            for row in self._shard_rows(path):
                if status == "all" or row.get("status") == status:
                    rows.append(row)
        return rows

    def _shard_rows(self, path: Path) -> list[dict]:
        """A shard's rows; a damaged shard is rebuilt from its case files, so no case is lost."""
        from store.health import rebuild_shard

        try:
            return read_shard(path)
        except StoreDamaged as exc:
            damage = exc.reason
        except OSError as exc:
            damage = exc.strerror or str(exc)
        try:
            rows = rebuild_shard(self, path)
        except OSError as exc:
            self.report(f"{path}: damaged ({damage}) and not rebuilt ({exc.strerror or exc}); "
                        f"its cases are not listed")
            return []
        self.report(f"{path}: index shard was damaged ({damage}); rebuilt from its case files")
        return rows

    def _index_files(self) -> Iterator[Path]:
        root = self.data_dir / "index"
        with contextlib.suppress(FileNotFoundError):
            for year in sorted(os.listdir(root)):
                for name in sorted(os.listdir(root / year)):
                    if name.endswith(".json"):
                        yield root / year / name

    def cases(self, status: str = "open") -> Iterator[dict]:
        """The cases, read one by one; a damaged one is skipped and reported, not fatal."""
        for row in self.summaries(status):
            try:
                case = self.get(row["id"])
            except CaseNotFound:
                continue
            except StoreDamaged as exc:
                self.report(f"case {row['id']} skipped: {exc}")
                continue
            except OSError as exc:
                self.report(f"case {row['id']} skipped: {exc.filename or ''}: "
                            f"{exc.strerror or exc}")
                continue
            yield case
