"""A message as it arrives over SMTP: in memory while small, then in a private file in spool/tmp.

The listener never holds a whole large message: past `spill_at` bytes the data goes to a temp
file as it arrives, and the group commit copies it into the spool segment inside the kernel
(copy_file_range), so 20 connections sending 20 MB each cost a few MB of memory, not 400.
"""

from __future__ import annotations

import errno
import os
import secrets
import threading
import time
from pathlib import Path

from leakline.store.files import FILE_MODE, inject_fault, write_all

SPILL_AT = 256 * 1024
COPY_CHUNK = 1 << 20


def unique_name(suffix: str) -> str:
    """Time, pid, random: sortable, unique across processes, and the pid says whose it is."""
    return f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}{suffix}"


class MessageBody:
    """Bytes appended as they arrive; `spill()` (blocking, run it off the event loop) moves them to disk.

    The lock keeps `discard()` (a dropped connection) from closing the file under a `spill()`
    or `copy_to()` still running in a worker thread.
    """

    def __init__(self, tmp_dir: Path, spill_at: int = SPILL_AT):
        self.tmp_dir = tmp_dir
        self.spill_at = spill_at
        self.path: Path | None = None
        self._buffer = bytearray()
        self._fd: int | None = None
        self._on_disk = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._on_disk + len(self._buffer)

    def append(self, data: bytes) -> bool:
        """Add bytes; True when enough is buffered that it should be spilled to disk."""
        self._buffer += data
        return len(self._buffer) >= self.spill_at

    def spill(self) -> None:
        with self._lock:
            if not self._buffer:
                return
            if self._fd is None:
                self.path = self.tmp_dir / unique_name(".part")
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE)
            inject_fault("write", self.path)
            write_all(self._fd, self._buffer)
            self._on_disk += len(self._buffer)
            self._buffer = bytearray()

    def copy_to(self, fd: int) -> None:
        """Write the whole message at `fd`'s position (the spool segment being written)."""
        with self._lock:
            if self._fd is not None:
                inject_fault("read", self.path)
                copy_range(self._fd, self._on_disk, fd)
            write_all(fd, self._buffer)

    def getvalue(self) -> bytes:
        with self._lock:
            head = os.pread(self._fd, self._on_disk, 0) if self._fd is not None else b""
            return head + bytes(self._buffer)

    def discard(self) -> None:
        """Forget the message and remove its temp file; safe to call more than once."""
        with self._lock:
            fd, self._fd = self._fd, None
            if fd is not None:
                os.close(fd)
            if self.path is not None:
                self.path.unlink(missing_ok=True)
                self.path = None
            self._buffer = bytearray()
            self._on_disk = 0


def copy_range(src: int, length: int, dst: int) -> None:
    """Copy `length` bytes from the start of `src` to `dst`'s position, in the kernel if it can."""
    offset = 0
    use_kernel = hasattr(os, "copy_file_range")
    while offset < length:
        count = min(COPY_CHUNK * 16, length - offset)
        if use_kernel:
            try:
                n = os.copy_file_range(src, dst, count, offset_src=offset)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                    raise
                use_kernel = False
                continue
        else:
            chunk = os.pread(src, min(count, COPY_CHUNK), offset)
            write_all(dst, chunk)
            n = len(chunk)
        if n == 0:
            raise OSError(errno.EIO, f"message temp file ended {length - offset} bytes early")
        offset += n
