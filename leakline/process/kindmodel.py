"""A small linear model of the kind of incident, trained on the corpus, with pure-Python inference.

Features are the presence of character runs (kanji, katakana, latin words) and character bigrams
of the prepared text, cut to the features that tell kinds apart. The weights ship in the package
(kindmodel.json.gz, a few hundred KB at most) and load once, on first use. Training is pure Python
too (`python -m leakline.process.kindmodel tests/corpus/reports_dev*.txt` writes the file).
"""

from __future__ import annotations

import gzip
import json
import math
import re
import sys
from collections import Counter
from functools import lru_cache
from importlib import resources
from typing import Callable, NamedTuple
from . import gates

MODEL_FILE = "kindmodel.json.gz"
RUNS = gates.compile(r"[一-龥々〆ヵヶ]+|[ァ-ヴー]+|[a-z][a-z'\-]+|[ぁ-ん]{2,}")
MAX_CHARS = 6_000  # the start of a report says what happened; the rest is detail and signatures


def features(text: str, cues: dict | None = None) -> set[str]:
    """Runs of one script and the bigrams inside them (prepared text), and the rules' cues
    (kinds.scores of the text, computed here unless given)."""
    text = text[:MAX_CHARS]
    found = {f"cue:{kind}" for kind in (cue_kinds(text) if cues is None else cues)}
    for run in RUNS.findall(text):
        found.add(run)
        if run[0] > "~" and len(run) > 2:
            found.update(run[i:i + 2] for i in range(len(run) - 1))
    return found


def cue_kinds(text: str) -> dict[str, int]:
    from .kinds import scores  # the rules' cues are features too
    return scores(text)[0]


class Model(NamedTuple):
    kinds: tuple[str, ...]
    bias: tuple[float, ...]
    weights: dict  # feature -> tuple of per-kind weights

    def probabilities(self, text: str, cues: dict | None = None) -> list[float]:
        totals = list(self.bias)
        for feature in features(text, cues):
            row = self.weights.get(feature)
            if row is not None:
                for i, w in enumerate(row):
                    totals[i] += w
        top = max(totals)
        exps = [math.exp(t - top) for t in totals]
        norm = sum(exps)
        return [e / norm for e in exps]

    def predict(self, text: str) -> tuple[str, float]:
        probs = self.probabilities(text)
        best = max(range(len(probs)), key=probs.__getitem__)
        return self.kinds[best], probs[best]


def _select(docs: list[set[str]], labels: list[str], keep: int) -> list[str]:
    """The features most tied to one kind (by a smoothed log-odds of presence), seen at least twice."""
    df = Counter(f for doc in docs for f in doc)
    by_kind: dict[str, Counter] = {}
    for doc, label in zip(docs, labels):
        by_kind.setdefault(label, Counter()).update(doc)
    sizes = Counter(labels)
    n = len(docs)
    score = {}
    for feature, count in df.items():
        if count < 2:
            continue
        best = 0.0
        for kind, seen in by_kind.items():
            inside = (seen[feature] + 0.5) / (sizes[kind] + 1)
            outside = (count - seen[feature] + 0.5) / (n - sizes[kind] + 1)
            best = max(best, math.log(inside / outside) * math.sqrt(seen[feature]))
        score[feature] = best
    return [f for f, _ in sorted(score.items(), key=lambda item: -item[1])[:keep]]


def train(texts: list[str], labels: list[str], *, keep: int = 3000, epochs: int = 60,
          rate: float = 1.0, l2: float = 1e-4) -> Model:
    """Multinomial logistic regression by stochastic gradient descent on presence features."""
    kinds = tuple(sorted(set(labels)))
    docs = [features(t) for t in texts]
    vocab = set(_select(docs, labels, keep))
    rows = [[f for f in doc if f in vocab] for doc in docs]
    weights: dict[str, list[float]] = {f: [0.0] * len(kinds) for f in vocab}
    bias = [0.0] * len(kinds)
    order = list(range(len(rows)))
    import random
    rng = random.Random(7)
    for epoch in range(epochs):
        rng.shuffle(order)
        step = rate / (1 + epoch * 0.2)
        for i in order:
            totals = list(bias)
            for f in rows[i]:
                for k, w in enumerate(weights[f]):
                    totals[k] += w
            top = max(totals)
            exps = [math.exp(t - top) for t in totals]
            norm = sum(exps)
            target = kinds.index(labels[i])
            grads = [e / norm - (k == target) for k, e in enumerate(exps)]
            for k, g in enumerate(grads):
                bias[k] -= step * g
            scale = 1 / math.sqrt(max(len(rows[i]), 1))
            for f in rows[i]:
                row = weights[f]
                for k, g in enumerate(grads):
                    row[k] -= step * (g * scale + l2 * row[k])
    pruned = {f: tuple(round(w, 3) for w in row) for f, row in weights.items() if max(map(abs, row)) >= 0.01}
    return Model(kinds, tuple(round(b, 3) for b in bias), pruned)


