"""Dates and times as people write them, and which of them says when a leak was discovered.

2026年3月5日, 令和8年3月5日, 3/5, 3月5日(木), 昨日, 一昨日, 先週金曜, 金曜の夕方, 3日前, 14時, 午後3時,
yesterday, last Friday, on Friday, March 5, 5 March, 2 days ago, 3 pm. A date without a year is the
latest such date not after the day of reference (a discovery lies in the past). Text is NFKC-normalised
and lower-cased (counts.prepare).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from datetime import date, datetime, time, timedelta, tzinfo
from typing import NamedTuple

from . import gates
from .counts import prepare

MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
WEEKDAYS_JA = "月火水木金土日"
WEEKDAYS_EN = "monday tuesday wednesday thursday friday saturday sunday".split()
_MONTH = r"(?<![a-z])(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_WD_EN = r"(?P<wd>mon|tues|wednes|thurs|fri|satur|sun)day\b"
DATE_PATTERNS = (
    ("era", r"(?:令和|r)\s*(?P<y>\d{1,2}|元)\s*[年.]\s*(?P<m>\d{1,2})\s*[月.]\s*(?P<d>\d{1,2})\s*日?"),
    ("ymd", r"(?<!\d)(?P<y>20\d\d)\s*[年/.-]\s*(?P<m>\d{1,2})\s*[月/.-]\s*(?P<d>\d{1,2})(?!\d)\s*日?"),
    ("md", r"(?<![\d/.])(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"),
    ("md", r"(?<![\d/.:,\-])(?P<m>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])(?![\d/%])"),
    ("mdy_en", rf"{_MONTH}\s+(?P<d>\d{{1,2}})(?!\d)(?:st|nd|rd|th)?,?(?:\s+(?P<y>20\d\d))?"),
    ("dmy_en", rf"(?<!\d)(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?(?:\s+(?P<y>20\d\d))?"),
    ("this_month", r"(?:今月|先月)\s*(?P<d>\d{1,2})\s*日"),
    ("ago", r"(?P<n>\d{1,2}|[一二三四五六七])\s*日前|(?P<en>\d{1,2}|two|three|four|five|six) days ago"),
    ("weekday", rf"(?P<last>先週|前週|今週|last\s+|this\s+|on\s+|past\s+)?(?:の\s*)?"
                rf"(?:(?P<wj>[月火水木金土日])曜(?:日)?|{_WD_EN})"),
    ("relative", r"一昨日|おととい|一昨晩|一昨夜|昨日|昨夜|昨晩|昨夕|きのう|ゆうべ|今朝|今日|本日|きょう|今夜|今晩"
                 r"|the day before yesterday|yesterday|last night|this morning|today|tonight|this afternoon"),
)
DATES = gates.compile("|".join(f"(?P<k{i}>{p.replace('(?P<', f'(?P<g{i}_')})" for i, (_, p) in enumerate(DATE_PATTERNS)))
KINDS = [kind for kind, _ in DATE_PATTERNS]
RELATIVE_DAYS = {"一昨日": 2, "おととい": 2, "一昨晩": 2, "一昨夜": 2, "the day before yesterday": 2,
                 "昨日": 1, "昨夜": 1, "昨晩": 1, "昨夕": 1, "きのう": 1, "ゆうべ": 1, "yesterday": 1,
                 "last night": 1}
KANJI_SMALL = {c: i for i, c in enumerate("〇一二三四五六七", start=0)}
EN_SMALL = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}

TIMES = gates.compile(
    r"(?P<ampm_ja>午前|午後|朝|夕方|夜|深夜)?\s*(?<![\d.:/])(?P<h>\d{1,2})\s*(?:"
    r":(?P<mi>[0-5]\d)(?::\d\d)?(?!\d)\s*(?P<ap>[ap]\.?m\.?)?"
    r"|時\s*(?:(?P<mk>\d{1,2})\s*分|(?P<half>半))?"
    r"|\s*(?P<ap2>[ap]\.?m\.?)(?![a-z]))")


class Stated(NamedTuple):
    """A date stated in text: the day it means, the time when one was given, where it stands."""

    day: date
    at: time | None
    start: int
    end: int
    words: str
    yearless: bool = False  # 3/20 with no year: may mean a coming date, read as last year's


def _latest(month: int, day: int, today: date, year: int | None = None) -> date | None:
    """The date; without a year, the latest one not after `today`."""
    try:
        if year is not None:
            return date(year, month, day)
        found = date(today.year, month, day)
        return found if found <= today else date(today.year - 1, month, day)
    except ValueError:
        return None


def _weekday(index: int, last: str, today: date) -> date:
    back = (today.weekday() - index) % 7
    if last in ("先週", "前週", "last"):
        # 先週金曜: the Friday of the previous calendar week (weeks start on Monday).
        return today - timedelta(days=today.weekday() + 7 - index)
    return today - timedelta(days=back)


def _weekday_index(groups: dict) -> int:
    if groups.get("wj"):
        return WEEKDAYS_JA.index(groups["wj"])
    return next(i for i, name in enumerate(WEEKDAYS_EN) if name.startswith(groups["wd"][:3]))


def _day(kind: str, g: dict, words: str, today: date) -> date | None:
    if kind == "relative":
        return today - timedelta(days=RELATIVE_DAYS.get(words, 0))
    if kind == "era":
        return _latest(int(g["m"]), int(g["d"]), today, 2018 + (1 if g["y"] == "元" else int(g["y"])))
    if kind in ("ymd", "md", "mdy_en", "dmy_en"):
        month = MONTHS.index(g["mon"][:3]) + 1 if g.get("mon") else int(g["m"])
        return _latest(month, int(g["d"]), today, int(g["y"]) if g.get("y") else None)
    if kind == "this_month":
        first = today.replace(day=1)
        if words.startswith("先月"):
            first = (first - timedelta(days=1)).replace(day=1)
        try:
            return first.replace(day=int(g["d"]))
        except ValueError:
            return None
    if kind == "ago":
        n = g.get("n") or g.get("en")
        return today - timedelta(days=KANJI_SMALL.get(n) or EN_SMALL.get(n) or int(n))
    if kind == "weekday":
        return _weekday(_weekday_index(g), (g.get("last") or "").strip(), today)
    return None


def _time_near(text: str, start: int, end: int, limit: int | None = None) -> time | None:
    """A time written right after the date, in its sentence (ending at `limit`): 3月5日 14時, yesterday at 3 pm."""
    window = re.sub(r"^\s*[(（][月火水木金土日a-z]{1,3}[)）]", "", text[end:min(end + 20, limit or len(text))])
    match = TIMES.search(window)
    if not match or window[:match.start()].strip(" 、,の(（)）at頃ごろに") not in ("",):
        return None
    g = match.groupdict()
    hour, minute = int(g["h"]), int(g["mi"] or g["mk"] or 0) + (30 if g["half"] else 0)
    ampm = (g["ap"] or g["ap2"] or "").replace(".", "")
    if (ampm.startswith("p") or g["ampm_ja"] in ("午後", "夕方", "夜")) and hour < 12:
        hour += 12
    elif ampm.startswith("a") and hour == 12:
        hour = 0
    return time(hour, minute) if hour < 24 and minute < 60 else None


# Each kind's groups in DATES: (name in the combined pattern, name in the kind's own pattern).
GROUPS = [[(name, name.split("_", 1)[1]) for name in DATES.groupindex if name.startswith(f"g{i}_")]
          for i in range(len(DATE_PATTERNS))]


def dates_in(text: str, today: date, ends: list[int] | None = None, start: int = 0,
             end: int | None = None) -> list[Stated]:
    """Every date the text states (between `start` and `end`), read relative to `today` (the day of
    reference). With `ends` (sorted sentence ends), a time is looked for only in the date's sentence."""
    found = []
    for match in DATES.finditer(text, start, len(text) if end is None else end):
        index = int(match.lastgroup[1:])
        groups = {short: match.group(full) for full, short in GROUPS[index] if match.group(full)}
        day = _day(KINDS[index], groups, match.group(0).strip(), today)
        if day is not None:
            yearless = KINDS[index] in ("md", "mdy_en", "dmy_en") and not groups.get("y")
            limit = ends[bisect_left(ends, match.end())] if ends and match.end() <= ends[-1] else None
            found.append(Stated(day, _time_near(text, match.start(), match.end(), limit), match.start(),
                                match.end(), match.group(0).strip(), yearless))
    return found


