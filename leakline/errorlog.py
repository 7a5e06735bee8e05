"""The last errors `leakline serve` logged, kept in data_dir for `leakline status`.

Each of serve's processes (the listener, the intake worker, the sender) adds `ErrorFile` to its
root logger: every record at ERROR or above becomes one JSON line in `data_dir/log/errors.jsonl`
(when, which process, which logger, the message). The message is what the code chose to log:
ids, paths, exception types and SMTP replies, never a message's content (the README's rule for
logs); tracebacks are not kept, only the exception's type. Control characters are dropped and a
line is cut at 500 characters. The file is rotated at 64 KB (one older file, `.1`), under an
flock so that the three processes never lose a line to each other's rotation. Writing it never
fails the process that logs: a full disk costs the line, not the service.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path

from leakline.output import terminal_safe
from leakline.store.files import FILE_MODE, ensure_dir, write_all

LOG_FOLDER = "log"  # at the root of data_dir (orgs.SERVICE_NAMES)
ERRORS = "errors.jsonl"
ROTATE_BYTES = 64 << 10
MESSAGE_CHARS = 500


def errors_path(data_dir: Path) -> Path:
    return Path(data_dir) / LOG_FOLDER / ERRORS


def _clean(text: str) -> str:
    """One line with nothing a terminal would act on (escape sequences go whole)."""
    text = " ".join(terminal_safe(text).split())
    return text if len(text) <= MESSAGE_CHARS else text[:MESSAGE_CHARS - 1] + "…"


class ErrorFile(logging.Handler):
    """Appends each ERROR record to data_dir/log/errors.jsonl (see the module's docstring)."""

    def __init__(self, data_dir: Path, process: str):
        super().__init__(logging.ERROR)
        self.path = errors_path(data_dir)
        self.process = process

    def line(self, record: logging.LogRecord) -> bytes:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what was meant, not the arguments
            message = str(record.msg)
        if record.exc_info and record.exc_info[0] is not None:
            message = f"{message} [{record.exc_info[0].__name__}]"
        entry = {"at": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="seconds"),
                 "process": self.process, "pid": record.process, "logger": record.name,
                 "level": record.levelname, "message": _clean(message)}
        return json.dumps(entry, ensure_ascii=False).encode() + b"\n"

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._append(self.line(record))
        except (OSError, ValueError):
            pass  # the log of errors must never be one more error

    def _append(self, data: bytes) -> None:
        ensure_dir(self.path.parent)
        fd = self._open_locked()
        try:
            if os.fstat(fd).st_size + len(data) > ROTATE_BYTES:
                os.replace(self.path, self.path.with_name(ERRORS + ".1"))
                os.close(fd)
                fd = self._open_locked()
            write_all(fd, data)
        finally:
            os.close(fd)

    def _open_locked(self) -> int:
        """The current file, open and locked (another process may rotate it while we wait)."""
        for _ in range(5):
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _same_file(fd, self.path):
                break
            os.close(fd)
        return fd


def _same_file(fd: int, path: Path) -> bool:
    """Whether `path` is still the file `fd` has open (another process may have rotated it)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def install(data_dir: Path, process: str) -> ErrorFile:
    """Keep this process's errors for `leakline status` (serve's listener and workers call it)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, ErrorFile)]:
        root.removeHandler(old)  # one file per process, even if serve runs twice in it (tests)
    handler = ErrorFile(data_dir, process)
    root.addHandler(handler)
    return handler


def last_error(data_dir: Path) -> dict | None:
    """The newest error line ({"at", "process", "pid", "logger", "level", "message"}), or None."""
    path = errors_path(data_dir)
    for candidate in (path, path.with_name(ERRORS + ".1")):
        line = _last_line(candidate)
        if line is not None:
            return line
    return None


def _last_line(path: Path) -> dict | None:
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - 4 * (MESSAGE_CHARS * 4 + 512)))
            lines = fh.read().splitlines()
    except FileNotFoundError:
        return None
    for raw in reversed(lines):
        try:
            entry = json.loads(raw)
        except ValueError:
            continue  # a line cut by a crash, or the tail of the read window's first line
        if isinstance(entry, dict) and isinstance(entry.get("message"), str):
            return entry
    return None
