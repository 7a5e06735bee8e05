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


class Store:
    def __init__(self, data_dir: Path, prefix: str = "INC"):
        self.data_dir = Path(data_dir)
        self.prefix = prefix
        self.lock = DataLock(self.data_dir / ".lock")

    # -- layout -------------------------------------------------------------------------
    def prepare(self) -> None:
        for name in ("cases", "index", "keys", "raw", "seq"):
            ensure_dir(self.data_dir / name)

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

    def save(self, case: dict) -> None:
        """Write a case (fields and messages) in one atomic write, then its index row."""
        with self.lock.hold():
            fields = {k: v for k, v in case.items() if k != "messages"}
            write_tables(self._case_path(case["id"]), {
                "case": [fields], "messages": list(case.get("messages", [])),
            })
            self._write_summary(case)

    def ensure_indexed(self, case: dict) -> None:
        with self.lock.hold():
            self._write_summary(case)

    def _write_summary(self, case: dict) -> None:
        path = self._index_path(case["id"])
        tables = read_tables(path) if path.exists() else {}
        rows = {row["id"]: row for row in tables.get("cases", [])}
        row = summary(case)
        if rows.get(case["id"]) == row:
            return
        rows[case["id"]] = row
        write_tables(path, {"cases": sorted(rows.values(), key=lambda r: split_case_id(r["id"]))})

    def update(self, case_id: str, change: Callable[[dict], object]) -> dict:
        """Read-modify-write one case under the lock; `change` edits the dict in place."""
        with self.lock.hold():
            case = self.get(case_id)
            change(case)
            self.save(case)
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
