"""Units of work: every change of a batch collected in memory, then committed together.

`with units.unit() as uow:` holds the data lock, collects what the code inside writes (files,
message keys, audit events; store/unit.py) and commits it once: one record in the redo journal,
one fsync, then the files are written behind it (store/journal.py). Code that asks for a unit
while one is open in its thread joins that one, so `Store.save` or `Outbox.enqueue` called
inside a batch become part of it and outside any batch commit alone. An exception inside
discards the whole unit. After a commit, `after_commit` callbacks run outside the lock (e.g.
waking the mail sender). docs/STORE.md has the guarantees and the commit points.

Another store's units may join (a `joinable` store: the service's outbox, when each organisation
has a store of its own): its lock is taken after the open unit's, never before, and its changes
go into the open unit's journal record, so one fsync commits both (store/hosts.py says how its
readers wait for what a crash left unapplied).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from pathlib import Path
from typing import Iterator

from leakline.store.audit import AuditLog
from leakline.store.files import DataLock, flush_file_system
from leakline.store.hosts import Hosts
from leakline.store.journal import Journal, Record, current_boot
from leakline.store.keys import KeyIndex
from leakline.store.records import apply_files, apply_rows, file_ops, ready_files, record_blobs, row_ops
from leakline.store.unit import UnitOfWork

log = logging.getLogger("leakline.store")
CHECKPOINT_BYTES = 8 << 20  # the journal is emptied (after one flush) when it grows past this
_thread = threading.local()  # .open: the unit open at the top of this thread, of whichever store


def in_unit() -> bool:
    """Whether a unit of work (of any store) is open in this thread."""
    return getattr(_thread, "open", None) is not None


def _same(rel: str) -> str:
    return rel


class LockOrderError(RuntimeError):
    """A store asked to join a unit it may not join (the locks would be taken in the wrong order)."""


class Units:
    """The unit-of-work machinery of one data_dir: the lock, the journal, keys and audit chain."""

    def __init__(self, data_dir: Path, lock: DataLock, *, joinable: bool = False):
        self.data_dir = Path(data_dir)
        self.lock = lock
        self.journal = Journal(self.data_dir / "journal" / "redo.log")
        self.audit = AuditLog(self.data_dir)
        self.keys = KeyIndex(self.data_dir / "keys.sqlite")
        self.joinable = joinable
        self.hosts = Hosts(self.data_dir / "journal") if joinable else None
        self._local = threading.local()
        self._prepared = False
        self._settled = False  # a joinable store: every host applied once in this process

    def prepare(self) -> None:
        """Folders, and a journal begun before the machine last started applied whole."""
        self.journal.prepare()
        boot = current_boot()
        if boot and self.journal.size() and self.journal.first_boot() != boot:
            with self.lock.hold():
                self._replay_all(boot)
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
        host = getattr(_thread, "open", None)
        if host is not None:
            yield self._join(host)
            return
        with self._held():
            if not self._prepared:
                self.prepare()
            self.recover()
            uow = UnitOfWork(self)
            self._local.unit = _thread.open = uow
            try:
                try:
                    yield uow
                    uow.run_before()
                finally:
                    self._local.unit = _thread.open = None
                self._commit(uow)
            finally:
                for joined in uow.joined.values():
                    joined.release()
        uow.run_after()

    def _join(self, host: UnitOfWork) -> UnitOfWork:
        """This store's part of `host`, the unit open in this thread: its lock is held until
        the host commits, and what it writes goes into the host's journal record."""
        if not self.joinable or host.units.joinable:
            raise LockOrderError(f"{self.data_dir}: cannot join a unit of {host.units.data_dir}")
        stack = contextlib.ExitStack()
        stack.enter_context(self.lock.hold())
        try:
            if not self._prepared:
                self.prepare()
            self.recover()
        except BaseException:
            stack.close()
            raise
        uow = UnitOfWork(self)

        def release() -> None:
            self._local.unit = None
            stack.close()
        uow.release = release
        host.joined[self] = self._local.unit = uow
        return uow

    @contextlib.contextmanager
    def _held(self) -> Iterator[None]:
        """The lock; a joinable store first applies what hosts that died left unapplied here."""
        if not self.joinable:
            with self.lock.hold():
                yield
            return
        for _ in range(100):
            nested = self.lock.held()
            if not nested:
                self._settle(every=not self._settled)
                self._settled = True
            hold = self.lock.hold()
            hold.__enter__()
            if nested or not self.hosts.pending():
                break
            hold.__exit__(None, None, None)  # a host died just now: settle it first
        try:
            yield
        finally:
            hold.__exit__(None, None, None)

    def _settle(self, every: bool) -> None:
        """Apply the journal records hosts committed and did not apply here (every host's, the
        first time in a process: after a power cut, records applied before it are applied
        again). Takes each host's lock, then (applying) this one's: the order of a unit."""
        for name in self.hosts.names() if every else self.hosts.pending():
            folder = self.data_dir / name
            if not folder.is_dir():  # that host is gone (an organisation purged)
                with self.lock.hold():
                    self.hosts.mark(name, False)
                continue
            host = Units(folder, DataLock.at(folder / ".lock"))
            with host.lock.hold():
                host.prepare()
                host.recover()
                self.hosts.mark(name, False)  # no host commits while its lock is held here

    # -- commit ----------------------------------------------------------------------------
    def _commit(self, uow: UnitOfWork) -> None:
        joined = [part for part in uow.joined.values() if not part.empty()]
        if uow.empty() and not joined:
            return
        meta, blobs = self._record(uow, joined)
        self._ready(meta)
        names = [self._name_in(part.units) for part in joined]
        try:
            for part, name in zip(joined, names):
                part.units.hosts.mark(name, True)
            self.journal.commit(meta, blobs)  # the commit point
        except BaseException:
            for part, name in zip(joined, names):
                part.units.hosts.mark(name, False)
            raise
        self._apply(meta, blobs)
        self.journal.mark_applied()
        for part, name in zip(joined, names):
            part.units.hosts.mark(name, False)
        if self.journal.size() > CHECKPOINT_BYTES:
            self.checkpoint()

    def _name_in(self, joinable: Units) -> str:
        return os.path.relpath(self.data_dir, joinable.data_dir)

    def _record(self, uow: UnitOfWork, joined: list[UnitOfWork]) -> tuple[dict, list[bytes]]:
        blobs: list[bytes] = []
        files: list[list] = []
        rows: list[list] = []
        file_ops(uow, files, blobs, _same)
        row_ops(uow, rows, blobs, _same)
        for part in joined:
            if part.keys or part.events:
                raise LockOrderError(f"{part.units.data_dir}: a joined unit writes no keys or events")
            base = part.units.data_dir

            def here(rel: str, base: Path = base) -> str:
                return os.path.relpath(os.path.join(base, rel), self.data_dir)
            file_ops(part, files, blobs, here)
            row_ops(part, rows, blobs, here)
        keys = [[d, value, first] for d, (value, first) in uow.keys.items()]
        events = self.audit.chain_events(uow.events) if uow.events else []
        meta = {"v": 1, "boot": current_boot(), "sizes": [len(b) for b in blobs],
                "files": files, "keys": keys, "events": events}
        if rows:
            meta["rows"] = rows
        if joined:
            meta["joined"] = [os.path.relpath(p.units.data_dir, self.data_dir) for p in joined]
        return meta, blobs

    def _ready(self, meta: dict) -> None:
        ready_files(self.data_dir, meta["files"], meta.get("rows", []))

    def _apply(self, meta: dict, blobs: list[bytes]) -> None:
        """Make the files, keys and chain say what the record says; idempotent."""
        apply_files(self.data_dir, meta["files"], blobs)
        if meta.get("rows"):
            apply_rows(self.data_dir, meta["rows"], blobs)
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
        self._reapply(record)
        self.journal.mark_applied()
        return True

    def _reapply(self, record: Record) -> None:
        """Apply a record again, with the locks of the stores that joined it (after this one's)."""
        with contextlib.ExitStack() as stack:
            joined = [self.data_dir / rel for rel in record.meta.get("joined", [])]
            for folder in joined:
                stack.enter_context(DataLock.at(folder / ".lock").hold())
            self._apply(record.meta, record_blobs(record))
            for folder in joined:
                Hosts(folder / "journal").mark(os.path.relpath(self.data_dir, folder), False)

    def _replay_all(self, boot: str) -> None:
        """Every record again, in order, then a flush and an empty journal (lock held): files
        written behind the journal before a power cut may be lost, records before the last too."""
        records = self.journal.records()
        if records:
            log.warning("store: %s was written before the machine started; applying its %d "
                        "units of work again", self.journal.path, len(records))
        for record in records:
            self._reapply(record)
        self.audit.write_head_hint()
        flush_file_system(self.data_dir)
        self.journal.truncate()

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
