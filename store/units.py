"""Units of work: every change of a batch collected in memory, then committed together.

`with units.unit() as uow:` holds the data lock, collects what the code inside writes (files,
message keys, audit events; store/unit.py) and commits it once: one record in the redo journal,
one fsync, then the files are written behind it (store/journal.py). Code that asks for a unit
while one is open in its thread joins that one, so `Store.save` or `Outbox.enqueue` called
inside a batch become part of it and outside any batch commit alone. An exception inside
discards the whole unit. After a commit, `after_commit` callbacks run outside the lock (e.g.
waking the mail sender). docs/STORE.md has the guarantees and the commit points.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
from pathlib import Path
from typing import Iterator

from store.audit import AuditLog
from store.files import (FILE_MODE, DataLock, atomic_write, ensure_dir, flush_file_system,
                         inject_fault, write_all)
from store.journal import Journal, Record
from store.keys import KeyIndex
from store.unit import Link, Moved, UnitOfWork

log = logging.getLogger("leakline.store")
CHECKPOINT_BYTES = 8 << 20  # the journal is emptied (after one flush) when it grows past this


class Units:
    """The unit-of-work machinery of one data_dir: the lock, the journal, keys and audit chain."""

    def __init__(self, data_dir: Path, lock: DataLock):
        self.data_dir = Path(data_dir)
        self.lock = lock
        self.journal = Journal(self.data_dir / "journal" / "redo.log")
        self.audit = AuditLog(self.data_dir)
        self.keys = KeyIndex(self.data_dir / "keys.sqlite")
        self._local = threading.local()
        self._prepared = False

    def prepare(self) -> None:
        self.journal.prepare()
        self.audit.prepare()
        self._prepared = True

    def current(self) -> UnitOfWork | None:
        return getattr(self._local, "unit", None)

    @contextlib.contextmanager
    def unit(self) -> Iterator[UnitOfWork]:
        """The unit open in this thread, or a new one committed when the block ends."""
        current = self.current()
        if current is not None:
            yield current
            return
        with self.lock.hold():
            if not self._prepared:
                self.prepare()
            self.recover()
            uow = UnitOfWork(self)
            self._local.unit = uow
            try:
                yield uow
                for hook in uow._before:
                    hook(uow)
            finally:
                self._local.unit = None
            self._commit(uow)
        for callback in uow._after:
            callback()

    # -- commit ----------------------------------------------------------------------------
    def _commit(self, uow: UnitOfWork) -> None:
        if uow.empty():
            return
        meta, blobs = self._record(uow)
        self._ready(meta)
        self.journal.commit(meta, blobs)  # the commit point
        self._apply(meta, blobs)
        self.journal.mark_applied()
        if self.journal.size() > CHECKPOINT_BYTES:
            self.checkpoint()

    def _record(self, uow: UnitOfWork) -> tuple[dict, list[bytes]]:
        blobs: list[bytes] = []
        files = []
        for rel, pending in uow.files.items():
            if isinstance(pending, bytes):
                files.append(["c" if rel in uow.create_only else "w", rel, len(blobs)])
                blobs.append(pending)
            elif isinstance(pending, Link):
                files.append(["l", pending.source, rel])
            elif isinstance(pending, Moved):
                has_data = pending.data is not None
                files.append(["r", pending.source, rel, len(blobs) if has_data else -1])
                if has_data:
                    blobs.append(pending.data)
            else:
                files.append(["u", rel])
        keys = [[d, value, first] for d, (value, first) in uow.keys.items()]
        events = self.audit.chain_events(uow.events) if uow.events else []
        return {"v": 1, "sizes": [len(b) for b in blobs], "files": files, "keys": keys,
                "events": events}, blobs

    def _ready(self, meta: dict) -> None:
        """Fail before the commit what would fail after it: a folder that cannot be made, a
        folder where a file goes. A unit whose files cannot be written is refused whole; what
        fails only later (a disk that fills up meanwhile) is written again at the next unit."""
        folders = set()
        for op in meta["files"]:
            if op[0] in ("w", "c", "l", "r"):
                path = self.data_dir / (op[2] if op[0] in ("l", "r") else op[1])
                inject_fault("write", path)
                if path.is_dir():
                    raise IsADirectoryError(errno.EISDIR, "a folder is in the way", str(path))
                folders.add(path.parent)
        for folder in folders:
            ensure_dir(folder)

    def _apply(self, meta: dict, blobs: list[bytes]) -> None:
        """Make the files, keys and chain say what the record says; idempotent."""
        ops = meta["files"]
        for op in ops:
            if op[0] in ("w", "c"):
                data = blobs[op[2]]
                path = self.data_dir / op[1]
                if op[0] == "c" and _holds(path, len(data)):
                    continue
                atomic_write(path, data, sync=False, sync_dir=False)
        for op in ops:
            if op[0] == "l":
                _link(self.data_dir / op[1], self.data_dir / op[2])
            elif op[0] == "r":
                _move(self.data_dir / op[1], self.data_dir / op[2],
                      blobs[op[3]] if op[3] >= 0 else None)
        for op in ops:
            if op[0] == "u":
                (self.data_dir / op[1]).unlink(missing_ok=True)
        if meta["keys"]:
            self.keys.write(tuple(k) for k in meta["keys"])
        if meta["events"]:
            self.audit.append_chained(meta["events"])

    # -- recovery and checkpoints -------------------------------------------------------------
    def recover(self) -> bool:
        """Apply the journal's last record if a crash cut its application short (lock held)."""
        if self.journal.clean():
            return False
        record = self.journal.unapplied()
        if record is None:
            return False
        log.warning("store: applying a unit of work a crash interrupted")
        self._apply(record.meta, _blobs(record))
        self.journal.mark_applied()
        return True

    def checkpoint(self) -> None:
        """Flush every file written behind the journal, then empty it."""
        if self.journal.size() == 0:
            return
        with self.lock.hold():
            self.recover()
            if self.journal.size() == 0:
                return
            self.audit.write_head_hint()
            flush_file_system(self.data_dir)
            self.journal.truncate()


def _blobs(record: Record) -> list[bytes]:
    out, offset = [], 0
    for size in record.meta["sizes"]:
        out.append(record.blob(offset, size))
        offset += size
    return out


def _holds(path: Path, size: int) -> bool:
    try:
        return path.stat().st_size == size
    except FileNotFoundError:
        return False


def _move(source: Path, target: Path, data: bytes | None) -> None:
    """Rename, then rewrite in place; again after a crash: a source already gone was moved."""
    try:
        os.replace(source, target)
    except FileNotFoundError:
        if data is None and not target.exists():
            log.error("store: %s not moved to %s: it is gone", source, target)
    if data is not None:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT, FILE_MODE)
        try:
            inject_fault("write", target)
            write_all(fd, data)
            os.ftruncate(fd, len(data))
        finally:
            os.close(fd)


def _link(source: Path, target: Path) -> None:
    if target.exists():
        return
    ensure_dir(target.parent)
    try:
        os.link(source, target)
    except FileExistsError:
        pass
    except FileNotFoundError:
        # Its source went meanwhile (a purge): a unit that can never apply would stop the store.
        log.error("store: %s not linked: %s is gone", target, source)
