"""Patterns that skip, inside the regex engine, every position where no match can start.

Python's `re` tries a pattern at every position of the text unless the pattern begins with plain
characters; ours mostly begin with look-behinds, optional words or groups of alternatives, and
then each of the ~2,000 positions of a report costs a full attempt. `compile` reads the pattern's
possible first characters from its parse tree and puts them in front as a look-ahead
(`(?=[氏住電…])`), which fails at once elsewhere. The gate only ever admits a superset of the
positions where the pattern can match, so matches are the same; a pattern whose first character
can be anything (or that can match the empty string) is compiled as it is.
"""

from __future__ import annotations

import re
from re import _constants as C  # the parse tree's opcodes (stable since Python 3.11)
from re import _parser

_CATEGORIES = {C.CATEGORY_DIGIT: r"\d", C.CATEGORY_SPACE: r"\s", C.CATEGORY_WORD: r"\w"}


class _Unbounded(Exception):
    """The first character can be any character: no gate."""


def _char(code: int) -> str:
    return re.escape(chr(code)) if chr(code) not in "-]^\\" else "\\" + chr(code)


def _class_items(items) -> list[str]:
    out = []
    for op, av in items:
        if op is C.LITERAL:
            out.append(_char(av))
        elif op is C.RANGE:
            out.append(f"{_char(av[0])}-{_char(av[1])}")
        elif op is C.CATEGORY and av in _CATEGORIES:
            out.append(_CATEGORIES[av])
        else:  # NEGATE, a negated category: almost anything
            raise _Unbounded
    return out


def _first(items) -> tuple[list[str], bool]:
    """The possible first characters of a sequence, and whether it can match nothing."""
    found: list[str] = []
    for op, av in items:
        chars, nullable = _first_of(op, av)
        found += chars
        if not nullable:
            return found, False
    return found, True


def _first_of(op, av) -> tuple[list[str], bool]:
    if op is C.LITERAL:
        return [_char(av)], False
    if op is C.IN:
        return _class_items(av), False
    if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
        return [], True  # zero width: the next item gives the first character
    if op is C.SUBPATTERN:
        return _first(av[3])
    if op is C.ATOMIC_GROUP:
        return _first(av)
    if op is C.BRANCH:
        found, nullable = [], False
        for alternative in av[1]:
            chars, empty = _first(alternative)
            found += chars
            nullable = nullable or empty
        return found, nullable
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        chars, empty = _first(av[2])
        return chars, empty or av[0] == 0
    if op is C.GROUPREF_EXISTS:
        yes, yes_empty = _first(av[1])
        no, no_empty = _first(av[2]) if av[2] else ([], True)
        return yes + no, yes_empty or no_empty
    raise _Unbounded  # ANY, NOT_LITERAL, a back-reference


def gate(pattern: str, flags: int = 0) -> str | None:
    """The look-ahead of the pattern's possible first characters, or None when there is none."""
    try:
        chars, nullable = _first(_parser.parse(pattern, flags).data)
    except _Unbounded:
        return None
    if nullable or not chars:
        return None
    return "(?=[" + "".join(dict.fromkeys(chars)) + "])"


def compile(pattern: str, flags: int = 0) -> re.Pattern:
    """`re.compile` with the gate in front when the pattern has one (same matches, fewer attempts)."""
    front = gate(pattern, flags)
    return re.compile(f"{front}(?:{pattern})" if front else pattern, flags)
