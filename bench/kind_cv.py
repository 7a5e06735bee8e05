"""Cross-validate the reading of the kind of incident on the development corpus.

    python bench/kind_cv.py tests/corpus/reports_dev*.txt [--folds 5] [--repeats 2] [--by-file]
        [--params epochs=40,rate=0.5,l2=1e-4]

The model is retrained on each training part and scored on the part held out: stratified k-fold,
or with --by-file one file held out at a time (each file was written by another writer at another
time: the nearer estimate for reports not yet seen). The rules' cues (kinds.py) are not trained;
they were written looking at these files, so every figure is somewhat optimistic.

Prints, per decision policy, the accuracy (an unknown kind counts as wrong), how often it answers,
the dangerous errors (an accident kind where the label is a wrongful act: that would remove T3),
the accuracy per file, and how often the wrongful flag comes out right as the extractor sets it
(extract.wrongful: a wrongful kind, the text's words, or the model's wrongful probability when the
kind stays unknown), compared with the label.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from corpus.score import read  # noqa: E402
from leakline.process import kindmodel, kinds  # noqa: E402
from leakline.process.extract import normalize, wrongful as wrongful_flag  # noqa: E402
from leakline.process.facts import ACCIDENT_CATEGORIES, WRONGFUL_CATEGORIES  # noqa: E402

# name: (threshold, doubt, sure, fallback): see kindmodel.decide
POLICIES = {"t=0.3 guard=0.2/6, rules when unsure (shipped)": (0.3, 0.2, 6, True, 0.5),
            "t=0.3 guard=0.2/6": (0.3, 0.2, 6, False, 0.0), "t=0.3 guard=0.2/99, rules when unsure": (0.3, 0.2, 99, True),
            "t=0.3 guard=0.3/6, rules when unsure": (0.3, 0.3, 6, True),
            "t=0.4 guard=0.2/6, rules when unsure": (0.4, 0.2, 6, True), "always (t=0, no guard)": (0.0, 1.01, 99, False),
            "shipped, without sure rules over a weak model": (0.3, 0.2, 6, True, 0.0)}


def folds(labels: list[str], k: int, seed: int) -> list[list[int]]:
    """Stratified folds: each kind spread over the folds."""
    rng = random.Random(seed)
    by_kind: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_kind.setdefault(label, []).append(i)
    out: list[list[int]] = [[] for _ in range(k)]
    offset = 0
    for kind in sorted(by_kind):
        members = by_kind[kind]
        rng.shuffle(members)
        for j, i in enumerate(members):
            out[(j + offset) % k].append(i)
        offset += len(members)
    return out


def tally(name: str, gold: list, predicted: list, wrongful: list, wrongful_gold: list, files: list) -> str:
    n = len(gold)
    right = sum(p == t for p, t in zip(predicted, gold))
    answered = sum(p is not None for p in predicted)
    dangerous = sum(p in ACCIDENT_CATEGORIES and t in WRONGFUL_CATEGORIES for p, t in zip(predicted, gold))
    flag = sum(w == t for w, t in zip(wrongful, wrongful_gold))
    per_file = {}
    for f, p, t in zip(files, predicted, gold):
        a, b = per_file.get(f, (0, 0))
        per_file[f] = (a + (p == t), b + 1)
    by_file = " ".join(f"{f}:{a / b:.1%}" for f, (a, b) in sorted(per_file.items()))
    return (f"{name:47} accuracy {right / n:6.1%}  answered {answered / n:6.1%}  accident-for-wrongful {dangerous}"
            f"  wrongful flag {flag / n:6.1%}  per file {by_file}")


def run(records: list[dict], splits: list[list[int]], params: dict) -> None:
    texts = [normalize(r["subject"], r["body"]).lower() for r in records]
    labels = [r["labels"]["category"] for r in records]
    flags = [r["labels"]["wrongful"] for r in records]
    files = [r["id"].split("-")[0] for r in records]
    rules = [kinds.read_kind(t) for t in texts]
    docs = [kindmodel.features(t, k) for t, k in zip(texts, rules)]
    results = {name: ([], []) for name in POLICIES}
    gold, gold_flags, where = [], [], []
    for held in splits:
        held_set = set(held)
        train = [i for i in range(len(records)) if i not in held_set]
        model = kindmodel.train_on([docs[i] for i in train], [labels[i] for i in train], **params)
        act = kindmodel.train_on([docs[i] for i in train], ["yes" if flags[i] else "no" for i in train], **params)
        model = model._replace(act=act)
        for i in held:
            gold.append(labels[i])
            gold_flags.append(flags[i])
            where.append(files[i])
            for name, (threshold, doubt, sure, fallback, *weak) in POLICIES.items():
                decision = kindmodel.decide(model, texts[i], rules[i], threshold=threshold, doubt=doubt, sure=sure,
                                            fallback=fallback, weak=weak[0] if weak else 0.0)
                results[name][0].append(decision.kind)
                results[name][1].append(wrongful_flag(texts[i], decision) is not None)
    print(tally("rules alone (tuned on all)", labels, [k.category for k in rules],
                [k.category in WRONGFUL_CATEGORIES for k in rules], flags, files))
    for name, (predicted, wrongful) in results.items():
        print(tally(name, gold, predicted, wrongful, gold_flags, where))
    shipped = results[next(iter(POLICIES))][0]
    confusion = Counter((t, p) for t, p in zip(gold, shipped) if t != p)
    print("confusion of the shipped policy (labelled -> read, where they differ):")
    for (want, got), n in confusion.most_common():
        print(f"  {want:20} -> {got or 'unknown':20} {n}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--by-file", action="store_true", help="hold out one file at a time")
    parser.add_argument("--params", default="", help="training parameters, e.g. epochs=40,rate=0.5")
    args = parser.parse_args()
    params = {k: float(v) if "." in v or "e" in v else int(v)
              for k, v in (item.split("=") for item in args.params.split(",") if item)}
    records = [r for path in args.files for r in read(path)]
    labels = [r["labels"]["category"] for r in records]
    if args.by_file:
        prefixes = sorted({r["id"].split("-")[0] for r in records})
        splits = [[i for i, r in enumerate(records) if r["id"].startswith(p + "-")] for p in prefixes]
        print(f"{len(records)} reports, one file held out at a time ({', '.join(prefixes)})")
    else:
        splits = [fold for repeat in range(args.repeats) for fold in folds(labels, args.folds, seed=repeat)]
        print(f"{len(records)} reports, {args.folds}-fold CV x{args.repeats}")
    run(records, splits, params)


if __name__ == "__main__":
    main()
