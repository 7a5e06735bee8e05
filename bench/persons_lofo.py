"""Leave one file out for the number of persons: tuned on four files, scored on the fifth, in turn.

    python bench/persons_lofo.py tests/corpus/reports_dev*.txt [--all-rules]

The persons are read by hand-written rules, so "tuned on four files" means: for the file held
out, every rule of this pass whose only support is that file is switched off (`RULES`: each
rule, the files whose misses it fixes, and how to switch it off), and the kind model (both heads,
which the count's fallbacks read) is retrained on the other four. Rules of the earlier passes stay
on: devA-devD were read when they were written, so only devE's figure before this pass is honest.
Rules written from probe sentences of this pass (no report's miss: the parts after a word of
correction, a count of whose data in a sentence about a mailing list, "a company of 80 staff",
"one for each employee", "37 of them went to old addresses") change no figure here and are not listed.
Prints per file: persons, persons_over, persons_max and category; then the five files together.
"""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Callable, NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from corpus.score import read, score  # noqa: E402
from leakline.process import kindmodel  # noqa: E402
from leakline.process.extract import normalize  # noqa: E402

FIELDS = ("persons", "persons_over", "persons_max", "category")


BASE = "f36fc28"  # main before this pass: what a rule switched off falls back to


class Rule(NamedTuple):
    """A rule of this pass: the files whose misses it fixes, and the attributes that hold it."""

    name: str
    support: frozenset[str]
    attributes: tuple[tuple[str, str], ...]  # (module, attribute): given back their value at BASE
    off: dict | None = None  # or, by attribute name, a function of the module giving the value without the rule


@lru_cache(maxsize=None)
def base(module: str) -> ModuleType:
    """leakline.process.<module> as it was at BASE (read from git; numbers and othercounts were in counts)."""
    module = "counts" if module in ("numbers", "othercounts") else module
    source = subprocess.run(["git", "show", f"{BASE}:leakline/process/{module}.py"], capture_output=True, text=True,
                            check=True, cwd=ROOT).stdout
    loaded = ModuleType(f"leakline.process._base_{module}")
    loaded.__package__ = "leakline.process"
    exec(compile(source, f"{BASE}:{module}.py", "exec"), loaded.__dict__)
    return loaded


NEVER = re.compile(r"(?!)")
E, NONE = frozenset("E"), lambda m: NEVER
RULES = [
    Rule("a count worth of (分) is data whatever noun follows", E, (("counts", "DATA_OF"),),
         {"DATA_OF": lambda m: m.NOT_PERSONS_AFTER}),
    Rule("お二人(…) before who they are", E, (("othercounts", "JA_POLITE"),)),
    Rule("a count that is the subject of its clause, or before an open bracket, is no part", E,
         (("headcount", "NOT_JOINED"),)),
    Rule("the person and the family; parents and children; the number of individual customers", E,
         (("othercounts", "OTHER_COUNTS"),)),
    Rule("at least is not more than", E, (("counts", "OVER_WORDS"), ("counts", "ESTIMATE_WORDS"))),
    Rule("a few dozen, a few hundred", frozenset("C"), (("othercounts", "EN_MAGNITUDE"),)),
    Rule("千数百; magnitudes of mails and attempts are none", E,
         (("othercounts", "JA_MAGNITUDE"), ("othercounts", "not_records")),
         {"not_records": lambda m: (lambda text, match: False)}),
    Rule("two dozen, half a dozen", E, (("counts", "EN_COUNT"), ("numbers", "ENGLISH_NUMBERS"))),
    Rule("who opened it, on whose screens, who can read, visitors, passengers are witnesses", E,
         (("headcount", "WITNESS_AFTER"), ("headcount", "WITNESS_BEFORE"))),
    Rule("the class, the tour, the day's work, the batch sent with it are the population", E,
         (("headcount", "POPULATION_BEFORE"),)),
    Rule("names after と, surnames in 部, 互いの", E, (("uncounted", "NAMED"), ("uncounted", "SWAPPED"), ("uncounted", "_names"))),
    Rule("届いたのは N (the count the leak reached); a later correction supersedes", E,
         (("headcount", "CORRECTED"), ("headcount", "_corrected")), {"_corrected": lambda m: _first_correction}),
    Rule("N、このうち…M名に配信: the part the leak reached", frozenset("CE"), (("headcount", "POPULATION_AFTER"),)),
    Rule("checking words apply in their own clause", E, (("headcount", "_same_clause"),),
         {"_same_clause": lambda m: (lambda text, count, at: True)}),
    Rule("papers of N persons in one envelope: N - 1", frozenset("BD"), (("headcount", "ONE_ENVELOPE"),), {"ONE_ENVELOPE": NONE}),
    Rule("papers one per person (1名1通, one per customer)", frozenset("CE"), (("counts", "ONE_EACH"),), {"ONE_EACH": NONE}),
    Rule("a list is a list (not 'listed'), not a list one looked a number up in", frozenset("CE"), (("uncounted", "MANY"),)),
    Rule("CC N名 are readers", E, (("headcount", "AUDIENCE_BEFORE"),)),
    Rule("the three whose slips", frozenset("B"), (("othercounts", "WHOSE"),), {"WHOSE": NONE}),
    Rule("in a swap, who received it are whose it was", frozenset("D"), (("headcount", "SWAPPED"),), {"SWAPPED": NONE}),
    Rule("3名それぞれ is the whole, no part", E, (("headcount", "EACH_OF_THEM"),), {"EACH_OF_THEM": NONE}),
    Rule("persons listed by role (世帯主…、奥様…; the applicant, his wife and their three children)", E,
         (("othercounts", "FAMILY_LIST"), ("othercounts", "EN_FAMILY_LIST")), {"FAMILY_LIST": NONE, "EN_FAMILY_LIST": NONE}),
    Rule("60 reminders went to the wrong customers", frozenset("A"), (("othercounts", "MISSENT"),), {"MISSENT": NONE}),
    Rule("a dozen application forms: full name", E, (("othercounts", "PAPERS"),), {"PAPERS": NONE}),
    Rule("family members and dependents are parts, however far", E, (("headcount", "FAMILY_PART"),), {"FAMILY_PART": NONE}),
]


