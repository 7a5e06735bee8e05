"""The CLI's vocabularies as Click choices: completion and errors list the words, and other
spellings people use (hyphens, upper case, the step ids before issue 10) are still taken."""

from __future__ import annotations

import click

from leakline.process.phases import OLD_STEP_IDS, PHASES
from leakline.process.reports import ALIASES, KINDS
from leakline.process.vocabulary import CATEGORIES


class Vocabulary(click.Choice):
    """A choice that normalises what was typed: `PPC-Preliminary` is ppc_preliminary, and an
    old id (`notice`) is its new one (`public_notice`)."""

    def __init__(self, choices, aliases: dict[str, str] | None = None):
        super().__init__(list(choices))
        self.aliases = dict(aliases or {})

    def normal(self, value: str) -> str:
        word = value.strip().lower().replace("-", "_")
        return self.aliases.get(word, word)

    def convert(self, value, param, ctx):
        if isinstance(value, str) and self.normal(value) in self.choices:
            return self.normal(value)
        return super().convert(value, param, ctx)


STEP_IDS = tuple(step for _, steps in PHASES for step in steps)
_KIND_WORDS = tuple(kind.replace("-", "_") for kind in KINDS) + tuple(
    alias.replace("-", "_") for alias, (_, stage) in ALIASES.items() if stage)

CATEGORY = Vocabulary(CATEGORIES)
PHASE = Vocabulary(phase for phase, _ in PHASES)
STEP = Vocabulary(STEP_IDS, OLD_STEP_IDS)
# Report kinds are the step ids they serve; `review_body` leaves the stage to the case.
REPORT_KIND = Vocabulary(_KIND_WORDS, {alias.replace("-", "_"): kind.replace("-", "_")
                                       for alias, (kind, stage) in ALIASES.items() if not stage})
