"""A small linear model of the kind of incident, trained on the corpus, with pure-Python inference.

Features are the presence of character runs of one script (kanji, katakana, latin words, hiragana)
and the rules' cues (kinds.py): which kinds they weigh for and which cue patterns were found, so
the model learns how far to trust each cue. Bigrams inside runs and the tokens of a morphological
analyser were measured and left out: they did not raise cross-validated accuracy (bench/RESULTS.md).
The weights ship in the package (kindmodel.json.gz) and load once, on first use. Training is pure
Python (`python -m leakline.process.kindmodel tests/corpus/reports_dev*.txt` writes the file).
"""

from __future__ import annotations

import gzip
import json
import math
import random
import sys
from collections import Counter
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from . import gates

MODEL_FILE = "kindmodel.json.gz"
RUNS = gates.compile(r"[一-龥々〆ヵヶ]+|[ァ-ヴー]+|[a-z][a-z'\-]+|[ぁ-ん]{2,}")
MAX_CHARS = 6_000  # the start of a report says what happened; the rest is detail and signatures


def features(text: str, rules=None) -> set[str]:
    """Runs of one script in prepared text and the rules' cues (a kinds.Kind, read here unless given)."""
    if rules is None:
        from .kinds import read_kind
        rules = read_kind(text)
    found = set(RUNS.findall(text[:MAX_CHARS]))
    found.update(f"cue:{kind}" for kind in rules.scores)
    found.update(f"hit:{name}" for name in rules.hits)
    return found


class Model(NamedTuple):
    kinds: tuple[str, ...]
    bias: tuple[float, ...]
    weights: dict  # feature -> tuple of per-kind weights
    act: "Model | None" = None  # a second head: whether the event may have a wrongful purpose ("yes"/"no")

    def probabilities(self, text: str, rules=None) -> dict[str, float]:
        return self.of(features(text, rules))

    def of(self, found: set[str]) -> dict[str, float]:
        """The probability of each kind given a text's features."""
        rows = [row for row in map(self.weights.get, found) if row is not None]
        totals = [b + sum(column) for b, column in zip(self.bias, zip(*rows))] if rows else list(self.bias)
        top = max(totals)
        exps = [math.exp(t - top) for t in totals]
        norm = sum(exps)
        return {kind: e / norm for kind, e in zip(self.kinds, exps)}


def _softmax_gradient(totals: list[float], target: int) -> list[float]:
    top = max(totals)
    exps = [math.exp(t - top) for t in totals]
    norm = sum(exps)
    return [e / norm - (k == target) for k, e in enumerate(exps)]


def train(texts: list[str], labels: list[str], **params) -> Model:
    """Multinomial logistic regression on the features of `texts` (see `train_on`)."""
    return train_on([features(t) for t in texts], labels, **params)


def train_on(docs: list[set[str]], labels: list[str], *, epochs: int = 40, rate: float = 0.5, l2: float = 1e-4,
             min_count: int = 2, seed: int = 7) -> Model:
    """Multinomial logistic regression by stochastic gradient descent on presence features, each
    kind weighted by the inverse of its frequency (rare kinds such as misuse count as much)."""
    kinds = tuple(sorted(set(labels)))
    seen = Counter(f for doc in docs for f in doc)
    rows = [[f for f in doc if seen[f] >= min_count] for doc in docs]
    sizes = Counter(labels)
    balance = {kind: len(labels) / (len(kinds) * n) for kind, n in sizes.items()}
    weights = {f: [0.0] * len(kinds) for f, n in seen.items() if n >= min_count}
    bias = [0.0] * len(kinds)
    order = list(range(len(rows)))
    rng = random.Random(seed)
    for epoch in range(epochs):
        rng.shuffle(order)
        step = rate / (1 + epoch * 0.2)
        for i in order:
            totals = list(bias)
            for f in rows[i]:
                totals = [t + w for t, w in zip(totals, weights[f])]
            grads = [g * balance[labels[i]] for g in _softmax_gradient(totals, kinds.index(labels[i]))]
            bias = [b - step * g for b, g in zip(bias, grads)]
            scale = step / math.sqrt(max(len(rows[i]), 1))
            for f in rows[i]:
                row = weights[f]
                weights[f] = [w - scale * g - step * l2 * w for w, g in zip(row, grads)]
    pruned = {f: tuple(round(w, 3) for w in row) for f, row in weights.items() if max(map(abs, row)) >= 0.01}
    return Model(kinds, tuple(round(b, 3) for b in bias), pruned)


def _plain(model: Model) -> dict:
    data = {"kinds": model.kinds, "bias": model.bias, "weights": model.weights}
    return {**data, "act": _plain(model.act)} if model.act else data


