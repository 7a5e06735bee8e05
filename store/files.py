"""Durable file primitives: atomic replace, private permissions, a cross-process lock."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import fnmatch
import functools
import json
import os
import threading
from pathlib import Path
from typing import Any, Iterator

FILE_MODE = 0o600
DIR_MODE = 0o700
FAULT_VARIABLE = "LEAKLINE_FAULT"


def inject_fault(operation: str, path: Path | str) -> None:
    """Fail like a full or broken disk where the tests ask for it (CI runs as root: no chmod tricks).

    LEAKLINE_FAULT="write:ENOSPC:*/cases/*;read:EIO:*/index/*" makes a matching write or read
    raise OSError with that errno. Unset (always, in production) it costs one dictionary lookup.
    """
    spec = os.environ.get(FAULT_VARIABLE)
    if not spec:
        return
    for rule in spec.split(";"):
        op, _, rest = rule.partition(":")
        name, _, pattern = rest.partition(":")
        if op == operation and fnmatch.fnmatchcase(str(path), pattern):
            code = getattr(errno, name, errno.EIO)
            raise OSError(code, os.strerror(code), str(path))


def ensure_dir(path: Path) -> Path:
    """Create `path` and any missing parents with mode 0700; existing folders are left alone."""
    if not path.is_dir():
        if not path.parent.is_dir():
            ensure_dir(path.parent)
        try:
            path.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass
    return path


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def flush_file_system(path: Path) -> None:
    """Make everything written on `path`'s file system durable: one syncfs(2), not an fsync per
    file (the checkpoint of the redo journal, a batch of delivered mail)."""
    syncfs = _syncfs()
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if syncfs is None or syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


@functools.cache
def _syncfs():
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6", use_errno=True).syncfs
    except (OSError, AttributeError):
        return None  # not Linux with glibc: os.sync() flushes every file system instead


def write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (a write may be partial)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_tmp(path: Path, data: bytes, sync: bool = True) -> Path:
    """Write `data` to a private temp file beside `path` (fsynced); return the temp path."""
    ensure_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        inject_fault("write", path)
        write_all(fd, data)
        if sync:
            os.fsync(fd)
    except BaseException:
        # A full disk must not also fill up with our half-written temp files.
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    return tmp


def atomic_write(path: Path, data: bytes, *, sync_dir: bool = True, sync: bool = True) -> None:
    """Replace `path` with `data` so that a reader or a crash sees the old or the new file, whole."""
    tmp = write_tmp(path, data, sync)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def dump_json(value: Any) -> bytes:
    # UTF-8 as it is: case data is mostly Japanese and must stay readable in the files.
    # No indent: with indent json falls back to its pure-Python encoder, ten times slower.
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def atomic_write_json(path: Path, value: Any) -> None:
    atomic_write(path, dump_json(value))


def read_json(path: Path, default: Any = None) -> Any:
    try:
        inject_fault("read", path)
        with open(path, "rb") as fh:
            return json.loads(fh.read().decode("utf-8"))
    except FileNotFoundError:
        return default


class DataLock:
    """One writer at a time across threads and processes (the server and the CLI share data_dir).

    flock() locks belong to an open file description, so threads of one process must also be
    serialised in-process; the lock is re-entrant for the thread that holds it.
    """

    _shared: dict[str, "DataLock"] = {}
    _shared_guard = threading.Lock()

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @classmethod
    def at(cls, path: Path) -> "DataLock":
        """The one lock object of this process for `path`: two objects on one file would block
        each other in one thread (flock belongs to the open file, not the process)."""
        key = os.path.abspath(path)
        with cls._shared_guard:
            lock = cls._shared.get(key)
            if lock is None:
                lock = cls._shared[key] = cls(Path(key))
            return lock

    def held(self) -> bool:
        """Whether this thread holds the lock."""
        return self._depth > 0 and self._local._is_owned()

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        with self._local:
            if self._depth == 0:
                ensure_dir(self.path.parent)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._fd = fd
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
                    os.close(self._fd)
                    self._fd = None
