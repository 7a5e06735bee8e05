"""The CLI's output layer: one place where text is made inert on a terminal and coloured.

Installed once by the `leakline` group for every command, so no command has to remember it:
stdout and stderr drop control characters (C0 but tab and newline, DEL, C1) and whole escape
sequences (CSI, OSC, DCS ...) that a reporter put in a subject or body. Text the CLI composes goes
through `echo_text`: `Painted` parts are cleaned first and coloured after, so the only colour codes
on the terminal are ours, and only when the stream is a terminal and NO_COLOR is not set. JSON goes
out through `unfiltered` untouched (json.dumps already escapes every C0 character).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import sys
from dataclasses import dataclass
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


def unfiltered(err: bool = False):
    """The stream beneath the filter: for JSON and for text already cleaned part by part."""
    stream = sys.stderr if err else sys.stdout
    return getattr(stream, "unfiltered", stream)


def echo_json(value) -> None:
    """Machine-readable output, exactly as stored: around the filter, never through it."""
    click.echo(json.dumps(value, ensure_ascii=False, indent=2), file=unfiltered())


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
    from leakline.store.pg.db import DatabaseUnavailable

    if isinstance(exc, DatabaseUnavailable):
        return str(exc)  # no file's error: the database's, said as it is
    where = exc.filename or "a file under data_dir"
    what = _WHAT_TO_DO.get(exc.errno) or (exc.strerror or str(exc))
    return f"{where}: {what}"


@dataclass(frozen=True)
class Painted:
    """A part of a line to show in a colour (or bold, or dim) on a terminal."""

    text: str
    fg: str | None = None
    bold: bool = False
    dim: bool = False


def colour_wanted(err: bool = False) -> bool:
    """Colour for stdout (or stderr): only a terminal, and never with NO_COLOR set."""
    if os.environ.get("NO_COLOR"):
        return False
    stream = sys.stderr if err else sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


clean = terminal_safe


def render(parts: tuple, colour: bool) -> str:
    out = []
    for part in parts:
        if isinstance(part, Painted):
            text = clean(part.text)
            out.append(click.style(text, fg=part.fg, bold=part.bold or None, dim=part.dim or None)
                       if colour else text)
        else:
            out.append(clean(str(part)))
    return "".join(out)


def echo_text(*parts: str | Painted, err: bool = False, colour: bool | None = None) -> None:
    """Print one line (or a block) made of plain and painted parts."""
    wanted = colour_wanted(err) if colour is None else colour
    # Every part is cleaned in render(); the filter beneath would strip our own colour codes.
    click.echo(render(parts, wanted), file=unfiltered(err), color=wanted)
