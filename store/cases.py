"""The case store: the one interface the rest of leakline uses for cases, messages and evidence.

Layout under data_dir (files 0600, folders 0700), chosen so that no write grows with the number
of cases:
    cases/<year>/<bucket>/<CASE-ID>.json   one TinyDB file per case (tables: case, messages)
    index/<year>/<bucket>.json             TinyDB shard of case summaries, 100 cases a shard
    keys.sqlite                            message identity -> case id (dedupe and threading)
    raw/<yyyy>/<mm>/<sha256>.eml           raw messages, the evidence, content-addressed
    seq/<PREFIX>-<year>                    the case sequence, never reused
    journal/redo.log                       units of work not yet flushed (store/journal.py)
    quarantine/<time>/<path>               damaged files moved aside, each with a note

Every write is part of a unit of work (store/unit.py, docs/STORE.md): `with
store.unit_of_work():` around a batch makes every save, key and evidence file in it one commit
(one fsync); a method called outside one commits alone. Inside a unit, `get` sees the unit's
own saves, and each case file is written once, at the commit, with its index row.

One damaged file affects only its own case: shards and sequences are rebuilt from the case
files (store/health.py), and a case that cannot be read is skipped and reported, not fatal.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Callable, Iterator

from datetime import datetime, timezone

from leakline.store.audit import recover
from leakline.store.files import DataLock, atomic_write, ensure_dir
from leakline.store.machine import MachineMail
from leakline.store.secret import load_or_create_key
from leakline.store.tinystore import StoreDamaged, checked_tables, tables_bytes
from leakline.store.unit import UnitOfWork
from leakline.store.units import Units

log = logging.getLogger("leakline.store")

BUCKET = 100
# Evidence past this size is written and fsynced at once instead of going through the journal
# (a unit of 20 messages of 10 MB must not hold 200 MB for its record).
DIRECT_RAW_BYTES = 1 << 20
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
        self.lock = DataLock.at(self.data_dir / ".lock")
        self.units = Units(self.data_dir, self.lock)
        self.audit = self.units.audit
        # Damage found on the way (a skipped case, a rebuilt shard): logged, and the CLI shows it.
        self.on_problem: Callable[[str], None] = lambda message: log.warning("%s", message)

    def report(self, message: str) -> None:
        self.on_problem(message)

    def unit_of_work(self):
        """`with store.unit_of_work() as uow:` everything written inside is committed once."""
        return self.units.unit()

    def checkpoint(self) -> None:
        """Flush what units wrote behind the journal and empty it (the worker, when idle)."""
        self.units.checkpoint()

    # -- layout -------------------------------------------------------------------------
    def prepare(self) -> None:
        for name in ("cases", "index", "raw", "seq"):
            ensure_dir(self.data_dir / name)
        self.audit.prepare()
        self.units.prepare()
        legacy_keys = self.data_dir / "keys"
        if self.units.journal.clean() and not self.audit.pending_intents() \
                and not legacy_keys.is_dir():
            return  # nothing to finish: a read-only command never waits for the lock
        with self.lock.hold():
            self.units.recover()
            self._recover()
            if legacy_keys.is_dir():
                self._import_key_files(legacy_keys)

    def _import_key_files(self, folder: Path) -> None:
        count = self.units.keys.import_files(folder)
        target = folder.with_name(f"keys.imported-{utc_now():%Y%m%dT%H%M%S}")
        os.replace(folder, target)
        log.warning("store: %d key files taken into %s; the old files are kept in %s", count,
                    self.units.keys.path, target)

    def _case_rel(self, case_id: str) -> str:
        _, year, seq = split_case_id(case_id)
        return f"cases/{year}/{seq // BUCKET:05d}/{case_id}.json"

    def _case_path(self, case_id: str) -> Path:
        return self.data_dir / self._case_rel(case_id)

    def _index_rel(self, case_id: str) -> str:
        _, year, seq = split_case_id(case_id)
        return f"index/{year}/{seq // BUCKET:05d}.json"

    def _index_path(self, case_id: str) -> Path:
        return self.data_dir / self._index_rel(case_id)

    # -- sequence -------------------------------------------------------------------------
    def next_case_id(self, year: int) -> str:
        """Allocate a case id; the counter is committed with the unit, so never reused.

        A sequence file that is missing or damaged is recovered from the highest case id on
        disk, and an id whose case file exists is never handed out again.
        """
        from leakline.store.health import highest_case_number, parse_sequence

        with self.unit_of_work() as uow:
            rel = f"seq/{self.prefix}-{year}"
            data = uow.read(rel)
            try:
                current = parse_sequence(self.data_dir / rel, data) if data is not None else None
            except StoreDamaged as exc:
                self.report(f"{exc}: recovered from the case files")
                current = None
            if current is None:
                current = highest_case_number(self, self.prefix, year)
            number = current + 1
            while self.exists(f"{self.prefix}-{year}-{number:04d}"):
                number += 1
            uow.write(rel, b'{"last": %d}' % number)
        return f"{self.prefix}-{year}-{number:04d}"

    # -- message identities -------------------------------------------------------------
    def case_for_key(self, key: str) -> str | None:
        uow = self.units.current()
        value = uow.get_key(key) if uow is not None else self.units.keys.get(key)
        if value is not None and any(ord(c) < 32 for c in value):
            # Treated as absent (the message starts a case instead of threading), never fatal.
            self.report(f"{self.units.keys.path}: a key holds junk; run `leakline store check`")
            return None
        return value or None

    def put_key(self, key: str, value: str) -> None:
        """Set a small keyed value (e.g. when a sender last got a guidance reply)."""
        with self.unit_of_work() as uow:
            uow.put_key(key, value)

    def claim_key(self, key: str, case_id: str) -> None:
        """Name the case of a message identity, unless one is named already (the first wins)."""
        with self.unit_of_work() as uow:
            uow.put_key(key, case_id, first_wins=True)

    # -- evidence -------------------------------------------------------------------------
    def put_raw(self, raw: bytes, year: int, month: int) -> str:
        digest = hashlib.sha256(raw).hexdigest()
        rel = f"raw/{year:04d}/{month:02d}/{digest}.eml"
        with self.unit_of_work() as uow:
            if uow.exists(rel):
                return rel
            if len(raw) > DIRECT_RAW_BYTES:
                atomic_write(self.data_dir / rel, raw)  # durable now; a unit that fails
                # later leaves evidence without a case, which the retried message finds
            else:
                uow.write(rel, raw, create_only=True)
        return rel

    def raw_path(self, rel: str) -> Path:
        path = (self.data_dir / rel).resolve()
        if not path.is_relative_to(self.data_dir.resolve()):
            raise ValueError(f"raw path outside data_dir: {rel}")
        return path

    def machine_mail(self) -> MachineMail:
        """Machine mail that belongs to no case (store.machine)."""
        return MachineMail(self.data_dir, self.units)

    # -- the installation's secret (store.secret) ----------------------------------------
    def message_id_key(self) -> bytes:
        """The key our Message-IDs are signed with; made at the first start, never logged."""
        if not hasattr(self, "_message_id_key"):
            self._message_id_key = load_or_create_key(self.data_dir / "secret" / "message-id.key")
        return self._message_id_key

    # -- cases ---------------------------------------------------------------------------
    def _dirty(self) -> dict[str, dict]:
        uow = self.units.current()
        return uow.state.get("cases", {}) if uow is not None else {}

    def exists(self, case_id: str) -> bool:
        if case_id in self._dirty():
            return True
        try:
            return self._case_path(case_id).exists()
        except CaseNotFound:
            return False

    def get(self, case_id: str) -> dict:
        dirty = self._dirty().get(case_id)
        if dirty is not None:
            # A copy, as a read from the file would be: a caller's change without a save is
            # not written by someone else's later save of the same case.
            return json.loads(json.dumps(dirty, ensure_ascii=False))
        path = self._case_path(case_id)
        if not path.exists():
            raise CaseNotFound(case_id)
        return read_case(path, case_id)

    def save(self, case: dict, events: list[dict]) -> list[dict]:
        """Write a case and the audit events that explain the change, both or neither.

        `events` are {"action", "actor", "details"}; returns them stamped (id, case, at). The
        case file is written when the unit commits (at once, outside a unit), from the case as
        it is then: the caller hands it over.
        """
        if not events:
            raise ChangeWithoutEvent(f"{case['id']}: a change needs its audit event")
        with self.unit_of_work() as uow:
            stamped = self._stamp(case, events)
            case["last_events"] = stamped
            uow.add_events(stamped)
            uow.state.setdefault("cases", {})[case["id"]] = case
            uow.before_commit(self._write_cases)
        return stamped

    def _write_cases(self, uow: UnitOfWork) -> None:
        """At the commit: each changed case file once, and its shard's rows once per shard."""
        shards: dict[str, list[dict]] = {}
        for case in uow.state.get("cases", {}).values():
            fields = {k: v for k, v in case.items() if k != "messages"}
            uow.write(self._case_rel(case["id"]), tables_bytes({
                "case": [fields], "messages": list(case.get("messages", []))}))
            shards.setdefault(self._index_rel(case["id"]), []).append(case)
        for case in uow.state.get("indexed", {}).values():
            shards.setdefault(self._index_rel(case["id"]), []).append(case)
        for rel, cases in shards.items():
            self._write_rows(uow, rel, cases)

    def _write_rows(self, uow: UnitOfWork, rel: str, cases: list[dict]) -> None:
        path = self.data_dir / rel
        rows = {row["id"]: row for row in self._shard_rows(path)} if path.exists() else {}
        changed = False
        for case in cases:
            row = summary(case)
            if self.summarize is not None:
                row.update(self.summarize(case))
            if rows.get(case["id"]) != row:
                rows[case["id"]], changed = row, True
        if changed:
            ordered = sorted(rows.values(), key=lambda r: split_case_id(r["id"]))
            uow.write(rel, tables_bytes({"cases": ordered}))

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
        """Intents an older version left in audit/intents.log (before the redo journal)."""
        def last_events(case_id: str) -> list[dict]:
            try:
                return self.get(case_id).get("last_events", [])
            except (CaseNotFound, StoreDamaged):
                return []
        recover(self.audit, last_events)

    def ensure_indexed(self, case: dict) -> None:
        """Write the case's index row if it lacks it (with the unit, or at once)."""
        with self.unit_of_work() as uow:
            uow.state.setdefault("indexed", {})[case["id"]] = case
            uow.before_commit(self._write_cases)

    def update(self, case_id: str, change: Callable[[dict], list[dict] | None]) -> dict:
        """Read-modify-write one case in a unit of work (the open one, else its own).

        `change` edits the case in place and returns the audit events of what it changed;
        when it returns none, nothing changed and nothing is written.
        """
        with self.unit_of_work():
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
        from leakline.store.health import rebuild_shard

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
