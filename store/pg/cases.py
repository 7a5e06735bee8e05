"""One organisation's cases, message keys, evidence, sequence and audit chain in PostgreSQL:
the Store interface of docs/STORE.md over a database every node shares.

A unit of work is a transaction (store/pg/db.py) that holds the organisation's row in `orgs`
FOR UPDATE from its first operation to its commit: one writer per organisation at a time, as
the file backend's data lock, so every read inside a unit sees what the last unit committed,
case numbers and the audit chain advance in commit order, and a message that reached two
nodes is found as a duplicate by the second. What the unit saves (cases, keys, evidence,
events) is collected and written just before the COMMIT, a few statements for the whole batch.
Organisations' units are independent: nodes work on different organisations in parallel.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import secrets
from pathlib import PurePosixPath
from typing import Callable, Iterator

from leakline.store.cases import (SUMMARY_FIELDS, CaseDamaged, CaseNotFound, ChangeWithoutEvent, Store,
                         split_case_id, utc_now)
from leakline.store.files import dump_json
from leakline.store.keys import digest
from leakline.store.pg.audit import PgAudit
from leakline.store.pg.db import Database, Tx
from leakline.store.pg.records import MachineMail, RawRef

log = logging.getLogger("leakline.store")
_RAW = re.compile(r"^raw/\d{4}/\d{2}/[0-9a-f]{64}\.eml$")


class OrgPart:
    """What one unit of work collected for one organisation; written by `flush` at the commit."""

    def __init__(self, store: "PgStore", tx: Tx, head: tuple):
        self.store = store
        self.tx = tx
        self.head = {"seq": head[0], "hash": head[1]}
        self.state: dict = {"cases": {}}  # as the file backend's unit: state["cases"][id]
        self.keys: dict[str, tuple[str, bool]] = {}
        self.raw: dict[str, bytes] = {}
        self.events: list[dict] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.tx.after_commit(callback)

    def flush(self) -> None:
        org, tx = self.store.org, self.tx
        cases = list(self.state["cases"].values())
        tx.executemany(
            "INSERT INTO cases (org, id, year, number, status, doc, summary) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (org, id) DO UPDATE SET "
            "status = EXCLUDED.status, doc = EXCLUDED.doc, summary = EXCLUDED.summary, "
            "updated_at = now()",
            [(org, c["id"], *split_case_id(c["id"])[1:], c.get("status"),
              dump_json(c).decode(), dump_json(self.store.row(c)).decode()) for c in cases])
        for first_wins in (True, False):
            verb = "NOTHING" if first_wins else "UPDATE SET value = EXCLUDED.value"
            tx.executemany(f"INSERT INTO keys (org, digest, value) VALUES (%s, %s, %s) "
                           f"ON CONFLICT (org, digest) DO {verb}",
                           [(org, d, v) for d, (v, first) in self.keys.items() if first == first_wins])
        tx.executemany("INSERT INTO raw (org, path, sha256, data) VALUES (%s, %s, %s, %s) "
                       "ON CONFLICT DO NOTHING",
                       [(org, rel, rel.rsplit("/", 1)[1][:64], data) for rel, data in self.raw.items()])
        if self.events:
            self.store.audit.write(tx, self.events, self.head)
            tx.execute("UPDATE orgs SET head_seq = %s, head_hash = %s WHERE id = %s",
                       (self.head["seq"], self.head["hash"], org))


class PgUnits:
    """`store.units` as the sender sees it: `.unit()` is the organisation's unit of work."""

    def __init__(self, store: "PgStore"):
        self.store = store

    def unit(self):
        return self.store.unit_of_work()

    def current(self) -> OrgPart | None:
        tx = self.store.db.current()
        return tx.parts.get(("org", self.store.org)) if tx is not None else None


