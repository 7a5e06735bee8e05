"""`leakline backup PATH`: a consistent, private, verified copy of a file store's data_dir.

Consistent: the copy is made while every store's data lock is held (each organisation's with
[[organizations]], then the outbox's, the order of a unit of work: store/units.py), after each
journal was applied and checkpointed (docs/STORE.md), so no unit commits while files are read and
the copy has nothing left in a journal. `serve` keeps running: the listener still answers 250
(the spool is outside the lock) and intake waits for the copy. The spool is copied first, its
queue before its shunted messages (a message moves from the first to the second outside the
lock), so a message acknowledged before the backup began is in the copy: in the spool, shunted,
or in a store; at worst in two of them, which intake takes as a duplicate.

Private: PATH is made 0700, every folder 0700 and file 0600; PATH may not be inside data_dir
and, if it exists, must be an empty folder. Verified: every organisation's audit chain and case
files are checked on the copy (as `audit verify` does), and `manifest.json` holds the SHA-256
and size of every file, read back from the copy. Not copied: lock files, `serve.lock`, the
error log, the temp files of writes in progress and `spool/tmp` (messages not yet answered).
Each SQLite database (the key index, ...) is copied by SQLite's online backup, whole, its
WAL folded in.

Restore (docs/deploy.md): stop serve, copy PATH/data back as data_dir, `leakline store
check`, start serve.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from leakline.casecheck import check_cases
from leakline.config import Config
from leakline.errorlog import LOG_FOLDER
from leakline.node import FILE, node_id, operations
from leakline.orgs import ORGS, org_folders, service_outbox
from leakline.servelock import LOCK_NAME
from leakline.store.audit import AuditLog
from leakline.store.cases import Store
from leakline.store.files import DIR_MODE, FILE_MODE, flush_file_system, write_all

DATA = "data"
MANIFEST = "manifest.json"
SKIPPED_NAMES = frozenset({".lock", LOCK_NAME})
# A SQLite database's side files: its copy (by the backup API) holds what they held.
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
SQLITE_HEADER = b"SQLite format 3\x00"
SKIPPED_TREES = ("spool/tmp", "mail-out/tmp", LOG_FOLDER)


class BackupError(Exception):
    """A one-line reason no backup was written (or why the one written did not verify)."""


@dataclass
class Backup:
    path: Path
    files: int
    bytes: int
    stores: list[dict]  # per store: {"store", "audit": {...}, "cases": {...}}

    @property
    def verified(self) -> bool:
        return all(s["audit"]["ok"] and s["cases"]["ok"] for s in self.stores)


def backup(config: Config, target: Path, now: datetime) -> Backup:
    """Copy data_dir into target/data, verify the copy, write target/manifest.json."""
    refusal = operations(config).backup_refusal()
    if refusal:
        raise BackupError(refusal)
    source = Path(os.path.realpath(config.service.data_dir))
    if not source.is_dir():
        raise BackupError(f"no leakline data at {source}")
    target = _checked_target(source, Path(target))
    files: dict[str, dict] = {}
    with held(config, source):
        _copy_tree(source, target / DATA, files)
    stores = [_verify_store(target / DATA, rel) for rel in _store_folders(config, target / DATA)]
    _read_back(target / DATA, files)
    manifest = {"schema": 1, "created_at": now.isoformat(timespec="seconds"), "node": node_id(config),
                "data_dir": str(source), "backend": FILE, "stores": stores,
                "verified": all(s["audit"]["ok"] and s["cases"]["ok"] for s in stores),
                "files": files}
    _write_private(target / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    flush_file_system(target)  # one flush for every file copied, not an fsync each
    return Backup(target, len(files), sum(f["size"] for f in files.values()), stores)


def _checked_target(source: Path, target: Path) -> Path:
    resolved = Path(os.path.realpath(target))
    if resolved == source or source in resolved.parents:
        raise BackupError(f"{target} is inside data_dir ({source}); back up to another folder, "
                          "ideally another disk")
    if resolved.exists():
        if not resolved.is_dir():
            raise BackupError(f"{target} exists and is not a folder")
        if any(resolved.iterdir()):
            raise BackupError(f"{target} is not empty; give a new or empty folder")
    else:
        if not resolved.parent.is_dir():
            raise BackupError(f"{resolved.parent} does not exist")
        resolved.mkdir(mode=DIR_MODE)
    os.chmod(resolved, DIR_MODE)
    return resolved


# -- the locks and the journals ----------------------------------------------------------------
@contextlib.contextmanager
def held(config: Config, source: Path):
    """Every store's data lock, organisations first (in id order) then the outbox's, each
    store's journal applied and emptied: what a unit of work would take, in its order."""
    folders = [source / ORGS / name for name in org_folders(source)] if config.org_subtrees \
        else [source]
    with contextlib.ExitStack() as stack:
        for folder in folders:
            store = Store(folder)
            stack.enter_context(store.lock.hold())
            _settle(store.units)
        if config.org_subtrees:
            outbox = service_outbox(config, datetime.now)
            stack.enter_context(outbox.lock.hold())
            _settle(outbox.units)
        yield


