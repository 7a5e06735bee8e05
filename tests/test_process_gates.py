"""Faster patterns must find exactly what plain `re` finds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from corpus.score import read
from leakline.process import counts, dates, gates, kinds, lexicon, othercounts
from leakline.process.extract import normalize

CORPUS = sorted(Path(__file__).parent.joinpath("corpus").glob("reports_dev*.txt"))
TEXTS = [normalize(r["subject"], r["body"]).lower() for path in CORPUS for r in read(path)[::15]]
PATTERNS = [p for _, _, p in kinds.COMPILED] + [lexicon._compiled(rule)[0] for rule in lexicon.DATA_ITEM_RULES] + [
    counts.JA_COUNT, counts.EN_COUNT, othercounts.OTHER_COUNTS, dates.DATES, dates.DISCOVERY]


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.pattern[:30])
def test_a_gated_or_prefiltered_pattern_finds_what_re_finds(pattern):
    plain = re.compile(pattern.pattern, pattern.flags)
    for text in TEXTS:
        assert [m.span() for m in pattern.finditer(text)] == [m.span() for m in plain.finditer(text)]
        found, wanted = pattern.search(text, 40), plain.search(text, 40)
        assert (found and found.span()) == (wanted and wanted.span())


def test_prefiltered_overlapping_words_and_lookbehinds():
    pattern = gates.build(r"ab(?:x)|bc|(?<![a-z])cd")
    assert isinstance(pattern, gates.Prefiltered)
    assert [m.group(0) for m in pattern.finditer("abc cd xcd")] == ["bc", "cd"]  # bc overlaps ab; xcd has a letter before


def test_a_trie_matches_every_word():
    words = {"customer", "customers", "card", "people", "誤送信", "誤添付", "a"}
    trie = re.compile(gates.trie(words))
    assert all(trie.match(word) for word in words)
    assert not trie.match("bcd")


def test_counts_and_dates_read_in_windows_are_those_of_the_whole_text():
    texts = TEXTS + ["about 2,000 customers and 40-45 patients; 数百名; 顧客120名、従業員30名", "先週金曜の14時に気づきました"]
    for text in texts:
        whole = [m.span() for m in counts.JA_COUNT.finditer(text)]
        near = [m.span() for m in gates.near(counts.JA_COUNT, text, [m.span() for m in counts.JA_UNIT_NEAR.finditer(text)],
                                              counts.JA_REACH)]
        assert whole == near
