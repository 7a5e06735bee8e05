"""The CLI's output layer: reporter text made inert on a terminal, store failures in one line.

Installed once by the `leakline` group for every command, so no command has to remember it:
stdout and stderr drop control characters (C0 but tab and newline, DEL, C1) and whole escape
sequences (CSI, OSC, DCS ...) that a reporter put in a subject or body. JSON goes out through
`echo_json` untouched (json.dumps already escapes every C0 character).
"""

from __future__ import annotations

import contextlib
import errno
import json
import re
import sys
from typing import Iterator

import click

_UNSAFE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"                       # CSI: colours, cursor moves, erase
    r"|\x1b\][^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"  # OSC: window title, hyperlinks, clipboard
    r"|\x1b[PX^_][^\x1b\x9c\n]*(?:\x1b\\|\x9c)?"      # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]"                              # every other escape sequence
    r"|\x9b[0-?]*[ -/]*[@-~]"                        # CSI as one C1 character
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c\n]*(?:\x07|\x9c)?"  # C1 string introducers
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"                # any other control character
)


def terminal_safe(text: str) -> str:
    """Text with nothing a terminal would act on: only tab and newline of the controls remain."""
    return _UNSAFE.sub("", text)


class SafeStream:
    """A text stream that passes text through `terminal_safe`; `unfiltered` is the stream beneath."""

    buffer = None  # no way around the filter: click writes text to this object

    def __init__(self, inner):
        self.unfiltered = inner

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError("SafeStream takes text")
        return self.unfiltered.write(terminal_safe(text))

    def __getattr__(self, name: str):
        return getattr(self.unfiltered, name)


@contextlib.contextmanager
def terminal_safe_output() -> Iterator[None]:
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def echo_json(value) -> None:
    """Machine-readable output, exactly as stored: around the filter, never through it."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=2),
               file=getattr(sys.stdout, "unfiltered", sys.stdout))


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


_WHAT_TO_DO = {
    errno.ENOSPC: "no space left on the device; free some space there, then run the command again",
    errno.EDQUOT: "disk quota exceeded; free some space there, then run the command again",
    errno.EIO: "input/output error: the disk may be failing; check it (dmesg), restore the file "
               "from a backup if it is damaged, then run `leakline store check`",
    errno.EROFS: "the file system is read-only; remount it read-write, then run the command again",
    errno.EACCES: "permission denied; run leakline as the user that owns data_dir",
    errno.EPERM: "permission denied; run leakline as the user that owns data_dir",
}


def os_error_line(exc: OSError) -> str:
    """One line for the operator: which file, what happened, what to do."""
    where = exc.filename or "a file under data_dir"
    what = _WHAT_TO_DO.get(exc.errno) or (exc.strerror or str(exc))
    return f"{where}: {what}"