class PgStore:
    """The Store of one organisation (`org`) in the database `db`."""

    def __init__(self, db: Database, org: str, prefix: str = "INC",
                 now: Callable = utc_now, summarize: Callable[[dict], dict] | None = None):
        self.db = db
        self.org = org
        self.prefix = prefix
        self.now = now
        self.summarize = summarize
        # Not a folder: named in messages (`CaseDamaged.path`), never written to.
        self.data_dir = PurePosixPath(f"postgresql:{org}")
        self.units = PgUnits(self)
        self.audit = PgAudit(db, org)
        self.on_problem: Callable[[str], None] = lambda message: log.warning("%s", message)

    # What the file backend does without touching a file, unchanged.
    report = Store.report
    update = Store.update
    cases = Store.cases
    _stamp = Store._stamp

    def prepare(self) -> None:
        """The schema checked; the organisation's row (its chain head and key) made once."""
        self.db.check_schema()
        self._ensure_row()

    def _ensure_row(self) -> None:
        self.db.query("INSERT INTO orgs (id, message_id_key) VALUES (%s, %s) "
                      "ON CONFLICT (id) DO NOTHING", (self.org, secrets.token_bytes(32)))

    def checkpoint(self) -> None:
        """Nothing to flush: COMMIT made every unit durable."""

    # -- units of work ------------------------------------------------------------------------
    @contextlib.contextmanager
    def unit_of_work(self) -> Iterator[OrgPart]:
        with self.db.transaction() as tx:
            yield self._part(tx)

    def _part(self, tx: Tx) -> OrgPart:
        part = tx.parts.get(("org", self.org))
        if part is None:
            head = self._lock(tx)
            part = tx.parts[("org", self.org)] = OrgPart(self, tx, head)
            tx.before_commit(part.flush)
        return part

    def _lock(self, tx: Tx) -> tuple:
        """Hold the organisation's row until the commit (waiting for a unit of another node)."""
        sql = "SELECT head_seq, head_hash FROM orgs WHERE id = %s FOR UPDATE"
        row = tx.execute(sql, (self.org,)).fetchone()
        if row is None:
            self._ensure_row()
            row = tx.execute(sql, (self.org,)).fetchone()
        return row

    def _open(self) -> OrgPart | None:
        return self.units.current()

    # -- sequence ----------------------------------------------------------------------------
    def next_case_id(self, year: int) -> str:
        """The next number of the year, counted in the unit (a unit that fails hands none out)."""
        with self.unit_of_work() as part:
            (number,) = part.tx.execute(
                "INSERT INTO sequences (org, prefix, year, last) VALUES (%s, %s, %s, 1) "
                "ON CONFLICT (org, prefix, year) DO UPDATE SET last = sequences.last + 1 "
                "RETURNING last", (self.org, self.prefix, year)).fetchone()
            if self.exists(self._id(year, number)):  # cases the sequence does not know of
                (highest,) = part.tx.execute(
                    "SELECT max(number) FROM cases WHERE org = %s AND year = %s AND id LIKE %s",
                    (self.org, year, f"{self.prefix}-%")).fetchone()
                number = max(number, highest or 0) + 1
                while self.exists(self._id(year, number)):
                    number += 1
                part.tx.execute("UPDATE sequences SET last = %s WHERE org = %s AND prefix = %s "
                                "AND year = %s", (number, self.org, self.prefix, year))
        return self._id(year, number)

    def _id(self, year: int, number: int) -> str:
        return f"{self.prefix}-{year}-{number:04d}"

    # -- message identities --------------------------------------------------------------------
    def case_for_key(self, key: str) -> str | None:
        part = self._open()
        pending = part.keys.get(digest(key)) if part is not None else None
        if pending is not None:
            value = pending[0]
        else:
            row = self.db.one("SELECT value FROM keys WHERE org = %s AND digest = %s",
                              (self.org, digest(key)))
            value = row[0] if row else None
        if value is not None and any(ord(c) < 32 for c in value):
            self.report(f"{self.data_dir}: a key holds junk")
            return None
        return value or None

    def _pending_or_stored(self, key_digest: str, part: OrgPart) -> bool:
        if key_digest in part.keys:
            return True
        return self.db.one("SELECT 1 FROM keys WHERE org = %s AND digest = %s",
                           (self.org, key_digest)) is not None

    def put_key(self, key: str, value: str) -> None:
        with self.unit_of_work() as part:
            part.keys[digest(key)] = (value, False)

    def claim_key(self, key: str, case_id: str) -> None:
        with self.unit_of_work() as part:
            key_digest = digest(key)
            if not self._pending_or_stored(key_digest, part):
                part.keys[key_digest] = (case_id, True)

    # -- evidence -----------------------------------------------------------------------------
    def put_raw(self, raw: bytes, year: int, month: int) -> str:
        rel = f"raw/{year:04d}/{month:02d}/{hashlib.sha256(raw).hexdigest()}.eml"
        with self.unit_of_work() as part:
            if rel not in part.raw and not self.raw_path(rel).exists():
                part.raw[rel] = raw
        return rel

    def raw_path(self, rel: str) -> RawRef:
        """The evidence `rel` names, as an object with exists(), read_bytes() and unlink()."""
        if not _RAW.match(rel or ""):
            raise ValueError(f"raw path outside data_dir: {rel}")
        return RawRef(self, rel)

    def machine_mail(self) -> MachineMail:
        return MachineMail(self)

    def message_id_key(self) -> bytes:
        if not hasattr(self, "_message_id_key"):
            row = self.db.one("SELECT message_id_key FROM orgs WHERE id = %s", (self.org,))
            if row is None:
                self._ensure_row()
                row = self.db.one("SELECT message_id_key FROM orgs WHERE id = %s", (self.org,))
            self._message_id_key = bytes(row[0])
        return self._message_id_key

    # -- cases -------------------------------------------------------------------------------
    def exists(self, case_id: str) -> bool:
        part = self._open()
        if part is not None and case_id in part.state["cases"]:
            return True
        return self.db.one("SELECT 1 FROM cases WHERE org = %s AND id = %s",
                           (self.org, case_id)) is not None

    def get(self, case_id: str) -> dict:
        part = self._open()
        dirty = part.state["cases"].get(case_id) if part is not None else None
        if dirty is not None:
            return json.loads(dump_json(dirty))  # a copy, as a read from the database is
        row = self.db.one("SELECT doc FROM cases WHERE org = %s AND id = %s", (self.org, case_id))
        if row is None:
            raise CaseNotFound(case_id)
        try:
            case = json.loads(row[0])
        except ValueError:
            case = None
        if not isinstance(case, dict) or case.get("id") != case_id:
            raise CaseDamaged(case_id, self.data_dir / "cases" / case_id,
                              "not a case document (altered in the database?)")
        return case

    def save(self, case: dict, events: list[dict]) -> list[dict]:
        if not events:
            raise ChangeWithoutEvent(f"{case['id']}: a change needs its audit event")
        with self.unit_of_work() as part:
            stamped = self._stamp(case, events)
            case["last_events"] = stamped
            part.events.extend(stamped)
            part.state["cases"][case["id"]] = case
        return stamped

    def ensure_indexed(self, case: dict) -> None:
        """A case's listing row is written with it, in one statement: never missing."""

    def row(self, case: dict) -> dict:
        row = {k: case.get(k) for k in SUMMARY_FIELDS}
        if self.summarize is not None:
            row.update(self.summarize(case))
        return row

    def summaries(self, status: str = "all") -> list[dict]:
        where = "" if status == "all" else " AND status = %s"
        params = (self.org,) if status == "all" else (self.org, status)
        rows = self.db.query(f"SELECT summary FROM cases WHERE org = %s{where} "
                             "ORDER BY year, number, id", params)
        return [json.loads(summary) for (summary,) in rows]

    def case_documents(self) -> Iterator[dict]:
        """Every case as stored, oldest first (`audit verify`, `db copy`)."""
        for row in self.summaries("all"):
            try:
                yield self.get(row["id"])
            except CaseNotFound:
                continue