def _model(data: dict) -> Model:
    act = _model(data["act"]) if data.get("act") else None
    return Model(tuple(data["kinds"]), tuple(data["bias"]), {f: tuple(w) for f, w in data["weights"].items()}, act)


def save(model: Model, path: str) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        json.dump(_plain(model), out, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@lru_cache(maxsize=1)
def load() -> Model | None:
    """The shipped model, read once; None when the package has none."""
    try:
        raw = resources.files(__package__).joinpath(MODEL_FILE).read_bytes()
    except (FileNotFoundError, OSError):
        return None
    return _model(json.loads(gzip.decompress(raw)))


WRONGFUL = frozenset({"unauthorized_access", "malware", "theft", "insider"})
ACCIDENTS = frozenset({"misdirected_email", "misdirected_fax", "misdelivery", "wrong_display", "wrong_entry",
                       "wrong_disposal", "verbal"})


class Decision(NamedTuple):
    kind: str | None
    why: str
    wrongful: float  # the probability of the wrongful kinds together, whatever the kind
    act: float = 0.0  # the second head's probability that the event may have a wrongful purpose


def _cued(rules) -> bool:
    return any(rules.scores.get(k, 0) >= 3 for k in WRONGFUL)


def _withheld(kind: str, wrongful: float, rules, doubt: float, sure: int, by_rules: bool) -> bool:
    """An accident kind is withheld while a wrongful act is possible: the model gives the wrongful
    kinds `doubt` or more, or (for a kind the rules chose) a rule cues one. The rules' own kind,
    named by cues of weight `sure` or more with no wrongful cue, stands against the model's doubt (a
    short report gives the model little to go on)."""
    if kind not in ACCIDENTS:
        return False
    if _cued(rules):
        return by_rules or wrongful >= doubt
    return wrongful >= doubt and not (rules.category == kind and rules.weight >= sure)


def decide(model: Model | None, text: str, rules, *, threshold: float = 0.3, doubt: float = 0.2, sure: int = 6,
           fallback: bool = True, weak: float = 0.5) -> Decision:
    """The kind: the model's when it is sure enough (p >= threshold), with the rules' cues among its
    features; when the model is unsure and the rules name a kind (`fallback`), the rules' kind, and
    the rules' kind named by cues of weight `sure` over a model below `weak` that gives it 0.2 or more.
    Never an accident kind that `_withheld` holds back (it would drop T3), never a kind whose naming
    words the report denies. `rules` is a kinds.Kind. Without a model, the rules' kind, guarded."""
    if model is None:
        if rules.category and _withheld(rules.category, 1.0, rules, doubt, sure, True):
            return Decision(None, f"{rules.category}, but a wrongful act is cued", 1.0)
        return Decision(rules.category, f"rules: matched {rules.words}" if rules.category else "no cue", 0.0)
    found = features(text, rules)
    probs = model.of(found)
    kind = max(probs, key=probs.__getitem__)
    wrongful = sum(p for k, p in probs.items() if k in WRONGFUL)
    act = model.act.of(found).get("yes", 0.0) if model.act else 0.0
    if rules.denied & WRONGFUL:
        act = 0.0  # "感染は確認されませんでした": the report denies the wrongful act the head would see
    said = f"model {kind} {probs[kind]:.2f}" + (f", cues {rules.words}" if rules.words else "")
    by_rules = probs[kind] < threshold or (
        probs[kind] < weak and rules.category and rules.weight >= sure and probs.get(rules.category, 0) >= 0.2)
    if by_rules:
        if not (fallback and rules.category):
            return Decision(None, f"model unsure ({said})", wrongful, act)
        kind, said = rules.category, f"rules: matched {rules.words} (model unsure: {said})"
    if kind in rules.denied:
        return Decision(None, f"{said}, which the report denies", wrongful, act)
    if _withheld(kind, wrongful, rules, doubt, sure, by_rules):
        return Decision(None, f"{said}, but a wrongful act is possible ({wrongful:.2f})", wrongful, act)
    return Decision(kind, said, wrongful, act)


if __name__ == "__main__":  # python -m leakline.process.kindmodel CORPUS... -> the shipped model
    sys.path.insert(0, "tests")
    from corpus.score import read
    from leakline.process.extract import normalize
    records = [r for path in sys.argv[1:] for r in read(path)]
    docs = [features(normalize(r["subject"], r["body"]).lower()) for r in records]
    act = train_on(docs, ["yes" if r["labels"]["wrongful"] else "no" for r in records])
    model = train_on(docs, [r["labels"]["category"] for r in records])._replace(act=act)
    target = str(resources.files(__package__).joinpath(MODEL_FILE))
    save(model, target)
    print(f"{len(records)} reports, {len(model.weights)} features -> {target}")
