"""The service's outbox in the database: the Outbox interface of store/outbox.py, shared by
every node, with one state more: `sending`.

A node's sender first claims what is due (`Claiming.due_and_next`): the rows are taken with
`FOR UPDATE SKIP LOCKED` (two nodes never take the same one), marked `sending` with the node's
id, and committed; only then are they handed to the transport, and the outcome is recorded
after. So a node that dies after the commit leaves its mail `sending`: it may or may not have
gone, and nothing sends it again by itself (at most once). `list(failed=True)` shows those of
nodes that are no longer alive (store/pg/nodes.py) beside the dead letters, and `retry` puts one
back in the queue when a person decides it did not go.

The record of each message is the file backend's (its JSON as text), so `list`, `get` and the
CLI's JSON are the same on both backends; `state`, `next_attempt_at` and `org` are columns too,
for the queries.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Callable

from leakline.store.files import dump_json
from leakline.store.outbox import (FAILED, QUEUED, SENT, Item, Outbox, OutboxError, UnknownMessage,
                          message_key, normalize_id)
from leakline.store.pg.db import Database, DatabaseUnavailable
from leakline.store.pg.nodes import LIVE_NODES

log = logging.getLogger("leakline.store.pg")
AWAY_RETRY = timedelta(seconds=5)  # how soon a sender looks again while the database is away
QUIET_SECONDS = 30.0  # ... and says so once in this long, not at every look

SENDING = "sending"
COLUMNS = "key, org, state, next_attempt_at, created_at, node, alert_pending, record, message"


@dataclass(frozen=True)
class StoredItem(Item):
    """An Item whose message bytes came from the database with it."""

    data: bytes = b""

    def message_bytes(self) -> bytes:
        return self.data


class OutboxUnits:
    def __init__(self, db: Database):
        self.db = db

    def unit(self):
        return self.db.transaction()

    def checkpoint(self) -> None:
        """Nothing behind a journal: COMMIT made every unit durable."""


class PgOutbox:
    def __init__(self, db: Database, now: Callable[[], datetime]):
        self.db = db
        self.now = now
        self.units = OutboxUnits(db)

    enqueue = Outbox.enqueue
    _ensure_message_id = staticmethod(Outbox._ensure_message_id)

    def prepare(self) -> None:
        """Nothing to take in or mend: the rows are the database's (`db upgrade` made them)."""

    def enqueue_bytes(self, data: bytes, *, message_id: str, envelope_from: str,
                      envelope_to: list[str], case_id: str | None, kind: str, subject: str,
                      same_as=None, org: str | None = None) -> str:
        """Queue a message serialised once; an id already known changes nothing. `same_as` (the
        file the file backend links to) is not needed: the bytes are kept with the row."""
        if not envelope_to:
            raise ValueError("envelope_to: at least one recipient is needed")
        message_id = normalize_id(message_id)
        now = self.now()
        record = {"id": message_id, "case_id": case_id, "kind": kind,
                  "envelope_from": envelope_from, "to": list(envelope_to),
                  "pending_to": list(envelope_to), "subject": subject, "state": QUEUED,
                  "attempts": 0, "created_at": now.isoformat(), "queued_at": now.isoformat(),
                  "next_attempt_at": now.isoformat(), "last_error": None, "org": org}
        with self.db.transaction() as tx:
            tx.execute(f"INSERT INTO outbox ({COLUMNS}) VALUES "
                       "(%s, %s, %s, %s, %s, NULL, false, %s, %s) ON CONFLICT (key) DO NOTHING",
                       (message_key(message_id), org, QUEUED, now, now,
                        dump_json(record).decode(), data))
        return message_id

    # -- what the sender reads -----------------------------------------------------------------
    def due(self, now: datetime) -> list[Item]:
        return self.due_and_next(now)[0]

    def due_and_next(self, now: datetime) -> tuple[list[Item], datetime | None]:
        rows = self.db.query(f"SELECT {COLUMNS} FROM outbox WHERE state = %s AND next_attempt_at "
                             "<= %s ORDER BY next_attempt_at, created_at", (QUEUED, now))
        return [_item(row) for row in rows], self._later(now)

    def _later(self, now: datetime) -> datetime | None:
        return self.db.one("SELECT min(next_attempt_at) FROM outbox WHERE state = %s "
                           "AND next_attempt_at > %s", (QUEUED, now))[0]

    def next_attempt_at(self) -> datetime | None:
        return self.db.one("SELECT min(next_attempt_at) FROM outbox WHERE state = %s",
                           (QUEUED,))[0]

    def pending_alerts(self) -> list[Item]:
        rows = self.db.query(f"SELECT {COLUMNS} FROM outbox WHERE state = %s AND alert_pending "
                             "ORDER BY created_at", (FAILED,))
        return [_item(row) for row in rows]

    def claim(self, now: datetime, node: str, limit: int) -> list[Item]:
        """Take up to `limit` due messages for `node`: marked `sending` and committed."""
        with self.db.transaction() as tx:
            rows = tx.execute(f"SELECT {COLUMNS} FROM outbox WHERE state = %s AND next_attempt_at "
                              "<= %s ORDER BY next_attempt_at, created_at LIMIT %s "
                              "FOR UPDATE SKIP LOCKED", (QUEUED, now, limit)).fetchall()
            updates = []
            for row in rows:
                record = json.loads(row[7])
                record.update(state=SENDING, node=node, sending_at=now.isoformat())
                updates.append((node, dump_json(record).decode(), row[0]))
            tx.executemany("UPDATE outbox SET state = 'sending', node = %s, record = %s "
                           "WHERE key = %s", updates)
        return [_item(row) for row in rows]

    # -- state changes -------------------------------------------------------------------------
    def _locked(self, tx, message_id: str, states: tuple[str, ...]) -> tuple[str, dict, str]:
        message_id = normalize_id(message_id)
        row = tx.execute("SELECT key, record, state FROM outbox WHERE key = %s FOR UPDATE",
                         (message_key(message_id),)).fetchone()
        if row is None or row[2] not in states:
            raise UnknownMessage(f"{message_id}: not in the outbox queue")
        return row[0], json.loads(row[1]), row[2]

    def _write(self, tx, key: str, record: dict, *, alert: bool = False) -> None:
        tx.execute("UPDATE outbox SET state = %s, next_attempt_at = %s, node = %s, "
                   "alert_pending = %s, record = %s WHERE key = %s",
                   (record["state"], record.get("next_attempt_at"), record.get("node"), alert,
                    dump_json(record).decode(), key))

    def mark_sent(self, message_id: str) -> None:
        with self.db.transaction() as tx:
            key, record, _ = self._locked(tx, message_id, (QUEUED, SENDING))
            _settle(record)
            record.update(state=SENT, sent_at=self.now().isoformat(), pending_to=[],
                          next_attempt_at=None)
            self._write(tx, key, record)

    def mark_retry(self, message_id: str, error: str, next_at: datetime, *,
                   recipients: list[str] | None = None) -> None:
        with self.db.transaction() as tx:
            key, record, _ = self._locked(tx, message_id, (QUEUED, SENDING))
            _settle(record)
            record.update(state=QUEUED, attempts=record["attempts"] + 1, last_error=error,
                          next_attempt_at=next_at.isoformat())
            if recipients:
                record["pending_to"] = list(recipients)
            self._write(tx, key, record)

    def mark_failed(self, message_id: str, error: str, *, recipients: list[str] | None = None,
                    alert: bool = False) -> None:
        with self.db.transaction() as tx:
            key, record, _ = self._locked(tx, message_id, (QUEUED, SENDING))
            _settle(record)
            record.update(state=FAILED, attempts=record["attempts"] + 1, last_error=error,
                          failed_at=self.now().isoformat(), next_attempt_at=None,
                          alert_pending=alert)
            if recipients:
                record["pending_to"] = list(recipients)
            self._write(tx, key, record, alert=alert)

    def mark_alerted(self, message_id: str) -> None:
        with self.db.transaction() as tx:
            try:
                key, record, _ = self._locked(tx, message_id, (FAILED,))
            except UnknownMessage:
                return
            if record.get("alert_pending"):
                record["alert_pending"] = False
                self._write(tx, key, record)

    def retry(self, message_id: str) -> dict:
        """A dead letter, a waiting message, or one a dead node left `sending`: queued now."""
        message_id = normalize_id(message_id)
        with self.db.transaction() as tx:
            row = tx.execute("SELECT key, record, state, node FROM outbox WHERE key = %s "
                             "FOR UPDATE", (message_key(message_id),)).fetchone()
            if row is None:
                raise UnknownMessage(f"{message_id}: no such message in the outbox")
            key, record, state, node = row[0], json.loads(row[1]), row[2], row[3]
            if state == SENT:
                raise OutboxError(f"{message_id}: already sent at {record.get('sent_at')}")
            if state == SENDING and node in self._live(tx):
                raise OutboxError(f"{message_id}: node {node} is sending it right now")
            now = self.now().isoformat()
            _settle(record)
            record.update(state=QUEUED, next_attempt_at=now, alert_pending=False)
            if state != QUEUED:
                record.update(queued_at=now, retried_at=now)
                record.pop("failed_at", None)
            self._write(tx, key, record)
        return Outbox._summary(record)

    def _live(self, tx) -> set[str]:
        return {node for (node,) in tx.execute(LIVE_NODES).fetchall()}

    # -- reading for people --------------------------------------------------------------------
    def list(self, failed: bool = False) -> list[dict]:
        """The queue (with what is being sent), or the dead letters with the messages a dead
        node left `sending` (they may or may not have gone: `retry` sends them again)."""
        if not failed:
            rows = self.db.query("SELECT record FROM outbox WHERE state IN (%s, %s) "
                                 "ORDER BY created_at", (QUEUED, SENDING))
            return [Outbox._summary(json.loads(r)) for (r,) in rows]
        rows = self.db.query(
            f"SELECT record, state FROM outbox WHERE state = %s OR (state = %s AND node NOT IN "
            f"({LIVE_NODES})) ORDER BY created_at", (FAILED, SENDING))
        return [_stranded(json.loads(r)) if state == SENDING else Outbox._summary(json.loads(r))
                for r, state in rows]

    def list_sent(self) -> list[dict]:
        rows = self.db.query("SELECT record FROM outbox WHERE state = %s", (SENT,))
        records = [json.loads(r) for (r,) in rows]
        return [Outbox._summary(r) for r in sorted(records, key=lambda r: r.get("sent_at") or "")]

    def get(self, message_id: str) -> dict | None:
        row = self.db.one("SELECT record FROM outbox WHERE key = %s",
                          (message_key(normalize_id(message_id)),))
        return None if row is None else Outbox._summary(json.loads(row[0]))

    def forget_sent(self, message_id: str) -> bool:
        with self.db.transaction() as tx:
            return bool(tx.execute("DELETE FROM outbox WHERE key = %s AND state = %s",
                                   (message_key(normalize_id(message_id)), SENT)).rowcount)

    def forget(self, message_id: str) -> bool:
        with self.db.transaction() as tx:
            return bool(tx.execute("DELETE FROM outbox WHERE key = %s",
                                   (message_key(normalize_id(message_id)),)).rowcount)


