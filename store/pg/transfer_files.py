"""The file store's side of `leakline db copy` (store/pg/transfer.py has the items): read
and write a data_dir through the file store's own readers and writers."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Iterator

from leakline.store.cases import SUMMARY_FIELDS, Store, read_case, split_case_id
from leakline.store.files import atomic_write, dump_json, ensure_dir, flush_file_system
from leakline.store.keys import KeyIndex
from leakline.store.spool import Spool
from leakline.store.tinystore import tables_bytes

_SEQ = re.compile(r"^([A-Za-z0-9]+)-(\d{4})$")


class FileSide:
    """A data_dir: `orgs` maps each organisation id to its store's folder; `root` has the
    service's outbox and spool."""

    def __init__(self, root: Path, orgs: dict[str, Path], summarize=None):
        self.root = Path(root)
        self.orgs = orgs
        self.summarize = summarize
        self._keys: dict[str, KeyIndex] = {}

    def settle(self) -> None:
        """Every unit a crash left unapplied applied, the journals emptied."""
        for folder in self.orgs.values():
            if folder.is_dir():
                store = Store(folder)
                store.prepare()
                store.checkpoint()

    def items(self) -> Iterator[tuple]:
        for org, folder in self.orgs.items():
            if folder.is_dir():
                yield from self._org_items(org, folder)
        yield from self._outbox_items()
        yield from self._spool_items()

    def _org_items(self, org: str, folder: Path) -> Iterator[tuple]:
        key = folder / "secret" / "message-id.key"
        if key.exists():
            yield "secret", org, "message-id", bytes.fromhex(key.read_text().strip())
        for path in sorted((folder / "seq").glob("*")):
            match = _SEQ.match(path.name)
            if match:
                last = json.loads(path.read_bytes())["last"]
                yield "sequence", org, (match.group(1), int(match.group(2))), last
        for path in sorted((folder / "cases").glob("*/*/*.json")):
            yield "case", org, path.stem, read_case(path, path.stem)
        if (folder / "keys.sqlite").exists():
            index = KeyIndex(folder / "keys.sqlite")
            try:
                for digest, value in index.items():
                    yield "key", org, digest, value
            finally:
                index.close()
        for path in sorted((folder / "raw").glob("*/*/*.eml")):
            yield "raw", org, str(path.relative_to(folder)), path.read_bytes()
        for path in sorted((folder / "machine").glob("*/*/*.json")):
            yield "machine", org, str(path.relative_to(folder)), json.loads(path.read_bytes())
        chain = folder / "audit" / "chain.jsonl"
        if chain.exists():
            with open(chain, "rb") as fh:
                for number, line in enumerate(fh, 1):
                    if line.endswith(b"\n"):
                        yield "event", org, number, line[:-1].decode("utf-8")

    def _outbox_items(self) -> Iterator[tuple]:
        yield from self._outbox_rows()
        folders = {"queued": ["queue"], "failed": ["failed"],
                   "sent": [f"sent/{m.name}" for m in sorted((self.root / "outbox" / "sent").glob("*"))]}
        for state, names in folders.items():
            for name in names:
                for path in sorted((self.root / "outbox" / name).glob("*.json")):
                    record = json.loads(path.read_bytes())
                    yield "outbox", record.get("org"), path.stem, {
                        "state": state, "record": record,
                        "message": path.with_suffix(".eml").read_bytes()}

    def _outbox_rows(self) -> Iterator[tuple]:
        """An outbox kept as rows of outbox/outbox.sqlite (store/rows.py): the record in the
        group of its state, the message in the case's raw evidence (`raw`) or a row
        `<key>.eml` of its own."""
        table = self.root / "outbox" / "outbox.sqlite"
        if not table.exists():
            return
        import sqlite3

        db = sqlite3.connect(f"file:{table}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT key, grp, value FROM rows WHERE grp IN "
                              "('queued', 'sent', 'failed') ORDER BY key").fetchall()
            for key, state, value in rows:
                record = json.loads(value)
                if record.get("raw"):
                    message = (self.root / record["raw"]).read_bytes()
                else:
                    found = db.execute("SELECT value FROM rows WHERE key = ?",
                                       (f"{key}.eml",)).fetchone()
                    message = bytes(found[0]) if found else b""
                yield "outbox", record.get("org"), key, {"state": state, "record": record,
                                                         "message": message}
        finally:
            db.close()

    def _spool_items(self) -> Iterator[tuple]:
        spool = Spool(self.root)
        for segment in spool.segments():
            for entry in spool.read(segment):
                yield "spool", None, hashlib.sha256(entry.raw).hexdigest(), {
                    "envelope": entry.envelope, "raw": entry.raw, "shunted": None, "attempts": 0}
        for row in spool.shunted():
            if row["retryable"]:
                raw = Path(row["path"]).read_bytes()
                meta = json.loads(Path(row["path"]).with_suffix(".json").read_bytes())
                yield "spool", None, hashlib.sha256(raw).hexdigest(), {
                    "envelope": meta, "raw": raw, "shunted": row["reason"] or "shunted",
                    "attempts": row["attempts"]}

    # -- writing ----------------------------------------------------------------------------
    def put(self, item: tuple) -> None:
        kind, org, ident, payload = item
        folder = self.orgs[org] if org in self.orgs else None
        if kind == "secret":
            atomic_write(folder / "secret" / "message-id.key", payload.hex().encode(), sync=False)
        elif kind == "sequence":
            atomic_write(folder / "seq" / f"{ident[0]}-{ident[1]}", b'{"last": %d}' % payload,
                         sync=False)
        elif kind == "case":
            self._put_case(folder, payload)
        elif kind == "key":
            if org not in self._keys:
                ensure_dir(folder)
                self._keys[org] = KeyIndex(folder / "keys.sqlite")
            self._keys[org].write([(ident, payload, False)])
        elif kind in ("raw", "machine"):
            data = payload if kind == "raw" else dump_json(payload)
            atomic_write(folder / ident, data, sync=False, sync_dir=False)
        elif kind == "event":
            ensure_dir(folder / "audit")
            with open(folder / "audit" / "chain.jsonl", "ab") as fh:
                fh.write(payload.encode("utf-8") + b"\n")
        elif kind == "outbox":
            self._put_outbox(ident, payload)
        elif kind == "spool":
            self._put_spool(payload)

    def _put_case(self, folder: Path, case: dict) -> None:
        store = Store(folder)
        fields = {k: v for k, v in case.items() if k != "messages"}
        atomic_write(store._case_path(case["id"]), tables_bytes(
            {"case": [fields], "messages": list(case.get("messages", []))}), sync=False)
        row = {k: case.get(k) for k in SUMMARY_FIELDS}
        row.update(self.summarize(case) if self.summarize else {})
        shard = store._index_path(case["id"])
        rows = {r["id"]: r for r in _shard_rows(shard)}
        rows[case["id"]] = row
        ordered = sorted(rows.values(), key=lambda r: split_case_id(r["id"]))
        atomic_write(shard, tables_bytes({"cases": ordered}), sync=False)

    def _put_outbox(self, key: str, payload: dict) -> None:
        record, state = dict(payload["record"]), payload["state"]
        if state == "sending":  # left by a node that died: it may have gone; a person decides
            record.update(state="failed", failed_at=record.get("sending_at"),
                          last_error=f"node {record.get('node')} stopped while sending it")
            state = "failed"
        for mark in ("node", "sending_at"):
            record.pop(mark, None)
        if state == "sent":
            name = f"sent/{datetime.fromisoformat(record['sent_at']):%Y-%m}"
        else:
            name = "queue" if state == "queued" else "failed"
        folder = self.root / "outbox" / name
        atomic_write(folder / f"{key}.eml", payload["message"], sync=False)
        atomic_write(folder / f"{key}.json", dump_json(record), sync=False)

    def _put_spool(self, payload: dict) -> None:
        spool = Spool(self.root)
        spool.prepare()
        envelope = {k: v for k, v in payload["envelope"].items()
                    if k not in ("spool_id", "shunt_reason", "attempts", "shunted_at")}
        if payload["shunted"] is None:
            spool.write([(payload["raw"], envelope)])
            return
        (spool_id,) = spool.write([(payload["raw"], envelope)])
        segment = spool.new / f"{spool_id.rsplit('.', 1)[0]}.spool"
        entry = next(spool.read(segment))
        spool.shunt_entry(entry, payload["shunted"], payload["attempts"])
        spool.remove(segment)

    def finish(self) -> None:
        """The chain heads written, everything flushed once."""
        for index in self._keys.values():
            index.close()
        for folder in self.orgs.values():
            chain = folder / "audit" / "chain.jsonl"
            if chain.exists():
                Store(folder).audit.write_head_hint()
        flush_file_system(self.root)


def _shard_rows(path: Path) -> list[dict]:
    from leakline.store.tinystore import read_tables

    return read_tables(path).get("cases", []) if path.exists() else []