def _settle(units) -> None:
    """A crash's unapplied unit applied, and the journal checkpointed (flushed, emptied)."""
    if not units.journal.path.exists():
        return
    units.prepare()
    units.recover()
    units.checkpoint()


# -- copying ------------------------------------------------------------------------------------
def _copy_tree(source: Path, target: Path, files: dict) -> None:
    """The spool first (its queue, then what was shunted), then the rest; hard links kept."""
    _make_dir(target)
    linked: dict[tuple[int, int], tuple[Path, dict]] = {}
    first = [source / "spool" / "new", source / "spool" / "shunt"]
    for folder in first:
        if folder.is_dir():
            _copy_dir(source, folder, target, files, linked, skip=())
    _copy_dir(source, source, target, files, linked, skip=tuple(first))


def _copy_dir(root: Path, folder: Path, target: Path, files: dict, linked: dict, skip) -> None:
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        rel = here.relative_to(root)
        dirnames[:] = sorted(d for d in dirnames if not _skipped_tree(rel / d, here / d, skip))
        _make_dir(target / rel)
        for name in sorted(filenames):
            if name in SKIPPED_NAMES or (name.startswith(".") and name.endswith(".tmp")) \
                    or _sqlite_side_file(here, name):
                continue
            path = here / name
            if path.is_symlink():
                continue  # the store makes none; never follow one out of data_dir
            try:
                files[str(rel / name)] = _copy_file(path, target / rel / name, linked)
            except FileNotFoundError:
                continue  # removed meanwhile by what runs outside the lock (a tries count)


def _skipped_tree(rel: Path, path: Path, skip) -> bool:
    return str(rel) in SKIPPED_TREES or path in skip or path.is_symlink()


def _make_dir(path: Path) -> None:
    if not path.is_dir():
        if not path.parent.is_dir():
            _make_dir(path.parent)
        path.mkdir(mode=DIR_MODE)
    os.chmod(path, DIR_MODE)


def _sqlite_side_file(folder: Path, name: str) -> bool:
    return any(name.endswith(side) and (folder / name[:-len(side)]).is_file()
               for side in SQLITE_SIDE_FILES)


def _is_sqlite(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER


def _copy_file(source: Path, target: Path, linked: dict) -> dict:
    if _is_sqlite(source):  # the key index, and any other table kept in SQLite
        return _copy_sqlite(source, target)
    stat = os.stat(source)
    inode = (stat.st_dev, stat.st_ino)
    if stat.st_nlink > 1 and inode in linked:  # the outbox's copy of a mail is its evidence
        first, digest = linked[inode]
        os.link(first, target)
        return dict(digest)
    sha = hashlib.sha256()
    size = 0
    with open(source, "rb") as src:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            for block in iter(lambda: src.read(1 << 20), b""):
                write_all(fd, block)
                sha.update(block)
                size += len(block)
        finally:
            os.close(fd)
    digest = {"sha256": sha.hexdigest(), "size": size}
    if stat.st_nlink > 1:
        linked[inode] = (target, digest)
    return digest


def _copy_sqlite(source: Path, target: Path) -> dict:
    """A SQLite database as one consistent file (its WAL folded in), by SQLite's backup API."""
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    return _digest_of(target)


def _digest_of(path: Path) -> dict:
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
            size += len(block)
    return {"sha256": sha.hexdigest(), "size": size}


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        write_all(fd, data)
    finally:
        os.close(fd)


# -- verifying the copy ---------------------------------------------------------------------------
def _store_folders(config: Config, copy: Path) -> list[str]:
    """The stores in the copy, relative to it ("." for a single organisation's at the root)."""
    if config.org_subtrees:
        return [f"{ORGS}/{name}" for name in org_folders(copy)]
    return ["."]


def _verify_store(copy: Path, rel: str) -> dict:
    folder = copy / rel
    audit = AuditLog(folder).verify()
    cases = check_cases(folder, AuditLog(folder).events()) if audit.ok else None
    return {"store": rel,
            "audit": {"ok": audit.ok, "events": audit.events, "reason": audit.reason or None},
            "cases": {"ok": bool(cases and cases.ok), "cases": cases.cases if cases else None,
                      "problems": cases.problems[:20] if cases else None}}


def _read_back(copy: Path, files: dict) -> None:
    """Every file of the copy read again: it must hash as it was copied."""
    for rel, expected in files.items():
        if _digest_of(copy / rel) != expected:
            raise BackupError(f"{copy / rel} does not read back as it was written: the target "
                              "disk may be failing")
