"""A unit of work: what one batch writes, collected in memory until it commits (store/units.py).

Files by path relative to data_dir (bytes, a hard link, a rename, or a removal), rows of tables
(store/rows.py), message keys and audit events. Inside a unit every read sees the unit's own writes. docs/STORE.md has the
guarantees; store/units.py opens, commits and recovers units.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from leakline.store.keys import digest
from leakline.store.rows import Row, RowTable

if TYPE_CHECKING:
    from leakline.store.units import Units


@dataclass(frozen=True)
class Link:
    """A file that is a hard link to another one (the outbox's copy of a message's raw)."""

    source: str


@dataclass(frozen=True)
class Moved:
    """A file renamed from `source` (no new file is made), then rewritten in place with `data`.

    In place is for files read only under the data lock (the outbox's records): a reader never
    sees one half-written, and a crash is repaired from the journal."""

    source: str
    data: bytes | None = None


class UnitOfWork:
    """What one unit writes, by path relative to data_dir (bytes, a Link, or None: removed)."""

    def __init__(self, units: Units):
        self.units = units
        self.files: dict[str, bytes | Link | Moved | None] = {}
        self.create_only: set[str] = set()  # evidence: written only where it is missing
        self.keys: dict[str, tuple[str, bool]] = {}  # digest -> (value, first_wins)
        self.rows: dict[tuple[str, str], Row | None] = {}  # (table file, key) -> row or removed
        self.events: list[dict] = []  # stamped, not chained yet
        self.state: dict = {}  # what a layer above keeps for this unit (Store: dirty cases)
        # Units of other stores that joined this one (their lock held until it commits).
        self.joined: dict[Units, UnitOfWork] = {}
        self.release: Callable[[], None] = lambda: None  # a joined unit's: lets its lock go
        self._before: list[Callable[[UnitOfWork], None]] = []
        self._after: list[Callable[[], None]] = []

    # -- files -------------------------------------------------------------------------------
    def write(self, rel: str, data: bytes, *, create_only: bool = False) -> None:
        self.files[rel] = data
        if create_only:
            self.create_only.add(rel)
        else:
            self.create_only.discard(rel)

    def link(self, source: str, target: str) -> None:
        """`target` becomes the same file as `source` (which may be written in this unit)."""
        pending = self.files.get(source, ...)
        # Links are made after the unit's files are written and before its removals, so the
        # source may be written, or removed, by this very unit.
        self.files[target] = pending if isinstance(pending, Link) else Link(source)
        self.create_only.discard(target)

    def move(self, source: str, target: str, data: bytes | None = None) -> None:
        """Rename `source` to `target`, then (with `data`) rewrite it in place: for files read
        only under the data lock; a new file costs here about as much as an fsync."""
        pending = self.files.get(source, ...)
        if pending is ... or isinstance(pending, Moved):  # on disk (or on its way there)
            origin = pending.source if isinstance(pending, Moved) else source
            old = pending.data if isinstance(pending, Moved) else None
            moved: bytes | Link | Moved = Moved(origin, data if data is not None else old)
        elif pending is None:
            raise FileNotFoundError(f"{source}: removed in this unit of work")
        else:  # written or linked in this very unit: it is made at its new place directly
            moved = data if data is not None else pending
        if source != target:
            self.files[source] = None
        self.files[target] = moved
        self.create_only.discard(target)

    def delete(self, rel: str) -> None:
        self.files[rel] = None
        self.create_only.discard(rel)

    def read(self, rel: str) -> bytes | None:
        """The file as this unit leaves it; None when it does not exist."""
        pending = self.files.get(rel, ...)
        if pending is None or isinstance(pending, bytes):
            return pending
        if isinstance(pending, Moved) and pending.data is not None:
            return pending.data
        if isinstance(pending, (Link, Moved)):
            rel = pending.source
            if isinstance(self.files.get(rel), bytes):
                return self.files[rel]
        path = self.units.data_dir / rel
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, rel: str) -> bool:
        pending = self.files.get(rel, ...)
        if pending is ...:
            return (self.units.data_dir / rel).exists()
        return pending is not None

    def listdir(self, rel: str) -> list[str]:
        """Names in a folder as this unit leaves it."""
        try:
            names = set(os.listdir(self.units.data_dir / rel))
        except FileNotFoundError:
            names = set()
        prefix = rel.rstrip("/") + "/"
        for path, pending in self.files.items():
            if path.startswith(prefix) and "/" not in path[len(prefix):]:
                (names.discard if pending is None else names.add)(path[len(prefix):])
        return sorted(names)

    # -- rows (store/rows.py) ------------------------------------------------------------------
    def table(self, rel: str) -> RowTable:
        return RowTable.at(self.units.data_dir / rel)

    def get_row(self, rel: str, key: str) -> Row | None:
        pending = self.rows.get((rel, key), ...)
        return self.table(rel).get(key) if pending is ... else pending

    def put_row(self, rel: str, key: str, row: Row | None) -> None:
        """Write (None: remove) a row of the table file `rel`."""
        self.rows[(rel, key)] = row

    def group(self, rel: str, grp: str) -> list[tuple[str, str, bytes]]:
        """(key, order, value) of a group's rows as this unit leaves them, in order."""
        mine = {key: row for (table, key), row in self.rows.items() if table == rel}
        rows = [r for r in self.table(rel).group(grp) if r[0] not in mine]
        rows += [(key, row[1], row[2]) for key, row in mine.items() if row and row[0] == grp]
        return sorted(rows, key=lambda r: r[1]) if mine else rows

    # -- keys --------------------------------------------------------------------------------
    def get_key(self, key: str) -> str | None:
        pending = self.keys.get(digest(key))
        return pending[0] if pending else self.units.keys.get(key)

    def put_key(self, key: str, value: str, *, first_wins: bool = False) -> None:
        if first_wins and self.get_key(key) is not None:
            return
        self.keys[digest(key)] = (value, first_wins)

    # -- events and hooks ----------------------------------------------------------------------
    def add_events(self, events: list[dict]) -> None:
        self.events.extend(events)

    def before_commit(self, hook: Callable[["UnitOfWork"], None]) -> None:
        """Run `hook(uow)` once, just before the commit (to serialise what was collected)."""
        if hook not in self._before:
            self._before.append(hook)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after.append(callback)

    def empty(self) -> bool:
        return not (self.files or self.rows or self.keys or self.events)

    def run_before(self) -> None:
        for uow in (self, *self.joined.values()):
            for hook in uow._before:
                hook(uow)

    def run_after(self) -> None:
        for uow in (self, *self.joined.values()):
            for callback in uow._after:
                callback()
