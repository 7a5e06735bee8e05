"""Accepted mail in the database: committed before the listener answers 250, so a node can die,
disk and all, and every message it acknowledged is still processed, by another node.

The listener's group commit is one INSERT of every message that arrived together, in one
transaction (`write`), as the file spool is one segment and one fsync. Intake claims rows
(`claim`): `FOR UPDATE SKIP LOCKED`, so two nodes never take the same one, and a short lease
(`claimed_by`, `lease_until`) committed with the attempt count, so that a message that kills
its worker is counted and, after MAX_ATTEMPTS, shunted for a person. The rows are deleted in
the transaction that stores their messages (`finish`); a node that dies holding a claim
leaves rows that any other takes over as soon as the dead node's lock is gone
(store/pg/nodes.py), or its lease ran out.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from leakline.store.body import MessageBody
from leakline.store.pg.db import Database, Tx
from leakline.store.pg.nodes import LIVE_NODES
from leakline.store.spool import Body, Spool, SpoolEntry, escaped

LEASE_SECONDS = 20
CHANNEL = "leakline_spool"  # NOTIFY at every commit of accepted mail
# A claim looks this many batches ahead for messages of the first one's organisations (the rows
# it passes over are locked only for the claim's own short transaction).
LOOK_AHEAD = 4
CLAIMABLE = (f"shunted_at IS NULL AND (claimed_by IS NULL OR lease_until < now() "
             f"OR claimed_by NOT IN ({LIVE_NODES}))")


@dataclass(frozen=True)
class Claimed:
    entry: SpoolEntry
    attempts: int  # counting this one
    last_error: str | None


class PgSpool:
    """The spool of a node on a shared database. `data_dir` keeps only the temp files of
    messages still arriving (nothing there was acknowledged)."""

    def __init__(self, db: Database, data_dir: Path):
        self.db = db
        self.files = Spool(Path(data_dir))
        self.tmp = self.files.tmp
        self.shunt = f"the database ({db.url}, table spool)"
        self._counter = 0

    # -- the listener's side -------------------------------------------------------------------
    def prepare(self) -> None:
        self.files.prepare()

    def new_body(self) -> MessageBody:
        return self.files.new_body()

    def remove_stale_tmp(self) -> int:
        return self.files.remove_stale_tmp()

    def _spool_id(self, index: int) -> str:
        return f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(3)}.{index}"

    def write(self, items: list[tuple[bytes | Body, dict]]) -> list[str]:
        """Commit messages in one transaction; their spool ids once it is durable."""
        rows, ids = [], []
        for index, (raw, envelope) in enumerate(items):
            spool_id = self._spool_id(index)
            data = bytes(raw) if isinstance(raw, (bytes, bytearray, memoryview)) else raw.getvalue()
            head = json.dumps(escaped(dict(envelope, spool_id=spool_id)), ensure_ascii=False)
            rows.append((spool_id, head, data))
            ids.append(spool_id)
        with self.db.transaction() as tx:
            tx.executemany("INSERT INTO spool (spool_id, envelope, raw) VALUES (%s, %s, %s)", rows)
            tx.execute(f"NOTIFY {CHANNEL}")  # idle nodes wake at the commit (Waker)
        return ids

    write_each = Spool.write_each

    def segments(self) -> list:
        """Nothing waits on this node's disk (the file spool's warning has nothing to say)."""
        return []

    def waiting(self) -> int:
        """Messages accepted and not yet made cases (shunted ones apart), for every node."""
        return self.db.one("SELECT count(*) FROM spool WHERE shunted_at IS NULL")[0]

    # -- intake's side ---------------------------------------------------------------------------
    def claim(self, node: str, limit: int, max_bytes: int, max_attempts: int) -> list[Claimed]:
        """Claim a batch for `node` (committed): messages never tried, or one tried before (it
        is retried alone, so the one at fault is found); those tried `max_attempts` times are
        shunted instead."""
        with self.db.transaction() as tx:
            rows = tx.execute(f"SELECT n, spool_id, attempts, last_error, length(raw), "
                              f"envelope::json->>'orgs' FROM spool WHERE {CLAIMABLE} ORDER BY n "
                              f"LIMIT %s FOR UPDATE SKIP LOCKED", (limit * LOOK_AHEAD,)).fetchall()
            while rows and rows[0][2] >= max_attempts:
                n, spool_id, attempts, error = rows.pop(0)[:4]
                self._shunt(tx, n, error or "the worker stopped while processing it")
            if not rows:
                return []
            taken = [rows[0]] if rows[0][2] else _first_untried(rows, limit, max_bytes)
            numbers = [row[0] for row in taken]
            found = tx.execute(
                "UPDATE spool SET attempts = attempts + 1, claimed_by = %s, last_error = NULL, "
                f"lease_until = now() + interval '{LEASE_SECONDS} seconds' WHERE n = ANY(%s) "
                "RETURNING n, envelope, raw, attempts", (node, numbers)).fetchall()
        errors = {row[0]: row[3] for row in taken}
        return [Claimed(_entry(envelope, raw), attempts, errors.get(n))
                for n, envelope, raw, attempts in sorted(found)]

    def relock(self, tx: Tx, spool_ids: list[str], node: str) -> set[str]:
        """In the transaction that stores them: the rows still claimed by `node`, locked until
        its commit (a row another node took over meanwhile is that node's now)."""
        rows = tx.execute("SELECT spool_id FROM spool WHERE spool_id = ANY(%s) AND claimed_by = %s "
                          "FOR UPDATE", (spool_ids, node)).fetchall()
        return {spool_id for (spool_id,) in rows}

    def finish(self, tx: Tx, spool_ids: list[str]) -> None:
        tx.execute("DELETE FROM spool WHERE spool_id = ANY(%s)", (list(spool_ids),))

    def failed(self, spool_ids: list[str], error: str, node: str) -> None:
        """A batch that failed: its rows free again, the error kept (the next try is alone)."""
        with self.db.transaction() as tx:
            tx.execute("UPDATE spool SET claimed_by = NULL, lease_until = NULL, last_error = %s "
                       "WHERE spool_id = ANY(%s) AND claimed_by = %s",
                       (error[:2000], spool_ids, node))

    def give_back(self, spool_ids: list[str], node: str) -> None:
        """A batch cut short by the database going away: the attempt is not the message's fault."""
        with self.db.transaction() as tx:
            tx.execute("UPDATE spool SET claimed_by = NULL, lease_until = NULL, "
                       "attempts = greatest(attempts - 1, 0) WHERE spool_id = ANY(%s) "
                       "AND claimed_by = %s", (spool_ids, node))

    def shunt_entry(self, spool_id: str, reason: str) -> None:
        with self.db.transaction() as tx:
            row = tx.execute("SELECT n FROM spool WHERE spool_id = %s FOR UPDATE",
                             (spool_id,)).fetchone()
            if row is not None:
                self._shunt(tx, row[0], reason)

    def _shunt(self, tx: Tx, n: int, reason: str) -> None:
        tx.execute("UPDATE spool SET shunted_at = now(), shunt_reason = %s, claimed_by = NULL, "
                   "lease_until = NULL WHERE n = %s", (reason[:2000], n))

    # -- for people ------------------------------------------------------------------------------
    def shunted(self) -> list[dict]:
        """Shunted messages, oldest first, as `Spool.shunted` gives them."""
        rows = self.db.query("SELECT spool_id, shunted_at, shunt_reason, attempts, envelope, "
                             "length(raw) FROM spool WHERE shunted_at IS NOT NULL ORDER BY n")
        out = []
        for spool_id, at, reason, attempts, envelope, size in rows:
            meta = json.loads(envelope)
            out.append({"id": spool_id, "shunted_at": at.isoformat(timespec="seconds"),
                        "reason": reason, "attempts": attempts, "mail_from": meta.get("mail_from"),
                        "rcpt_tos": meta.get("rcpt_tos", []), "received_at": meta.get("received_at"),
                        "size": size, "path": f"{self.shunt}: {spool_id}", "retryable": True})
        return out

    def retry(self, shunt_id: str) -> str:
        """A shunted message back in line, tried afresh; its spool id stays."""
        with self.db.transaction() as tx:
            row = tx.execute("SELECT envelope FROM spool WHERE spool_id = %s AND shunted_at IS NOT "
                             "NULL FOR UPDATE", (shunt_id,)).fetchone()
            if row is None:
                raise LookupError(f"no shunted message {shunt_id!r} in {self.shunt}")
            envelope = dict(json.loads(row[0]), retried_from=shunt_id)
            tx.execute("UPDATE spool SET shunted_at = NULL, shunt_reason = NULL, attempts = 0, "
                       "last_error = NULL, envelope = %s WHERE spool_id = %s",
                       (json.dumps(envelope, ensure_ascii=False), shunt_id))
        return shunt_id


def _first_untried(rows: list[tuple], limit: int, max_bytes: int) -> list[tuple]:
    """The untried rows from the first on, up to `max_bytes`, of the first row's organisations
    only: a batch locks the rows of the organisations it stores for, so batches of different
    organisations commit in parallel on different nodes (rows of others stay for them)."""
    taken, size = [], 0
    for row in rows:
        if row[2] or (taken and size + row[4] > max_bytes):
            break
        if taken and row[5] != taken[0][5]:
            continue
        taken.append(row)
        size += row[4]
        if len(taken) == limit:
            break
    return taken


def _entry(envelope: str, raw) -> SpoolEntry:
    meta = json.loads(envelope)
    return SpoolEntry(meta["spool_id"], meta, bytes(raw))


class Waker:
    """A connection that LISTENs for accepted mail of every node: an idle intake worker selects
    on `fileno()` beside its own wake-up pipe (and still polls, should the connection be gone:
    then `fileno()` is None until it is made again)."""

    def __init__(self, db: Database):
        self.db = db
        self._conn = None

    def fileno(self) -> int | None:
        if self._conn is None or self._conn.closed or self._conn.broken:
            try:
                conn = self.db.connect(application_name="leakline intake wake")
                conn.execute(f"LISTEN {CHANNEL}")
            except Exception:  # the database is away: the worker polls meanwhile
                return None
            self._conn = conn
            self.db.adopt(conn)
        return self._conn.fileno()

    def consume(self) -> int:
        """Read what woke us (how many notifications); a dead connection is dropped."""
        if self._conn is None:
            return 0
        try:
            return sum(1 for _ in self._conn.notifies(timeout=0))
        except Exception:
            self._conn.close()
            self._conn = None
            return 0
