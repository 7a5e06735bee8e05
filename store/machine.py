"""Machine mail that belongs to no case: auto-replies, list mail, read receipts, our own mail
come back. Kept as evidence (the raw under raw/, a record here), listed by
`leakline cases list --machine`, never a case and never escalated.

Layout: machine/<yyyy>/<mm>/<sha256 of the raw>.json, one record a message (files 0600).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

from leakline.store.files import atomic_write_json, dump_json, read_json


class MachineMail:
    def __init__(self, data_dir: Path, units=None):
        self.root = Path(data_dir) / "machine"
        self.units = units  # store.unit.Units: a record is part of the open unit of work

    def _path(self, record: dict) -> Path:
        year, month = record["received_at"][:4], record["received_at"][5:7]
        return self.root / year / month / f"{record['sha256']}.json"

    def put(self, record: dict) -> bool:
        """Keep `record` (a message as intake stores it); False if the same raw was kept before."""
        path = self._path(record)
        if self.units is None:
            if path.exists():
                return False
            atomic_write_json(path, record)
            return True
        rel = str(path.relative_to(self.units.data_dir))
        with self.units.unit() as uow:
            if uow.exists(rel):
                return False
            uow.write(rel, dump_json(record), create_only=True)
        return True

    def records(self) -> Iterator[dict]:
        """Every kept record, oldest first (an unreadable one is skipped, not fatal)."""
        with contextlib.suppress(FileNotFoundError):
            for year in sorted(os.listdir(self.root)):
                for month in sorted(os.listdir(self.root / year)):
                    rows = []
                    for name in os.listdir(self.root / year / month):
                        with contextlib.suppress(ValueError, OSError):
                            rows.append(read_json(self.root / year / month / name))
                    yield from sorted(filter(None, rows), key=lambda r: r.get("received_at", ""))