class Claiming:
    """The outbox as a node's sender sees it: `due_and_next` claims (at most once)."""

    def __init__(self, outbox: PgOutbox, node: Callable[[], str], limit: int = 200):
        self.outbox = outbox
        self.node = node
        self.limit = limit
        self._said = float("-inf")

    def due_and_next(self, now: datetime) -> tuple[list[Item], datetime | None]:
        try:
            items = self.outbox.claim(now, self.node(), self.limit)
            later = now if len(items) >= self.limit else self.outbox._later(now)
        except DatabaseUnavailable as exc:  # nothing claimed: nothing can go twice; look again
            if time.monotonic() - self._said >= QUIET_SECONDS:
                self._said = time.monotonic()
                log.error("outbox: the sender waits for the database: %s", exc)
            return [], now + AWAY_RETRY
        return items, later

    def __getattr__(self, name: str):
        return getattr(self.outbox, name)


def _settle(record: dict) -> None:
    """A message leaving `sending`: the claim's marks go."""
    record.pop("node", None)
    record.pop("sending_at", None)


def _stranded(record: dict) -> dict:
    row = Outbox._summary(record)
    row.update(state=SENDING, node=record.get("node"), sending_at=record.get("sending_at"))
    row["last_error"] = row.get("last_error") or (
        f"node {record.get('node')} stopped while sending it: it may or may not have gone; "
        "`leakline outbox retry` sends it again")
    return row


def _item(row: tuple) -> StoredItem:
    key, org, record, data = row[0], row[1], json.loads(row[7]), bytes(row[8])
    return StoredItem(
        id=record["id"], envelope_from=record["envelope_from"],
        recipients=tuple(record.get("pending_to") or record["to"]),
        case_id=record.get("case_id"), kind=record["kind"], subject=record.get("subject", ""),
        attempts=record["attempts"], created_at=datetime.fromisoformat(record["created_at"]),
        queued_at=datetime.fromisoformat(record.get("queued_at") or record["created_at"]),
        next_attempt_at=datetime.fromisoformat(record.get("next_attempt_at")
                                               or record["created_at"]),
        last_error=record.get("last_error"), path=PurePosixPath(f"outbox/{key}.eml"),
        org=record.get("org") or org, data=data)
