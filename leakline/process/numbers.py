"""Numbers written every way (1,200 / 1.2万 / 千二百 / twenty-five / 数百), the nouns that count persons,
and what a count is: the vocabulary that counts.py and othercounts.py read counts with.

Text is NFKC-normalised and lower-cased first (see `prepare`), so full-width digits are ASCII here.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "壱": 1, "弐": 2, "参": 3, "两": 2}
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
LARGE_UNITS = {"万": 10_000, "億": 100_000_000}
ENGLISH_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
                                                      "seventy": 70, "eighty": 80, "ninety": 90, "a dozen": 12,
                                                      "a single": 1, "single": 1, "a hundred": 100,
                                                      "a thousand": 1000, "half a dozen": 6, "a couple of": 2, "two dozen": 24,
                                                      "three dozen": 36}
# Orders of magnitude only (数百 "several hundred"): no count, but a bound for the law's largest number.
MAGNITUDES = {"十数": 19, "数十": 99, "数百": 999, "数千": 9_999, "数万": 99_999, "数十万": 999_999, "数百万": 9_999_999,
              "何十": 99, "何百": 999, "何千": 9_999, "何万": 99_999,
              "dozens": 99, "several dozen": 99, "tens": 99, "several hundred": 999, "hundreds": 999,
              "several thousand": 9_999, "thousands": 9_999, "a few dozen": 99, "a few hundred": 999,
              "a few thousand": 9_999, "tens of thousands": 99_999,
              "several tens of thousands": 99_999, "hundreds of thousands": 999_999}

_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_KANJI = r"[〇一二三四五六七八九十百千万億零壱弐参]+"
JA_NUMBER = rf"(?:{_DIGITS})(?:[万千百億](?:\d+)?)*|{_KANJI}"
_EN_WORD = "|".join(sorted((w for w in ENGLISH_NUMBERS if w != "zero"), key=len, reverse=True))
# How far before its unit a count can start: counts are read in windows this wide around units.
JA_REACH, EN_REACH = 40, 110
_EN_SMALL = rf"(?:{_EN_WORD})(?:[ -](?:one|two|three|four|five|six|seven|eight|nine))?"
# A scale after the number (three thousand, 1.5 million, one hundred and twenty): never read as its first word.
_EN_SCALE = rf"(?:\s+(?:hundred|thousand|million)(?:\s+(?:and\s+)?{_EN_SMALL}(?=\s))?){{1,2}}"
EN_NUMBER = rf"(?:{_DIGITS}|{_EN_SMALL})(?:{_EN_SCALE})?"
EN_PERSONS = (r"customers?|people|persons?|individuals?|records?|patients?|employees?|members?|users?"
              r"|students?|pupils?|applicants?|clients?|subscribers?|entries|recipients?|residents?|guests?"
              r"|children|parents|candidates|staff|attendees|participants|policyholders?|households?"
              r"|tenants?|families|accounts?|contacts?|donors?|visitors?|passengers?|consumers?|owners?"
              r"|borrowers?|account holders?|cardholders?|job seekers?|volunteers?|workers?|alumni|end-?users?"
              r"|learners?|trainees?|travell?ers?|tourists?|registrants?|invitees?|enrollees?|buyers?|purchasers?"
              r"|prospects?|sellers?|guarantors?|lessees?|claimants?|debtors?|creditors?|shareholders?|investors?|beneficiar(?:y|ies)|charts?|rows|(?:e-?mail )?addresses|bookings?|reservations?|cards?")


SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
ENGLISH_SCALED = re.compile(r"(?P<head>[\d,.]+|[a-z][a-z \-]*?)\s+(?P<s1>hundred|thousand|million)(?:\s+(?P<s2>thousand|million))?"
                            r"(?:\s+(?:and\s+)?(?P<tail>[a-z][a-z\-]*(?:[ -][a-z]+)?))?")


class Count(NamedTuple):
    """One stated count: the number (None for an order of magnitude only), how it was qualified."""

    number: int | None
    estimated: bool
    over: bool
    maximum: int | None
    words: str
    strength: int  # 2: persons (名, 人, customers), 1: records (件, accounts)
    start: int = -1  # where the words stand in the text read
    end: int = -1


class Persons(NamedTuple):
    """The persons facts a text supports, and the words that said so."""

    persons: int | None
    estimated: bool
    over: bool
    maximum: int | None
    words: str

    def facts(self) -> dict:
        return {"persons": self.persons, "persons_estimated": self.estimated,
                "persons_over": self.over, "persons_max": self.maximum}


def prepare(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def parse_number(text: str) -> int:
    """1,200 / 1.2万 / 1万2千 / 千二百 / 一二〇 / one / a single / twenty-five as an int."""
    text = text.strip().lower()
    if text in ENGLISH_NUMBERS:
        return ENGLISH_NUMBERS[text]
    scaled = ENGLISH_SCALED.fullmatch(text)
    if scaled:  # twelve hundred, three thousand, 1.5 million, one hundred and twenty
        head = scaled.group("head")
        number = float(head.replace(",", "")) if head[0].isdigit() else 1 if head == "a" else parse_number(head)
        for scale in (scaled.group("s1"), scaled.group("s2")):
            number *= SCALES.get(scale, 1)
        return round(number + (parse_number(scaled.group("tail")) if scaled.group("tail") else 0))
    if re.fullmatch(r"[a-z]+[ -][a-z]+", text):  # twenty-five
        tens, ones = re.split(r"[ -]", text)
        return ENGLISH_NUMBERS.get(tens, 0) + ENGLISH_NUMBERS.get(ones, 0)
    total, section, number = 0, 0, None
    for token in re.findall(r"\d+(?:\.\d+)?|[〇一二三四五六七八九十百千万億零壱弐参两]", text.replace(",", "")):
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
