"""Rows: records kept in one SQLite file instead of a file each (the outbox's messages).

A table is a file of rows `key -> (group, order, value)`: the group says which list a row is in
(an outbox message's state), the order sorts it there (its next attempt), the value is its bytes
(the record as JSON). Like message keys (store/keys.py), rows are written from the redo journal:
a unit's rows in one transaction after its record is durable, again (idempotently: whole values,
in order) if a crash cut that short, so SQLite commits without fsyncs of its own
(synchronous=NORMAL) and a checkpoint flushes them with everything else.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Iterable

from leakline.store.files import inject_fault
from leakline.store.sqlite import PrivateSQLite, transaction

SCHEMA = ("CREATE TABLE IF NOT EXISTS rows (key TEXT PRIMARY KEY, grp TEXT NOT NULL, "
          "ord TEXT NOT NULL, value BLOB NOT NULL)",
          "CREATE INDEX IF NOT EXISTS rows_by_group ON rows (grp, ord)")
Row = tuple[str, str, bytes]  # group, order, value


class RowTable(PrivateSQLite):
    schema = SCHEMA
    make_parent = True
    _shared: dict[str, "RowTable"] = {}
    _guard = threading.Lock()

    @classmethod
    def at(cls, path: Path) -> "RowTable":
        """The one RowTable of this process for a file (its connections are per thread)."""
        key = os.path.abspath(path)
        with cls._guard:
            table = cls._shared.get(key)
            if table is None:
                table = cls._shared[key] = cls(Path(key))
            return table

    def get(self, key: str) -> Row | None:
        if not self.path.exists():
            return None
        inject_fault("read", self.path)
        return self._db().execute("SELECT grp, ord, value FROM rows WHERE key = ?",
                                  (key,)).fetchone()

    def group(self, grp: str) -> list[tuple[str, str, bytes]]:
        """(key, order, value) of every row of a group, in order."""
        if not self.path.exists():
            return []
        inject_fault("read", self.path)
        return self._db().execute("SELECT key, ord, value FROM rows WHERE grp = ? ORDER BY ord",
                                  (grp,)).fetchall()

    def write(self, entries: Iterable[tuple[str, Row | None]]) -> None:
        """(key, row) in one transaction; a None row removes the key."""
        inject_fault("write", self.path)
        db = self._db()
        with transaction(db):
            for key, row in entries:
                if row is None:
                    db.execute("DELETE FROM rows WHERE key = ?", (key,))
                else:
                    db.execute("INSERT OR REPLACE INTO rows (key, grp, ord, value) "
                               "VALUES (?, ?, ?, ?)", (key, *row))
