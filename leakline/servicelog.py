"""The service's own log: what was done to an organisation as a whole (adopted, exported, purged).

An organisation's audit chain lives in its own subtree and goes with it; that it was purged must
outlive it, so the service keeps this log at the root of data_dir (`service-log.jsonl`): one
JSON event a line, each with the SHA-256 of the one before (as the case audit chain), written
under an flock of the file itself and fsynced. It holds ids, counts and hashes, never case data.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator

from leakline.orgs import SERVICE_LOG
from leakline.store.files import FILE_MODE, write_all

GENESIS = "0" * 64


def _hash(event: dict) -> str:
    body = {k: v for k, v in event.items() if k != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False,
                                     separators=(",", ":")).encode()).hexdigest()


@dataclass
class LogCheck:
    ok: bool
    events: int
    reason: str = ""


class ServiceLog:
    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / SERVICE_LOG

    def append(self, action: str, org: str, actor: str, at: datetime, details: dict) -> dict:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _drop_torn_tail(fd)
            last = _last_line(fd)
            prev = json.loads(last) if last else {"seq": 0, "hash": GENESIS}
            event = {"seq": prev["seq"] + 1, "at": at.isoformat(timespec="seconds"), "actor": actor,
                     "action": action, "org": org, "details": details, "prev": prev["hash"]}
            event["hash"] = _hash(event)
            write_all(fd, json.dumps(event, ensure_ascii=False, sort_keys=True).encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        return event

    def events(self) -> Iterator[dict]:
        try:
            with open(self.path, "rb") as fh:
                for line in fh:
                    if line.endswith(b"\n"):
                        yield json.loads(line)
        except FileNotFoundError:
            return

    def verify(self) -> LogCheck:
        prev, count = GENESIS, 0
        try:
            for count, event in enumerate(self.events(), start=1):
                if event.get("prev") != prev or event.get("hash") != _hash(event) \
                        or event.get("seq") != count:
                    return LogCheck(False, count - 1, f"event {count} does not follow event {count - 1}")
                prev = event["hash"]
        except ValueError:
            return LogCheck(False, count, f"line {count + 1} is not JSON")
        return LogCheck(True, count)


def _drop_torn_tail(fd: int) -> None:
    """An event cut short by a crash was never acknowledged: cut it off before appending."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    chunk = min(size, 1 << 20)
    data = os.pread(fd, chunk, size - chunk)
    cut = data.rfind(b"\n")
    os.ftruncate(fd, size - chunk + cut + 1 if cut >= 0 else max(0, size - chunk))


def _last_line(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    if size == 0:
        return b""
    chunk = min(size, 65536)
    data = os.pread(fd, chunk, size - chunk)
    lines = [line for line in data.split(b"\n") if line.strip()]
    return lines[-1] if lines else b""
