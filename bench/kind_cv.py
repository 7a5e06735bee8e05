"""Cross-validate ways to read the kind of incident on the development corpus (needs scikit-learn).

    .venv/bin/python bench/kind_cv.py tests/corpus/reports_dev*.txt [--folds 5] [--repeats 3]

Prints, per approach, the accuracy (unknown counts as wrong), how often it answers, and the
dangerous errors: an accident kind where the label is a wrongful act (that would remove T3).
Rules are not trained, so their figure is on every report; they were tuned on this corpus.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from corpus.score import read  # noqa: E402
from leakline.process import kinds, kindmodel  # noqa: E402
from leakline.process.extract import normalize  # noqa: E402
from leakline.process.facts import ACCIDENT_CATEGORIES, WRONGFUL_CATEGORIES  # noqa: E402


def folds(labels: list[str], k: int, seed: int) -> list[list[int]]:
    """Stratified folds: each kind spread over the folds."""
    import random
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


def tally(name: str, labels: list[str], predicted: list[str | None]) -> str:
    n = len(labels)
    right = sum(p == t for p, t in zip(predicted, labels))
    answered = sum(p is not None for p in predicted)
    precise = right / answered if answered else 0
    dangerous = sum(p in ACCIDENT_CATEGORIES and t in WRONGFUL_CATEGORIES for p, t in zip(predicted, labels))
    return (f"{name:34} accuracy {right / n:6.1%}  answered {answered / n:6.1%}  precision {precise:6.1%}"
            f"  accident-for-wrongful {dangerous}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--params", default="", help="training parameters, e.g. keep=3000,epochs=30")
    parser.add_argument("--test", action="append", default=[], help="train on FILES, score on this file")
    args = parser.parse_args()
    params = {k: float(v) if "." in v or "e" in v else int(v)
              for k, v in (item.split("=") for item in args.params.split(",") if item)}
    if args.test:
        return holdout(args.files, args.test)
    records = [r for path in args.files for r in read(path)]
    texts = [normalize(r["subject"], r["body"]).lower() for r in records]
    labels = [r["labels"]["category"] for r in records]
    kinds_read = [kinds.read_kind(t) for t in texts]
    rules = [k.category for k in kinds_read]
    print(f"{len(records)} reports, {args.folds}-fold CV x{args.repeats}")
    print(tally("rules (tuned on all)", labels, rules))
    approaches = {name: [] for name in kindmodel.APPROACHES}
    gold: list[str] = []
    for repeat in range(args.repeats):
        for fold in folds(labels, args.folds, seed=repeat):
            held = set(fold)
            train = [i for i in range(len(records)) if i not in held]
            model = kindmodel.train([texts[i] for i in train], [labels[i] for i in train], **params)
            for i in fold:
                gold.append(labels[i])
                for name, decide in kindmodel.APPROACHES.items():
                    approaches[name].append(decide(model, texts[i], kinds_read[i]))
    for name, predicted in approaches.items():
        print(tally(name, gold, predicted))


def holdout(train_files: list[str], test_files: list[str]) -> None:
    train = [r for path in train_files for r in read(path)]
    test = [r for path in test_files for r in read(path)]
    model = kindmodel.train([normalize(r["subject"], r["body"]).lower() for r in train],
                            [r["labels"]["category"] for r in train])
    texts = [normalize(r["subject"], r["body"]).lower() for r in test]
    labels = [r["labels"]["category"] for r in test]
    kinds_read = [kinds.read_kind(t) for t in texts]
    rules = [k.category for k in kinds_read]
    print(f"trained on {len(train)}, scored on {len(test)}")
    print(tally("rules", labels, rules))
    for name, decide in kindmodel.APPROACHES.items():
        print(tally(name, labels, [decide(model, t, r) for t, r in zip(texts, kinds_read)]))


if __name__ == "__main__":
    main()
