"""Everything a service keeps, as a stream of items that either backend reads and writes:
`leakline db copy` (leakline/dbcopy.py) moves a service from the file store to a database
and back with them, and verifies the copy by reading the target back the same way.

An item is (kind, org, ident, payload):
    case      case id             the case document with its messages
    key       SHA-256 of the key  the value (message identities, reply ledgers)
    raw       raw/YYYY/MM/x.eml   the evidence, bytes
    machine   machine/.../x.json  machine mail of no case, the record
    sequence  (prefix, year)      the last number handed out
    event     seq                 the audit chain's line, exactly as hashed
    secret    "message-id"        the organisation's Message-ID key
    outbox    outbox key          {"state", "record", "message"} (org: the record's)
    spool     SHA-256 of the raw  {"envelope", "raw", "shunted", "attempts"}
Files are read through the file store's own readers, after its journal is applied.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Iterator

from store.cases import SUMMARY_FIELDS, Store, read_case, split_case_id
from store.files import atomic_write, dump_json, ensure_dir, flush_file_system
from store.keys import KeyIndex
from store.outbox import Outbox
from store.pg.audit import chained_line
from store.pg.db import Database
from store.spool import Spool
from store.tinystore import tables_bytes

KINDS = ("secret", "sequence", "case", "key", "raw", "machine", "event", "outbox", "spool")
_SEQ = re.compile(r"^([A-Za-z0-9]+)-(\d{4})$")


def fingerprint(kind: str, payload) -> str:
    """What a copy must keep of an item, hashed: bytes as they are, documents as canonical
    JSON; an outbox message by its bytes and id (its state may be re-expressed), a spooled
    one by its raw bytes."""
    if kind == "outbox":
        payload = [payload["record"]["id"], hashlib.sha256(payload["message"]).hexdigest()]
    elif kind == "spool":
        payload = hashlib.sha256(payload["raw"]).hexdigest()
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return hashlib.sha256(bytes(payload)).hexdigest()
    return hashlib.sha256(dump_json(payload)).hexdigest()


# -- the file store -----------------------------------------------------------------------------
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
    from store.tinystore import read_tables

    return read_tables(path).get("cases", []) if path.exists() else []


# -- the database -------------------------------------------------------------------------------
class DbSide:
    """A database with the current schema: every organisation in its `orgs` table."""

    def __init__(self, db: Database, summarize=None):
        self.db = db
        self.summarize = summarize
        self.tx = None

    def orgs(self) -> list[str]:
        return [org for (org,) in self.db.query("SELECT id FROM orgs ORDER BY id")]

    def items(self) -> Iterator[tuple]:
        from store.pg.cases import PgStore

        for org in self.orgs():
            (key,) = self.db.one("SELECT message_id_key FROM orgs WHERE id = %s", (org,))
            yield "secret", org, "message-id", bytes(key)
            for prefix, year, last in self.db.query(
                    "SELECT prefix, year, last FROM sequences WHERE org = %s ORDER BY prefix, year",
                    (org,)):
                yield "sequence", org, (prefix, year), last
            for case in PgStore(self.db, org).case_documents():
                yield "case", org, case["id"], case
            for digest, value in self.db.query("SELECT digest, value FROM keys WHERE org = %s "
                                               "ORDER BY digest", (org,)):
                yield "key", org, digest, value
            for (path,) in self.db.query("SELECT path FROM raw WHERE org = %s ORDER BY path", (org,)):
                yield "raw", org, path, bytes(self.db.one(
                    "SELECT data FROM raw WHERE org = %s AND path = %s", (org, path))[0])
            for path, record in self.db.query("SELECT path, record FROM machine_mail WHERE org = %s "
                                              "ORDER BY path", (org,)):
                yield "machine", org, path, json.loads(record)
            for event in PgStore(self.db, org).audit._lines():
                yield "event", org, json.loads(event)["seq"], event
        for key, state, record, message in self.db.query(
                "SELECT key, state, record, message FROM outbox ORDER BY created_at, key"):
            record = json.loads(record)
            yield "outbox", record.get("org"), key, {"state": state, "record": record,
                                                     "message": bytes(message)}
        for envelope, raw, reason, attempts in self.db.query(
                "SELECT envelope, raw, shunt_reason, attempts FROM spool ORDER BY n"):
            yield "spool", None, hashlib.sha256(bytes(raw)).hexdigest(), {
                "envelope": json.loads(envelope), "raw": bytes(raw), "shunted": reason,
                "attempts": attempts}

    def begin(self):
        return self.db.transaction()

    def put(self, tx, item: tuple) -> None:
        kind, org, ident, payload = item
        if org is not None and kind != "outbox":
            tx.execute("INSERT INTO orgs (id, message_id_key) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                       (org, os.urandom(32)))
        if kind == "secret":
            tx.execute("UPDATE orgs SET message_id_key = %s WHERE id = %s", (payload, org))
        elif kind == "sequence":
            tx.execute("INSERT INTO sequences (org, prefix, year, last) VALUES (%s, %s, %s, %s)",
                       (org, ident[0], ident[1], payload))
        elif kind == "case":
            self._put_case(tx, org, payload)
        elif kind == "key":
            tx.execute("INSERT INTO keys (org, digest, value) VALUES (%s, %s, %s)", (org, ident, payload))
        elif kind == "raw":
            tx.execute("INSERT INTO raw (org, path, sha256, data) VALUES (%s, %s, %s, %s)",
                       (org, ident, ident.rsplit("/", 1)[1][:64], payload))
        elif kind == "machine":
            tx.execute("INSERT INTO machine_mail (org, path, received_at, record) VALUES "
                       "(%s, %s, %s, %s)", (org, ident, payload["received_at"],
                                            dump_json(payload).decode()))
        elif kind == "event":
            self._put_event(tx, org, payload)
        elif kind == "outbox":
            self._put_outbox(tx, ident, payload)
        elif kind == "spool":
            self._put_spool(tx, payload)

    def _put_case(self, tx, org: str, case: dict) -> None:
        row = {k: case.get(k) for k in SUMMARY_FIELDS}
        row.update(self.summarize(case) if self.summarize else {})
        _, year, number = split_case_id(case["id"])
        tx.execute("INSERT INTO cases (org, id, year, number, status, doc, summary) VALUES "
                   "(%s, %s, %s, %s, %s, %s, %s)", (org, case["id"], year, number, case.get("status"),
                                                     dump_json(case).decode(), dump_json(row).decode()))

    def _put_event(self, tx, org: str, line: str) -> None:
        event = json.loads(line)
        if chained_line(event) != line:
            raise ValueError(f"{org}: audit event {event.get('seq')} is not in its chained form")
        tx.execute("INSERT INTO events (org, seq, id, case_id, line) VALUES (%s, %s, %s, %s, %s)",
                   (org, event["seq"], event["id"], event.get("case"), line))
        tx.execute("UPDATE orgs SET head_seq = %s, head_hash = %s WHERE id = %s",
                   (event["seq"], event["hash"], org))

    def _put_outbox(self, tx, key: str, payload: dict) -> None:
        record = payload["record"]
        tx.execute("INSERT INTO outbox (key, org, state, next_attempt_at, created_at, node, "
                   "alert_pending, record, message) VALUES (%s, %s, %s, %s, %s, NULL, %s, %s, %s)",
                   (key, record.get("org"), payload["state"],
                    record.get("next_attempt_at") if payload["state"] == "queued" else None,
                    record["created_at"], bool(record.get("alert_pending")),
                    dump_json(record).decode(), payload["message"]))

    def _put_spool(self, tx, payload: dict) -> None:
        envelope = payload["envelope"]
        spool_id = envelope.get("spool_id") or hashlib.sha256(payload["raw"]).hexdigest()
        envelope = {k: v for k, v in envelope.items()
                    if k not in ("shunt_reason", "attempts", "shunted_at")}
        envelope["spool_id"] = spool_id
        tx.execute("INSERT INTO spool (spool_id, envelope, raw, attempts, shunted_at, shunt_reason) "
                   "VALUES (%s, %s, %s, %s, CASE WHEN %s::text IS NULL THEN NULL ELSE now() END, %s)",
                   (spool_id, json.dumps(envelope, ensure_ascii=False), payload["raw"],
                    payload["attempts"], payload["shunted"], payload["shunted"]))

    def empty(self) -> bool:
        return not any(self.db.one(f"SELECT EXISTS (SELECT 1 FROM {table})")[0]
                       for table in ("orgs", "cases", "outbox", "spool"))
