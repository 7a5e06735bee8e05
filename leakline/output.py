"""Every line of text the CLI prints goes through `echo_text`: one place to clean and colour it.

`clean` is where text from outside (a reporter's subject, a note) is made safe for a terminal;
`Painted` parts are cleaned first and coloured after, so colour codes are ours alone. Colour only
when the stream is a terminal and NO_COLOR (https://no-color.org) is not set.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import click


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


def clean(text: str) -> str:
    """Text made safe for an operator's terminal. (Issue 9a strips control characters here.)"""
    return text


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
    click.echo(render(parts, wanted), err=err, color=wanted)
