"""Counts of persons stated in text: 約1,200件, 120名分, 千二百人, １２０名, about 2,000 customers."""

from __future__ import annotations

import re

# Matched on NFKC-normalised, lower-cased text. NOT_PERSONS_AFTER is used with match() at a
# position, which anchors there, so it has no "^".
JA_NUMBER = r"[0-9][0-9,.]*(?:[万千][0-9〇一二三四五六七八九十百千]*)?|[〇一二三四五六七八九十百千万]+"
JA_COUNT = re.compile(rf"(?P<pre>約|およそ|概ね|おおよそ|推定|最大|少なくとも)?\s*(?<!数)(?P<num>{JA_NUMBER})\s*"
                      r"(?P<unit>名|人|件)(?:分)?(?P<post>程度|ほど|前後|以上|超|余り|あまり|強|弱)?")
EN_COUNT = re.compile(r"(?P<pre>about|approximately|approx\.?|around|roughly|an estimated|estimated|up to"
                      r"|nearly|almost|over|more than|at least|some)?\s*"
                      r"\b(?P<num>\d[\d,]*|(?:a )?single|one|two|three|four|five|six|seven|eight|nine|ten)"
                      r"\s+(?:[a-z\-]+\s+){0,2}?"
                      r"(?P<unit>customers?|people|persons?|individuals?|records?|patients?|employees?|members?"
                      r"|users?|students?|applicants?|clients?|subscribers?|entries|recipients?|residents?"
                      r"|guests?|children|parents|candidates|staff)\b")
# Counts of mails, letters or people on our side are not persons affected.
NOT_PERSONS_AFTER = re.compile(r"\s*(の)?(メール(?!アドレス)|通|回|枚|台|日|社員|担当)")

KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}
ENGLISH_NUMBERS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten".split())}
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
LARGE_UNITS = {"万": 10_000}


def parse_number(text: str) -> int:
    """1,200 / 1.2万 / 1万2千 / 千二百 / 一二〇 / one / a single as an int."""
    if text in ENGLISH_NUMBERS or text.endswith("single"):
        return ENGLISH_NUMBERS.get(text, 1)
    total, section, number = 0, 0, None
    for token in re.findall(r"\d+(?:\.\d+)?|[〇一二三四五六七八九十百千万]", text.replace(",", "")):
        if token in SMALL_UNITS:
            section += (1 if number is None else number) * SMALL_UNITS[token]
            number = None
        elif token in LARGE_UNITS:
            total += ((section + (number or 0)) or 1) * LARGE_UNITS[token]
            section, number = 0, None
        else:
            digit = KANJI_DIGITS[token] if token in KANJI_DIGITS else float(token)
            number = digit if number is None or token not in KANJI_DIGITS else number * 10 + digit
    return round(total + section + (number or 0))


def counts(text: str) -> list[tuple[int, bool, str]]:
    """Every stated count of persons or records: (number, estimated, words)."""
    found = []
    for pattern in (JA_COUNT, EN_COUNT):
        for match in pattern.finditer(text):
            if pattern is JA_COUNT and NOT_PERSONS_AFTER.match(text, match.end()):
                continue
            estimated = bool(match.group("pre") or match.groupdict().get("post"))
            found.append((parse_number(match.group("num")), estimated, match.group(0).strip()))
    return found
