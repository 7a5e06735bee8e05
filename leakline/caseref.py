"""Case ids as people type them: any case, leading zeros optional (`inc-2026-2` is INC-2026-0002)."""

from __future__ import annotations

import re

_TYPED = re.compile(r"^\s*([A-Za-z0-9]+)-(\d{4})-(\d+)\s*$")


class NoSuchCase(LookupError):
    """No case with that id; the message says where the ids are."""

    def __init__(self, typed: str, case_id: str | None = None):
        shown = case_id or typed.strip()
        super().__init__(f"no such case {shown}; `leakline cases list` shows the ids")
        self.case_id = shown


def canonical_id(typed: str, prefix: str) -> str | None:
    """The stored form of a typed id: the configured prefix's spelling, four digits at least.

    None when the text is no case id at all. A different prefix keeps its own letters, upper case.
    """
    match = _TYPED.match(typed or "")
    if not match:
        return None
    given, year, number = match.groups()
    spelled = prefix if given.lower() == prefix.lower() else given.upper()
    return f"{spelled}-{year}-{int(number):04d}"


def find_case_id(store, typed: str, prefix: str) -> str:
    """The id of an existing case for what was typed, or NoSuchCase."""
    case_id = canonical_id(typed, prefix)
    if case_id is None or not store.exists(case_id):
        raise NoSuchCase(typed, case_id)
    return case_id
