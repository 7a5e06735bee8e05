"""The spool: every accepted message, raw bytes plus envelope, on disk before we answer 250.

Messages that arrive together are written into one segment file and made durable with one
fsync (group commit); a segment is removed only when intake has processed every message in it.
Segment record: b"LLSPOOL1 <envelope-length> <raw-length>\\n" + envelope JSON + raw bytes.
Beside a segment, `<segment>.tries` counts intake's attempts per message, so that a message
that kills the worker is shunted after a few tries instead of being retried forever.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol

from leakline.store.body import MessageBody
from leakline.store.files import (FILE_MODE, atomic_write, ensure_dir, fsync_dir, inject_fault,
                         read_json, write_all)

MAGIC = b"LLSPOOL1"
TRIES = ".tries"


class SpoolError(Exception):
    """A spool segment that cannot be read back."""


class Body(Protocol):
    """A message too large to hold: `MessageBody` (spilled to spool/tmp) or anything like it."""

    def __len__(self) -> int: ...

    def copy_to(self, fd: int) -> None: ...


@dataclass(frozen=True)
class SpoolEntry:
    spool_id: str
    envelope: dict
    raw: bytes


def escaped(value):
    """An envelope value that JSON and UTF-8 can always hold.

    SMTP and argv hand us bytes that are not UTF-8 as surrogate escapes; they become visible
    "\\xff" escapes, so the message is stored (never refused) and the sender stays recognisable.
    """
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            try:
                return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            except UnicodeEncodeError:
                return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, (list, tuple)):
        return [escaped(v) for v in value]
    if isinstance(value, dict):
        return {escaped(k): escaped(v) for k, v in value.items()}
    return value


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

    def new_body(self) -> MessageBody:
        return MessageBody(self.tmp)

    def remove_stale_tmp(self) -> int:
        """Remove temp files of processes that died before their commit (none had its 250)."""
        removed = 0
        for path in self.tmp.glob("*"):
            pid = path.name.split("-")[1] if path.name.count("-") >= 2 else ""
            if pid.isdigit() and not pid_alive(int(pid)):
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def _segment_id(self) -> str:
        with self._id_lock:
            n = next(self._counter)
        # Sortable by time of arrival, unique across processes.
        return f"{time.time_ns():020d}-{os.getpid()}-{n:06d}"

    def write(self, items: list[tuple[bytes | Body, dict]]) -> list[str]:
        """Write messages as one segment, durably; return their spool ids."""
        segment = self._segment_id()
        tmp = self.tmp / f"{segment}.spool"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        ids = []
        try:
            inject_fault("write", tmp)
            for index, (raw, envelope) in enumerate(items):
                spool_id = f"{segment}.{index}"
                head = json.dumps(escaped(dict(envelope, spool_id=spool_id)),
                                  ensure_ascii=False).encode()
                write_all(fd, b"%s %d %d\n" % (MAGIC, len(head), len(raw)))
                write_all(fd, head)
                if isinstance(raw, (bytes, bytearray, memoryview)):
                    write_all(fd, raw)
                else:
                    raw.copy_to(fd)
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

    def write_each(self, items: list[tuple[bytes | Body, dict]]) -> list[str | Exception]:
        """Group commit where each message succeeds or fails on its own.

        One segment for all (one fsync); should that fail, each message is tried in a segment of
        its own, so one unreadable body fails only itself. The result is a spool id or the error.
        """
        try:
            return list(self.write(items))
        except Exception as exc:
            if len(items) == 1:
                return [exc]
        results: list[str | Exception] = []
        for item in items:
            try:
                results.extend(self.write([item]))
            except Exception as exc:
                results.append(exc)
        return results

    def segments(self) -> list[Path]:
        try:
            return sorted(p for p in self.new.iterdir() if p.suffix == ".spool")
        except FileNotFoundError:
            return []

    def read(self, segment: Path) -> Iterator[SpoolEntry]:
        inject_fault("read", segment)
        with open(segment, "rb") as fh:
            while True:
                line = fh.readline(256)
                if not line:
                    return
                parts = line.split()
                if len(parts) != 3 or parts[0] != MAGIC or not all(p.isdigit() for p in parts[1:]):
                    raise SpoolError(f"{segment.name}: bad record header")
                head, raw = fh.read(int(parts[1])), fh.read(int(parts[2]))
                if len(raw) != int(parts[2]):
                    raise SpoolError(f"{segment.name}: truncated record")
                try:
                    envelope = json.loads(head)
                    yield SpoolEntry(envelope["spool_id"], envelope, raw)
                except (ValueError, KeyError, TypeError):
                    raise SpoolError(f"{segment.name}: bad envelope") from None

    def files_of(self, segment: Path) -> list[Path]:
        """The segment and its attempt count: what goes when it is processed."""
        return [segment, segment.with_name(segment.name + TRIES)]

    def remove(self, segment: Path) -> None:
        """Remove a processed segment at once (the pipeline removes it with its unit of work)."""
        for path in self.files_of(segment):
            path.unlink(missing_ok=True)
        fsync_dir(self.new)

    def tries(self, segment: Path) -> "Tries":
        return Tries(segment.with_name(segment.name + TRIES))

    # -- shunt: messages intake could not process, kept for a human -------------------------
    def shunt_entry(self, entry: SpoolEntry, reason: str, attempts: int = 0) -> Path:
        """Keep a message that intake could not process, for a human; it is never dropped."""
        path = self.shunt / f"{entry.spool_id}.eml"
        atomic_write(path, entry.raw)
        envelope = dict(entry.envelope, shunt_reason=reason, attempts=attempts,
                        shunted_at=_now_iso())
        atomic_write(path.with_suffix(".json"), json.dumps(escaped(envelope),
                                                           ensure_ascii=False).encode())
        return path

    def shunt_damaged_segment(self, segment: Path, reason: str) -> Path:
        """A segment that cannot be read back moves aside whole, with a note; nothing is deleted."""
        target = self.shunt / f"{segment.stem}.damaged"
        os.replace(segment, target)
        note = {"spool_id": segment.stem, "shunt_reason": reason, "damaged_segment": True,
                "shunted_at": _now_iso()}
        atomic_write(self.shunt / f"{segment.stem}.json", json.dumps(note).encode())
        segment.with_name(segment.name + TRIES).unlink(missing_ok=True)
        fsync_dir(self.new)
        return target

    def shunted(self) -> list[dict]:
        """Shunted messages, oldest first: their envelope, why, how often tried, size."""
        rows = []
        for note in sorted(self.shunt.glob("*.json")) if self.shunt.is_dir() else []:
            try:
                meta = json.loads(note.read_bytes())
            except (OSError, ValueError):
                meta = {"shunt_reason": "the note beside this message is unreadable"}
            data = note.with_suffix(".damaged" if meta.get("damaged_segment") else ".eml")
            rows.append({"id": note.stem, "shunted_at": meta.get("shunted_at"),
                         "reason": meta.get("shunt_reason"), "attempts": meta.get("attempts", 0),
                         "mail_from": meta.get("mail_from"), "rcpt_tos": meta.get("rcpt_tos", []),
                         "received_at": meta.get("received_at"),
                         "size": data.stat().st_size if data.exists() else None,
                         "path": str(data), "retryable": not meta.get("damaged_segment")})
        return rows

    def retry(self, shunt_id: str) -> str:
        """Put a shunted message back into the spool (like `mailman unshunt`); its new spool id."""
        if not shunt_id or "/" in shunt_id or shunt_id.startswith("."):
            raise LookupError(f"no shunted message {shunt_id!r}")
        raw_path, note = self.shunt / f"{shunt_id}.eml", self.shunt / f"{shunt_id}.json"
        if not raw_path.exists():
            raise LookupError(f"no shunted message {shunt_id!r} in {self.shunt}")
        meta = read_json(note) or {}
        envelope = {k: v for k, v in meta.items()
                    if k not in ("shunt_reason", "attempts", "shunted_at", "spool_id")}
        envelope["retried_from"] = shunt_id
        (spool_id,) = self.write([(raw_path.read_bytes(), envelope)])
        # After the write is durable: a crash in between leaves a copy that intake dedupes.
        raw_path.unlink()
        note.unlink(missing_ok=True)
        fsync_dir(self.shunt)
        return spool_id


class Tries:
    """Intake's attempts per message of one segment, on disk beside it.

    Written before each attempt, so a message that kills the worker still counts; not fsynced:
    it only has to survive the worker, and a lost count after a power cut means one more try.
    """

    def __init__(self, path: Path):
        self.path = path
        try:
            self._state = read_json(path) or {}
        except (OSError, ValueError):
            self._state = {}  # a damaged count: start again, the message is tried anew

    def _get(self, spool_id: str) -> dict:
        value = self._state.get(spool_id)
        return value if isinstance(value, dict) else {}

    def done(self, spool_id: str) -> bool:
        return bool(self._get(spool_id).get("done"))

    def attempts(self, spool_id: str) -> int:
        value = self._get(spool_id).get("attempts", 0)
        return value if isinstance(value, int) else 0

    def last_error(self, spool_id: str) -> str | None:
        return self._get(spool_id).get("error")

    def _set(self, spool_id: str, **values) -> None:
        self._state[spool_id] = dict(self._get(spool_id), **values)
        self._save()

    def _save(self) -> None:
        atomic_write(self.path, json.dumps(self._state).encode(), sync=False, sync_dir=False)

    def begin(self, spool_id: str) -> int:
        attempts = self.attempts(spool_id) + 1
        self._set(spool_id, attempts=attempts, error=None)
        return attempts

    def begin_all(self, spool_ids: list[str]) -> None:
        """An attempt of each message, counted in one write (a batch of them in one unit)."""
        for spool_id in spool_ids:
            self._state[spool_id] = dict(self._get(spool_id), attempts=self.attempts(spool_id) + 1,
                                         error=None)
        self._save()

    def failed_all(self, spool_ids: list[str], error: str) -> None:
        for spool_id in spool_ids:
            self._state[spool_id] = dict(self._get(spool_id), error=error)
        self._save()

    def tried(self) -> bool:
        """Any message of the segment tried before (and not finished): a batch failed or died."""
        return any(self.attempts(s) and not self.done(s) for s in self._state)

    def failed(self, spool_id: str, error: str) -> None:
        self._set(spool_id, error=error)

    def finish(self, spool_id: str) -> None:
        self._set(spool_id, done=True)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs (one of another user counts: it does)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _now_iso() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


__all__ = ["MessageBody", "Spool", "SpoolEntry", "SpoolError", "Tries", "escaped"]