def _first_correction(text, subjects, sentence):
    """The reading before this pass: the first word of correction in the sentence, its first count after."""
    from leakline.process import headcount
    for corrected in headcount.CORRECTED.finditer(text, *sentence):
        after = [r.count for r in subjects if r.sentence == sentence and r.count.start >= corrected.start()
                 and r.count.number is not None]
        first = after[0] if after else None
        return first and headcount.Persons(first.number, first.estimated, first.over, None, first.words)
    return None


def switch_off(rule: Rule) -> Callable[[], None]:
    """Give a rule's attributes the values they have without it; returns what undoes that."""
    saved = []
    for module, name in rule.attributes:
        where = importlib.import_module(f"leakline.process.{module}")
        without = (rule.off or {}).get(name)
        saved.append((where, name, getattr(where, name)))
        setattr(where, name, without(where) if without else getattr(base(module), name))
    return lambda: [setattr(where, name, value) for where, name, value in saved]


def model_without(records: list[dict]) -> kindmodel.Model:
    docs = [kindmodel.features(normalize(r["subject"], r["body"]).lower()) for r in records]
    act = kindmodel.train_on(docs, ["yes" if r["labels"]["wrongful"] else "no" for r in records])
    return kindmodel.train_on(docs, [r["labels"]["category"] for r in records])._replace(act=act)


def fold(name: str, held: list[dict], rest: list[dict], all_rules: bool) -> dict:
    model = model_without(rest)
    undo = [switch_off(rule) for rule in RULES if not all_rules and rule.support <= {name}]
    load, kindmodel.load = kindmodel.load, lambda: model
    try:
        return score(held)
    finally:
        kindmodel.load = load
        for step in reversed(undo):
            step()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--all-rules", action="store_true", help="keep every rule on (only the model is retrained)")
    args = parser.parse_args(argv)
    files = {Path(p).stem.removeprefix("reports_dev"): read(p) for p in args.files}
    total = {field: 0 for field in FIELDS}
    size = 0
    print(f"{'file':6} {'n':>4} " + " ".join(f"{f:>14}" for f in FIELDS) + "   rules off")
    for name, held in files.items():
        rest = [r for other, records in files.items() if other != name for r in records]
        result = fold(name, held, rest, args.all_rules)
        off = [rule.name for rule in RULES if not args.all_rules and rule.support <= {name}]
        size += result["total"]
        cells = []
        for field in FIELDS:
            right = result["right"].get(field, 0)
            total[field] += right
            cells.append(f"{right:4}/{result['total']} {right / result['total']:5.1%}")
        print(f"dev{name:3} {result['total']:4} " + " ".join(f"{c:>14}" for c in cells) + f"   {len(off)}")
    print(f"{'all':6} {size:4} " + " ".join(f"{total[f]:4}/{size} {total[f] / size:5.1%}".rjust(14) for f in FIELDS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
