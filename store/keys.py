"""Message keys: a message's identity (raw hash, Message-ID, resend identity) -> its case id, and a
few small keyed values (when a sender last got a guidance reply).

One SQLite table (`data_dir/keys.sqlite`, WAL), keyed like the key files it replaces by the
SHA-256 of the key, so a key's text is not kept beside its case id. Writes come from the redo
journal (store/journal.py): a unit's keys are written in one transaction after its record is
durable, and written again, idempotently, if a crash cut that short; so SQLite's own commits need
no fsync (synchronous=NORMAL), and a checkpoint flushes them with everything else.
A file from before (keys/<xx>/<sha256>, one key per file) is imported once at start.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from pathlib import Path
from typing import Iterable, Iterator

from leakline.store.files import inject_fault
from leakline.store.sqlite import PrivateSQLite, transaction

SCHEMA = "CREATE TABLE IF NOT EXISTS keys (digest TEXT PRIMARY KEY, value TEXT NOT NULL)"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class KeyIndex(PrivateSQLite):
    schema = (SCHEMA,)

    def get(self, key: str) -> str | None:
        inject_fault("read", self.path)
        row = self._db().execute("SELECT value FROM keys WHERE digest = ?",
                                 (digest(key),)).fetchone()
        return row[0] if row else None

    def write(self, entries: Iterable[tuple[str, str, bool]]) -> None:
        """(digest, value, first_wins) in one transaction: a claim keeps an existing value."""
        inject_fault("write", self.path)
        db = self._db()
        with transaction(db):
            for key_digest, value, first_wins in entries:
                verb = "INSERT OR IGNORE" if first_wins else "INSERT OR REPLACE"
                db.execute(f"{verb} INTO keys (digest, value) VALUES (?, ?)", (key_digest, value))

    def items(self) -> Iterator[tuple[str, str]]:
        yield from self._db().execute("SELECT digest, value FROM keys ORDER BY digest")

    def check(self) -> str | None:
        """Why the file cannot be used (None when it is sound)."""
        try:
            (result,) = self._db().execute("PRAGMA quick_check").fetchone()
        except sqlite3.DatabaseError as exc:
            self.close()
            return str(exc)
        return None if result == "ok" else str(result)

    def import_files(self, folder: Path) -> int:
        """Take over the key files of an older store (keys/<xx>/<sha256>); returns how many."""
        entries = []
        for path in sorted(folder.glob("*/*")):
            with contextlib.suppress(OSError, UnicodeDecodeError):
                value = path.read_bytes().decode("utf-8").strip()
                if value and not any(ord(c) < 32 for c in value):
                    entries.append((path.name, value, True))
        self.write(entries)
        return len(entries)
