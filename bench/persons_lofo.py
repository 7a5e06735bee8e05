"""Leave one file out for the number of persons: tuned on four files, scored on the fifth, in turn.

    python bench/persons_lofo.py tests/corpus/reports_dev*.txt [--all-rules]

The persons are read by hand-written rules, so "tuned on four files" means: for the file held
out, every rule of this pass whose only support is that file is switched off (`RULES`: each
rule, the files whose misses it fixes, and how to switch it off), and the kind model (both heads,
which the count's fallbacks read) is retrained on the other four. Rules of the earlier passes stay
on: devA-devD were read when they were written, so only devE's figure before this pass is honest.
Prints per file: persons, persons_over, persons_max and category; then the five files together.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from corpus.score import read, score  # noqa: E402
from leakline.process import kindmodel  # noqa: E402
from leakline.process.extract import normalize  # noqa: E402

FIELDS = ("persons", "persons_over", "persons_max", "category")


class Rule(NamedTuple):
    """A rule of this pass: the files whose misses it fixes, and what undoes it (returns the undo)."""

    name: str
    support: frozenset[str]
    off: Callable[[], Callable[[], None]]


def patch(module, **values) -> Callable[[], Callable[[], None]]:
    """Switch a rule off by putting back what module attributes were before it."""
    def off() -> Callable[[], None]:
        saved = {name: getattr(module, name) for name in values}
        for name, value in values.items():
            setattr(module, name, value() if callable(value) and not hasattr(value, "__code__") else value)
        return lambda: [setattr(module, name, value) for name, value in saved.items()]
    return off


RULES: list[Rule] = []


def model_without(records: list[dict]) -> kindmodel.Model:
    docs = [kindmodel.features(normalize(r["subject"], r["body"]).lower()) for r in records]
    act = kindmodel.train_on(docs, ["yes" if r["labels"]["wrongful"] else "no" for r in records])
    return kindmodel.train_on(docs, [r["labels"]["category"] for r in records])._replace(act=act)


def fold(name: str, held: list[dict], rest: list[dict], all_rules: bool) -> dict:
    model = model_without(rest)
    undo = [rule.off() for rule in RULES if not all_rules and rule.support <= {name}]
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
