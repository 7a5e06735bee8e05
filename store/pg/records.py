"""Evidence and machine mail of one organisation in the database, in the shapes the file
backend's callers use: a raw message is reached through `store.raw_path(rel)`, which here is a
`RawRef` (exists, read_bytes, unlink), and machine mail through `store.machine_mail()`."""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Iterator

from leakline.store.files import dump_json


class RawRef:
    """One raw message of a case (`raw/YYYY/MM/<sha256>.eml`), in the `raw` table."""

    def __init__(self, store, rel: str):
        self.store = store
        self.rel = rel

    def __fspath__(self) -> str:
        return str(self.path)

    @property
    def path(self) -> PurePosixPath:
        return self.store.data_dir / self.rel

    def __str__(self) -> str:
        return str(self.path)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def stem(self) -> str:
        return self.path.stem

    def _pending(self) -> bytes | None:
        part = self.store.units.current()
        return part.raw.get(self.rel) if part is not None else None

    def exists(self) -> bool:
        if self._pending() is not None:
            return True
        return self.store.db.one("SELECT 1 FROM raw WHERE org = %s AND path = %s",
                                 (self.store.org, self.rel)) is not None

    def read_bytes(self) -> bytes:
        pending = self._pending()
        if pending is not None:
            return pending
        row = self.store.db.one("SELECT data FROM raw WHERE org = %s AND path = %s",
                                (self.store.org, self.rel))
        if row is None:
            raise FileNotFoundError(2, "no such raw message", str(self.path))
        return bytes(row[0])

    def unlink(self, missing_ok: bool = False) -> None:
        """Remove the evidence (retention purge: the case's record says so first)."""
        with self.store.unit_of_work() as part:
            part.raw.pop(self.rel, None)
            gone = part.tx.execute("DELETE FROM raw WHERE org = %s AND path = %s",
                                   (self.store.org, self.rel)).rowcount
        if not gone and not missing_ok:
            raise FileNotFoundError(2, "no such raw message", str(self.path))


class MachineMail:
    """Machine mail that belongs to no case, once per raw (and month), as store/machine.py."""

    def __init__(self, store):
        self.store = store

    def put(self, record: dict) -> bool:
        path = (f"machine/{record['received_at'][:4]}/{record['received_at'][5:7]}/"
                f"{record['sha256']}.json")
        with self.store.unit_of_work() as part:
            added = part.tx.execute(
                "INSERT INTO machine_mail (org, path, received_at, record) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (org, path) DO NOTHING",
                (self.store.org, path, record["received_at"], dump_json(record).decode())).rowcount
        return bool(added)

    def records(self) -> Iterator[dict]:
        rows = self.store.db.query(
            "SELECT record FROM machine_mail WHERE org = %s ORDER BY "
            "split_part(path, '/', 2), split_part(path, '/', 3), received_at, path",
            (self.store.org,))
        for (record,) in rows:
            try:
                yield json.loads(record)
            except ValueError:
                continue  # as an unreadable file: skipped, not fatal
