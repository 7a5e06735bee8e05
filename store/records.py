"""A unit's file operations as journal entries, and the files made to say what a record says.

Operations, by path relative to the folder of the store whose journal holds them (a joined
store's paths start with `../`): ["w", path, blob] write, ["c", path, blob] create where missing
(evidence), ["l", source, target] hard link, ["r", source, target, blob or -1] rename then
rewrite in place, ["u", path] remove. Rows: [table file, key, group, order, blob] written,
[table file, key, None, None, -1] removed (store/rows.py). Applying is idempotent: again after a
crash, or every record of a journal in order after a power cut (store/units.py).
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

from leakline.store.files import FILE_MODE, atomic_write, ensure_dir, inject_fault, write_all
from leakline.store.journal import Record
from leakline.store.rows import RowTable
from leakline.store.unit import Link, Moved, UnitOfWork

log = logging.getLogger("leakline.store")


def ready_files(data_dir: Path, ops: list[list], rows: list[list] = ()) -> None:
    """Fail before the commit what would fail after it: a folder that cannot be made, a
    folder where a file goes, a table that cannot be opened. A unit whose files cannot be
    written is refused whole; what fails only later (a disk that fills up meanwhile) is written
    again at the next unit."""
    for table in {op[0] for op in rows}:
        path = data_dir / table
        inject_fault("write", path)
        ensure_dir(path.parent)
        RowTable.at(path)._db()
    folders = set()
    for op in ops:
        if op[0] in ("w", "c", "l", "r"):
            path = data_dir / (op[2] if op[0] in ("l", "r") else op[1])
            inject_fault("write", path)
            if path.is_dir():
                raise IsADirectoryError(errno.EISDIR, "a folder is in the way", str(path))
            folders.add(path.parent)
    for folder in folders:
        ensure_dir(folder)


def apply_files(data_dir: Path, ops: list[list], blobs: list[bytes]) -> None:
    """Writes first, then links and renames (a link's source may be written by the same
    record), removals last."""
    for op in ops:
        if op[0] in ("w", "c"):
            data = blobs[op[2]]
            path = data_dir / op[1]
            if op[0] == "c" and _holds(path, len(data)):
                continue
            atomic_write(path, data, sync=False, sync_dir=False)
    for op in ops:
        if op[0] == "l":
            _link(data_dir / op[1], data_dir / op[2])
        elif op[0] == "r":
            _move(data_dir / op[1], data_dir / op[2], blobs[op[3]] if op[3] >= 0 else None)
    for op in ops:
        if op[0] == "u":
            (data_dir / op[1]).unlink(missing_ok=True)


def row_ops(uow: UnitOfWork, rows: list[list], blobs: list[bytes], here) -> None:
    for (table, key), row in uow.rows.items():
        if row is None:
            rows.append([here(table), key, None, None, -1])
        else:
            rows.append([here(table), key, row[0], row[1], len(blobs)])
            blobs.append(row[2])


def apply_rows(data_dir: Path, ops: list[list], blobs: list[bytes]) -> None:
    """Each table's rows in one transaction."""
    tables: dict[str, list] = {}
    for table, key, grp, order, blob in ops:
        tables.setdefault(table, []).append((key, None if grp is None else (grp, order, blobs[blob])))
    for table, entries in tables.items():
        RowTable.at(data_dir / table).write(entries)


def file_ops(uow: UnitOfWork, files: list[list], blobs: list[bytes], here) -> None:
    """The unit's file operations as journal entries, paths as `here` makes them."""
    for rel, pending in uow.files.items():
        if isinstance(pending, bytes):
            files.append(["c" if rel in uow.create_only else "w", here(rel), len(blobs)])
            blobs.append(pending)
        elif isinstance(pending, Link):
            files.append(["l", here(pending.source), here(rel)])
        elif isinstance(pending, Moved):
            has_data = pending.data is not None
            files.append(["r", here(pending.source), here(rel), len(blobs) if has_data else -1])
            if has_data:
                blobs.append(pending.data)
        else:
            files.append(["u", here(rel)])


def record_blobs(record: Record) -> list[bytes]:
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
