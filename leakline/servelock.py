"""One `leakline serve` per data_dir: a lock file naming its holder's pid, host and port.

The lock is an flock on `<data_dir>/serve.lock`, held for the life of the process: the kernel
drops it when the holder dies, so a lock left by a dead process is simply taken over (its
pid and port in the file are rewritten). Anyone may ask who holds it (`holder`).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from leakline.store.files import FILE_MODE

LOCK_NAME = "serve.lock"
PROBE_RETRIES = 10


class AlreadyServing(RuntimeError):
    """Another `leakline serve` holds this data_dir; the message names its pid and port."""


def _describe(info: dict) -> str:
    where = f"{info.get('host')}:{info.get('port')}" if info.get("port") else "port not yet known"
    return f"pid {info.get('pid', '?')}, {where}"


class ServeLock:
    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise AlreadyServing (the data_dir must exist)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        for _ in range(PROBE_RETRIES):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # `holder()` takes the lock for an instant to look: that is not a server.
                time.sleep(0.05)
        else:
            os.close(fd)
            info = self.holder() or {}
            raise AlreadyServing(f"leakline serve is already running on {self.path.parent} "
                                 f"({_describe(info)}); stop it first")
        self._fd = fd
        self.record()

    def record(self, host: str | None = None, port: int | None = None) -> None:
        """Write who holds the lock (again once the listening port is known)."""
        if self._fd is None:
            return
        info = {"pid": os.getpid(), "host": host, "port": port,
                "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        data = json.dumps(info).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def holder(self) -> dict | None:
        """Who holds the lock ({"pid", "host", "port", "since"}), or None when nobody does."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _read(fd)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)


def _read(fd: int) -> dict:
    try:
        return json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        return {}
