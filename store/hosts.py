"""The stores whose units of work a joinable store's changes join (store/units.py).

The service's outbox is one store; each organisation's cases are another, with a lock and a
journal of its own. A unit of an organisation that queues mail takes the outbox's lock too (the
organisation's first, never the reverse), and its one journal record carries the outbox's
changes with its own: one commit point. Until that record is applied, the outbox's readers
must not read around it, so the outbox keeps, in its journal folder:

    hosts     the stores that ever joined it, one folder a line (relative to the outbox's)
    pending   one byte a host: b"1" from just before its commit until its outbox part is applied

A reader finding a host pending (it died between its commit and the end of its apply) applies
that host's record before it reads (store.units). `pending` is not fsynced: after a power cut
every host's journal is applied again whole anyway (store.journal), before the outbox is read.
"""

from __future__ import annotations

import os
from pathlib import Path

from leakline.store.files import FILE_MODE, ensure_dir, fsync_dir, write_all

ON, OFF = b"1", b"0"


class Hosts:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.list_path = self.folder / "hosts"
        self.flags_path = self.folder / "pending"
        self._names: list[str] = []
        self._size = -1

    def names(self) -> list[str]:
        """Every host that ever joined, as folders relative to the joinable store's."""
        try:
            size = os.stat(self.list_path).st_size
        except FileNotFoundError:
            return []
        if size != self._size:
            data = self.list_path.read_bytes()
            self._names = data.decode("utf-8").splitlines() if data.endswith(b"\n") else \
                data.decode("utf-8").splitlines()[:-1]  # a line torn by a crash never counted
            self._size = size
        return self._names

    def slot(self, host: str) -> int:
        """The host's place in both files, registered (durably) the first time; lock held."""
        names = self.names()
        if host in names:
            return names.index(host)
        ensure_dir(self.folder)
        fresh = not self.list_path.exists()
        fd = os.open(self.list_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        try:
            write_all(fd, host.encode("utf-8") + b"\n")
            os.fsync(fd)  # once per host ever: a host unknown after a power cut is never replayed
        finally:
            os.close(fd)
        if fresh:
            fsync_dir(self.folder)
        return self.names().index(host)

    def mark(self, host: str, pending: bool) -> None:
        slot = self.slot(host)
        fd = os.open(self.flags_path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
        try:
            os.pwrite(fd, ON if pending else OFF, slot)
        finally:
            os.close(fd)

    def pending(self) -> list[str]:
        """The hosts whose last commit may not be applied here yet."""
        try:
            flags = self.flags_path.read_bytes()
        except FileNotFoundError:
            return []
        if ON not in flags:
            return []
        names = self.names()
        return [names[i] for i, flag in enumerate(flags) if flag == ON[0] and i < len(names)]
