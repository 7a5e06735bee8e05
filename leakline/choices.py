"""The CLI's vocabularies as Click choices: completion and errors list the words, and other
spellings people use (hyphens, upper case, the step ids before issue 10) are still taken.

The words come from the domain modules (defined once there), read when a choice is first used:
importing the domain at start-up would slow every `leakline --help`.
"""

from __future__ import annotations

from typing import Callable

import click


class Vocabulary(click.Choice):
    """A choice that normalises what was typed: `PPC-Preliminary` is ppc_preliminary, and an
    old id (`notice`) is its new one (`public_notice`)."""

    def __init__(self, words: Callable[[], tuple[tuple[str, ...], dict[str, str]]]):
        self._words = words
        self._loaded: tuple[list[str], dict[str, str]] | None = None
        super().__init__([])

    def _load(self) -> tuple[list[str], dict[str, str]]:
        if self._loaded is None:
            choices, aliases = self._words()
            self._loaded = (list(choices), dict(aliases))
        return self._loaded

    @property
    def choices(self):
        return self._load()[0]

    @choices.setter
    def choices(self, value) -> None:
        pass  # click.Choice.__init__ sets it; the words are loaded on first use instead

    def normal(self, value: str) -> str:
        word = value.strip().lower().replace("-", "_")
        return self._load()[1].get(word, word)

    def convert(self, value, param, ctx):
        if isinstance(value, str) and self.normal(value) in self.choices:
            return self.normal(value)
        return super().convert(value, param, ctx)


def _categories():
    from leakline.process.vocabulary import CATEGORIES

    return CATEGORIES, {}


def _phases():
    from leakline.process.phases import PHASES

    return tuple(phase for phase, _ in PHASES), {}


def _steps():
    from leakline.process.phases import OLD_STEP_IDS, PHASES

    return tuple(step for _, steps in PHASES for step in steps), OLD_STEP_IDS


def _report_kinds():
    """Report kinds are the step ids they serve; `review_body` leaves the stage to the case."""
    from leakline.process.reports import ALIASES, KINDS

    words = tuple(kind.replace("-", "_") for kind in KINDS) + tuple(
        alias.replace("-", "_") for alias, (_, stage) in ALIASES.items() if stage)
    aliases = {alias.replace("-", "_"): kind.replace("-", "_")
               for alias, (kind, stage) in ALIASES.items() if not stage}
    return words, aliases


CATEGORY = Vocabulary(_categories)
PHASE = Vocabulary(_phases)
STEP = Vocabulary(_steps)
REPORT_KIND = Vocabulary(_report_kinds)
