"""The redo journal of the file store: one record per unit of work, fsynced once.

A record is everything a unit changes, written before any of it is applied: the files it writes
(case files, index shards, outbox records, evidence), the links and removals, the message keys
and the audit events, already chained. Appending it and fsyncing the journal is the commit
point; the files are then written behind it without fsyncs of their own, and a marker line says
the record was applied. A crash before the fsync returns loses the unit whole (nothing of it was
applied or acknowledged); a crash after it leaves a record without its marker, which the next
holder of the data lock applies again (every operation is idempotent). A checkpoint flushes the
file system once and empties the journal.

    b"LLJ1 R <meta length> <blob length> <sha256 of meta and blobs>\\n" meta-JSON blobs
    b"LLJ1 A\\n"                                     the record before it is applied

A torn record at the end (a crash mid-append) fails its length or hash and is cut off: it was
never committed.

Each record names the boot it was written in (`boot`): the files written behind a record are
in the page cache only, which a crash of a process keeps and a power cut does not. A journal
begun before the machine last started is applied again whole, every record in order (store.units
does it before any other unit), then emptied.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from leakline.store.files import FILE_MODE, ensure_dir, inject_fault, write_all

MAGIC = b"LLJ1"
APPLIED = MAGIC + b" A\n"


class JournalError(OSError):
    """The journal cannot be read back (not a torn tail: damage in the middle)."""


@dataclass
class Record:
    meta: dict
    blobs: bytes
    end: int  # offset just past the record (its marker, if any, follows)

    def blob(self, offset: int, length: int) -> bytes:
        return self.blobs[offset:offset + length]


def encode(meta: dict, blobs: list[bytes]) -> list[bytes]:
    """The record as buffers to write (the blobs are not copied into one)."""
    head = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    digest = hashlib.sha256(head)
    for blob in blobs:
        digest.update(blob)
    size = sum(len(b) for b in blobs)
    line = b"%s R %d %d %s\n" % (MAGIC, len(head), size, digest.hexdigest().encode())
    return [line, head, *blobs]


class Journal:
    def __init__(self, path: Path):
        self.path = path

    def prepare(self) -> None:
        ensure_dir(self.path.parent)

    def size(self) -> int:
        try:
            return os.stat(self.path).st_size
        except FileNotFoundError:
            return 0

    def commit(self, meta: dict, blobs: list[bytes]) -> int:
        """Append one record and make it durable; returns the journal's size before it."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        try:
            start = os.lseek(fd, 0, os.SEEK_END)
            try:
                inject_fault("write", self.path)
                for part in encode(meta, blobs):
                    write_all(fd, part)
                os.fsync(fd)
            except BaseException:
                # Not committed: cut what was written, so no torn record stays in the way.
                os.ftruncate(fd, start)
                raise
        finally:
            os.close(fd)
        return start

    def mark_applied(self) -> None:
        """The record at the end is applied (no fsync: a lost marker only means one replay)."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND, FILE_MODE)
        try:
            write_all(fd, APPLIED)
        finally:
            os.close(fd)

    def clean(self) -> bool:
        """True when every record is applied: the journal is empty or ends with the marker."""
        try:
            with open(self.path, "rb") as fh:
                size = fh.seek(0, os.SEEK_END)
                if size == 0:
                    return True
                fh.seek(max(0, size - len(APPLIED)))
                return fh.read() == APPLIED
        except FileNotFoundError:
            return True

    def unapplied(self) -> Record | None:
        """The last record when it has no marker; a torn tail after it is cut off."""
        inject_fault("read", self.path)
        with open(self.path, "r+b") as fh:
            data = fh.read()
            last, applied, end = None, True, 0
            for record, end in self._scan(data):
                last, applied = (last, True) if record is None else (record, False)
            if end < len(data):
                fh.truncate(end)
                os.fsync(fh.fileno())
        return None if applied else last

    def records(self) -> list[Record]:
        """Every whole record, in order (a torn tail is left out)."""
        inject_fault("read", self.path)
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        return [record for record, _ in self._scan(data) if record is not None]

    def _scan(self, data: bytes):
        """(record, or None for an applied marker; the offset after it) for each whole item, up
        to a torn tail: the crash came before that record's fsync returned."""
        offset = 0
        while offset < len(data):
            if data.startswith(APPLIED, offset):
                offset += len(APPLIED)
                yield None, offset
                continue
            try:
                record = _parse(data, offset)
            except JournalError as exc:
                raise JournalError(f"{self.path}: {exc}") from None
            if record is None:
                return
            offset = record.end
            yield record, offset

    def first_boot(self) -> str | None:
        """The boot the journal's first record was written in ('' when it says none)."""
        try:
            with open(self.path, "rb") as fh:
                line = fh.readline(200)
                parts = line.split()
                if len(parts) != 5 or not parts[2].isdigit():
                    return ""
                meta = json.loads(fh.read(int(parts[2])).decode("utf-8"))
        except (FileNotFoundError, ValueError):
            return None if not self.path.exists() else ""
        return str(meta.get("boot") or "")

    def truncate(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
        try:
            os.ftruncate(fd, 0)
            os.fsync(fd)
        finally:
            os.close(fd)


def current_boot() -> str:
    """This boot of the machine (Linux's boot_id); '' where the system does not say."""
    global _BOOT
    if _BOOT is None:
        try:
            with open("/proc/sys/kernel/random/boot_id", "rb") as fh:
                _BOOT = fh.read().decode("ascii").strip()
        except (OSError, UnicodeDecodeError):
            _BOOT = ""
    return _BOOT


_BOOT: str | None = None


def _parse(data: bytes, offset: int) -> Record | None:
    """The record at `offset`; None when it is torn (it runs to the end of the file and does not
    check out); JournalError when a bad record has more data after it (damage, not a crash)."""
    newline = data.find(b"\n", offset, offset + 200)
    parts = data[offset:newline].split() if newline >= 0 else []
    end = len(data)
    if len(parts) == 5 and parts[0] == MAGIC and parts[1] == b"R" and parts[2].isdigit() \
            and parts[3].isdigit():
        head_len, start = int(parts[2]), newline + 1
        end = start + head_len + int(parts[3])
        body = memoryview(data)[start:end]
        if end <= len(data) and hashlib.sha256(body).hexdigest().encode() == parts[4]:
            return Record(json.loads(bytes(body[:head_len]).decode("utf-8")),
                          bytes(body[head_len:]), end)
    if end < len(data) or (newline >= 0 and not parts[:1] == [MAGIC]):
        raise JournalError(f"damaged at byte {offset} (not a torn last record); "
                           "run `leakline store check --repair`")
    return None