TIME_COLON = gates.compile(r"(?<!\d)(\d{1,2}):(\d{2})(?::\d{2})?")
TIME_KANJI = gates.compile(r"(?<!\d)(\d{1,2})\s*時\s*(?:(\d{1,2})\s*分|(半))?")
TIME_AMPM = gates.compile(r"(?<!\d)(\d{1,2})\s*([ap])\.?m\b")
PM = gates.compile(r"午後|夕方|(?<![a-z])p\.?m(?![a-z])")
AM = gates.compile(r"午前|(?<![a-z])a\.?m(?![a-z])")


def time_in(text: str) -> time | None:
    """The time of day in a short text (a fact-form answer): 14時, 14:30, 午後2時半, 2:15 pm, 9am."""
    colon, kanji, ampm = TIME_COLON.search(text), None, None
    if colon is None:
        kanji = TIME_KANJI.search(text)
        ampm = TIME_AMPM.search(text) if kanji is None else None
    match = colon or kanji or ampm
    if not match:
        return None
    hour, minute = int(match.group(1)), 0
    if colon:
        minute = int(colon.group(2))
    elif kanji:
        minute = 30 if kanji.group(3) else int(kanji.group(2) or 0)
    pm = PM.search(text) or (ampm is not None and ampm.group(2) == "p")
    if pm and hour < 12:
        hour += 12
    elif AM.search(text) and hour == 12:
        hour = 0
    return time(hour, minute) if hour < 24 and minute < 60 else None


