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
The file store's side is store/pg/transfer_files.py (read after its journal is applied).
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Iterator

from leakline.store.cases import SUMMARY_FIELDS, split_case_id
from leakline.store.files import dump_json
from leakline.store.pg.audit import chained_line
from leakline.store.pg.db import Database

KINDS = ("secret", "sequence", "case", "key", "raw", "machine", "event", "outbox", "spool")


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
        from leakline.store.pg.cases import PgStore

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
