"""The spool: every accepted message, raw bytes plus envelope, on disk before we answer 250.

Messages that arrive together are written into one segment file and made durable with one
fsync (group commit); a segment is removed only when intake has processed every message in it.
Segment record: b"LLSPOOL1 <envelope-length> <raw-length>\\n" + envelope JSON + raw bytes.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from store.files import FILE_MODE, atomic_write, ensure_dir, fsync_dir, write_all

MAGIC = b"LLSPOOL1"


class SpoolError(Exception):
    """A spool segment that cannot be read back."""


@dataclass(frozen=True)
class SpoolEntry:
    spool_id: str
    envelope: dict
    raw: bytes


class Spool:
    def __init__(self, data_dir: Path):
        self.root = data_dir / "spool"
        self.tmp = self.root / "tmp"
        self.new = self.root / "new"
        self.shunt = self.root / "shunt"
        self._counter = itertools.count()
        self._id_lock = threading.Lock()

    def prepare(self) -> None:
        for folder in (self.root, self.tmp, self.new, self.shunt):
            ensure_dir(folder)

    def _segment_id(self) -> str:
        with self._id_lock:
            n = next(self._counter)
        # Sortable by time of arrival, unique across processes.
        return f"{time.time_ns():020d}-{os.getpid()}-{n:06d}"

    def write(self, items: list[tuple[bytes, dict]]) -> list[str]:
        """Write messages as one segment, durably; return their spool ids."""
        segment = self._segment_id()
        tmp = self.tmp / f"{segment}.spool"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        ids = []
        try:
            for index, (raw, envelope) in enumerate(items):
                spool_id = f"{segment}.{index}"
                head = json.dumps(dict(envelope, spool_id=spool_id), ensure_ascii=False).encode()
                write_all(fd, b"%s %d %d\n" % (MAGIC, len(head), len(raw)))
                write_all(fd, head)
                write_all(fd, raw)
                ids.append(spool_id)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        os.close(fd)
        os.rename(tmp, self.new / tmp.name)
        fsync_dir(self.new)
        return ids

    def segments(self) -> list[Path]:
        try:
            return sorted(p for p in self.new.iterdir() if p.suffix == ".spool")
        except FileNotFoundError:
            return []

    def read(self, segment: Path) -> Iterator[SpoolEntry]:
        with open(segment, "rb") as fh:
            while True:
                line = fh.readline()
                if not line:
                    return
                parts = line.split()
                if len(parts) != 3 or parts[0] != MAGIC:
                    raise SpoolError(f"{segment.name}: bad record header")
                head, raw = fh.read(int(parts[1])), fh.read(int(parts[2]))
                if len(raw) != int(parts[2]):
                    raise SpoolError(f"{segment.name}: truncated record")
                envelope = json.loads(head)
                yield SpoolEntry(envelope["spool_id"], envelope, raw)

    def remove(self, segment: Path) -> None:
        segment.unlink(missing_ok=True)
        fsync_dir(self.new)

    def shunt_entry(self, entry: SpoolEntry, reason: str) -> Path:
        """Keep a message that intake could not process, for a human; it is never dropped."""
        path = self.shunt / f"{entry.spool_id}.eml"
        atomic_write(path, entry.raw)
        envelope = dict(entry.envelope, shunt_reason=reason)
        atomic_write(path.with_suffix(".json"), json.dumps(envelope, ensure_ascii=False).encode())
        return path