def read_answer(value: str, today: date, tz: tzinfo) -> str | None:
    """A fact-form answer as an ISO date-time in `tz`: a date alone is midnight, a time alone today."""
    text = prepare(value)
    stated = dates_in(text, today)
    day = stated[0].day if stated else None
    rest = text[:stated[0].start] + " " + text[stated[0].end:] if stated else text
    at = time_in(rest)
    if day is None and at is None:
        return None
    return datetime.combine(day or today, at or time(0), tzinfo=tz).isoformat()


def moment(day: date, at: time | None, tz: tzinfo) -> str:
    """ISO text for a stated moment: a date alone stays a date, a time makes a date-time in `tz`."""
    return day.isoformat() if at is None else datetime.combine(day, at, tzinfo=tz).isoformat()


# ---- which date is the discovery ----

DISCOVERY = gates.compile(
    r"気(?:づ|付)|判明|発覚|発見|見つか|見当たら|わかり|分かり|わかった|分かった|確認したところ|確認され|確認しました"
    r"|連絡(?:を受け|があ|が入|をいただ|を頂|が来|がき)|指摘|申し出|問い合わせ|問合せ|通報|報告(?:を受け|があ)|届いたと"
    r"|notic|discover|found|realis|realiz|learn|told us|told me|informed|alerted|called us|contacted us|spotted"
    r"|came to light|flagged|reported|complain|let us know|got a call|rang")
SENTENCE_END = gates.compile(r"[。!?！？\n]|\.(?:\s|$)")


def _sentence(text: str, start: int, end: int) -> str:
    left = max((m.end() for m in SENTENCE_END.finditer(text, max(start - 200, 0), start)), default=max(start - 200, 0))
    right = SENTENCE_END.search(text, end)
    return text[left:right.start() if right else min(end + 200, len(text))]


YEARLESS_REACH = timedelta(days=180)  # "3月20日" further back than this is a coming date, not a discovery


def _plausible(found: list[Stated], today: date) -> list[Stated]:
    return [s for s in found if not (s.yearless and today - s.day > YEARLESS_REACH)]


def discovery(text: str, received: datetime, tz: tzinfo) -> tuple[str, str] | None:
    """When the text says the problem was noticed, if that is before `received`, with the words.

    Dates in a sentence that speaks of noticing (気づいた, 判明, a call from a customer, "found")
    count first; the earliest of them wins. A report with no such sentence gives the earliest date
    of the text that lies before the receipt: reports tell what happened when it was noticed.
    """
    local = received.astimezone(tz)

    def before(found: list[Stated]) -> list[Stated]:
        return [s for s in found if datetime.combine(s.day, s.at or time(0), tzinfo=tz) < local]

    # Dates are read first in the sentences that speak of noticing (a fraction of the text); in
    # each, the date nearest the word of noticing is the discovery ("2月20日に送ったメールについて、
    # 昨日連絡があり判明": yesterday), and the earliest of those wins.
    marks = [m.span() for m in SENTENCE_END.finditer(text)]
    starts, ends = [a for a, _ in marks], [b for _, b in marks]
    sentences = []
    for m in DISCOVERY.finditer(text):
        i = bisect_right(ends, m.start())
        j = bisect_left(starts, m.end())
        sentences.append((m.start(), max(ends[i - 1] if i else 0, m.start() - 200),
                          starts[j] if j < len(starts) else min(m.end() + 200, len(text))))
    read = {}  # each sentence of noticing read once
    for _, left, right in sentences:
        if (left, right) not in read:
            read[left, right] = _plausible(before(dates_in(text, local.date(), starts, left, right)), local.date())
    noticed: list[Stated] = []
    for at, left, right in sentences:
        if found := read[left, right]:
            noticed.append(min(found, key=lambda s: min(abs(s.end - at), abs(s.start - at))))
    stated = noticed or _plausible(before(dates_in(text, local.date(), starts)), local.date())
    if not stated:
        return None
    chosen = min(stated, key=lambda s: (s.day, s.at or time(0)))
    if chosen.day == local.date() and chosen.at is None:
        return None  # "today": the receipt says as much
    return moment(chosen.day, chosen.at, tz), chosen.words