def save(model: Model, path: str) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        json.dump({"kinds": model.kinds, "bias": model.bias, "weights": model.weights}, out,
                  ensure_ascii=False, separators=(",", ":"))


@lru_cache(maxsize=1)
def load() -> Model | None:
    """The shipped model, read once; None when the package has none."""
    try:
        raw = resources.files(__package__).joinpath(MODEL_FILE).read_bytes()
    except (FileNotFoundError, OSError):
        return None
    data = json.loads(gzip.decompress(raw))
    return Model(tuple(data["kinds"]), tuple(data["bias"]), {f: tuple(w) for f, w in data["weights"].items()})


WRONGFUL = frozenset({"unauthorized_access", "malware", "theft", "insider"})
ACCIDENTS = frozenset({"misdirected_email", "misdirected_fax", "misdelivery", "wrong_display", "wrong_entry",
                       "wrong_disposal", "verbal"})


def combine(model: Model | None, text: str, rules, *, threshold: float = 0.3, doubt: float = 0.2,
            sure: int = 6) -> tuple[str | None, str]:
    """The kind: the rules' when they are sure, else the model's when it is (p >= threshold).

    Never an accident kind while the model gives the wrongful acts together `doubt` or more (that
    would drop T3), unless the rules' cues for it weigh `sure` or more and name no wrongful act;
    never a kind whose naming words the report denies. `rules` is a kinds.Kind. Returns the kind
    and why.
    """
    probs = dict(zip(model.kinds, model.probabilities(text, rules.scores))) if model else {}
    if rules.category:
        kind, why = rules.category, "rules"
    elif probs:
        kind = max(probs, key=probs.__getitem__)
        if probs[kind] < threshold:
            return None, f"model unsure ({kind} {probs[kind]:.2f})"
        if kind in rules.denied:
            return None, f"model {kind}, which the report denies"
        why = f"model {probs[kind]:.2f}"
    else:
        return None, "no cue"
    wrongful = sum(p for k, p in probs.items() if k in WRONGFUL)
    cued = any(rules.scores.get(k, 0) >= 3 for k in WRONGFUL)
    certain = why == "rules" and rules.weight >= sure and not cued
    if kind in ACCIDENTS and wrongful >= doubt and not certain:
        return None, f"{kind}, but a wrongful act is possible ({wrongful:.2f})"
    return kind, why


# Ways to decide, compared by bench/kind_cv.py: (model, text, kinds.Kind) -> kind or None.
Decide = Callable[[Model, str, object], "str | None"]


def _combined(threshold: float, doubt: float, sure: int = 99) -> Decide:
    return lambda model, text, rules: combine(model, text, rules, threshold=threshold, doubt=doubt, sure=sure)[0]


def _rules_then(threshold: float) -> Decide:
    def decide(model: Model, text: str, rules) -> str | None:
        if rules.category:
            return rules.category
        kind, p = model.predict(text)
        return kind if p >= threshold else None
    return decide


APPROACHES: dict[str, Decide] = {
    "model": lambda model, text, rules: model.predict(text)[0],
    "model p>=0.5": lambda model, text, rules: (lambda k, p: k if p >= 0.5 else None)(*model.predict(text)),
    "rules, else model": _rules_then(0.0),
    "rules, else model p>=0.5": _rules_then(0.5),
    "rules/model t=0.3, no guard": _combined(0.3, 1.01),
    "rules/model t=0.3, guard 0.2": _combined(0.3, 0.2),
    "rules/model t=0.3, guard 0.2 unless rules>=6": _combined(0.3, 0.2, 6),
    "rules/model t=0.3, guard 0.3 unless rules>=6": _combined(0.3, 0.3, 6),
    "rules/model t=0.4, guard 0.2 unless rules>=6": _combined(0.4, 0.2, 6),
}


if __name__ == "__main__":  # python -m leakline.process.kindmodel CORPUS... -> the shipped model
    sys.path.insert(0, "tests")
    from corpus.score import read
    from leakline.process.extract import normalize
    records = [r for path in sys.argv[1:] for r in read(path)]
    model = train([normalize(r["subject"], r["body"]).lower() for r in records],
                  [r["labels"]["category"] for r in records])
    target = str(resources.files(__package__).joinpath(MODEL_FILE))
    save(model, target)
    print(f"{len(records)} reports, {len(model.weights)} features -> {target}")
