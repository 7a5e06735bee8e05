"""A private SQLite file written from the redo journal (message keys, outbox rows).

One connection per thread, WAL and synchronous=NORMAL (the journal's record is the durable one;
a checkpoint flushes SQLite with everything else), the file made 0600 before SQLite first opens
it so that its -wal and -shm files are private alike.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Iterable

from leakline.store.files import FILE_MODE, ensure_dir


class PrivateSQLite:
    """The per-thread connection to `path`, created with `schema` (statements) on first use."""

    schema: tuple[str, ...] = ()
    make_parent = False  # create the file's folder when it is missing

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect(self.path, self.schema, self.make_parent)
        return db

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def connect(path: Path, schema: Iterable[str], make_parent: bool = False) -> sqlite3.Connection:
    if not path.exists():
        if make_parent:
            ensure_dir(path.parent)
        # Private from the first byte: SQLite creates its -wal and -shm files alike.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    for statement in schema:
        db.execute(statement)
    return db


@contextlib.contextmanager
def transaction(db: sqlite3.Connection):
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
