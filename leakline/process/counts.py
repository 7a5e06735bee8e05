"""Counts of persons stated in text: 約1,200件, 120名分, 千二百人, 100〜150名, 1,000人超, 数千件, about 2,000.

One reader for the extractor (free text, where a count needs a unit such as 名 or "customers")
and the fact form (an answer to "人数:", where "約120" alone is a count). Text is NFKC-normalised
and lower-cased first (see `prepare`), so full-width digits are ASCII here.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple
from . import gates

KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "壱": 1, "弐": 2, "参": 3, "两": 2}
SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
LARGE_UNITS = {"万": 10_000, "億": 100_000_000}
ENGLISH_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
                                                      "seventy": 70, "eighty": 80, "ninety": 90, "a dozen": 12,
                                                      "a single": 1, "single": 1, "a hundred": 100,
                                                      "a thousand": 1000}
# Orders of magnitude only (数百 "several hundred"): no count, but a bound for the law's largest number.
MAGNITUDES = {"数十": 99, "数百": 999, "数千": 9_999, "数万": 99_999, "数十万": 999_999, "数百万": 9_999_999,
              "何十": 99, "何百": 999, "何千": 9_999, "何万": 99_999,
              "dozens": 99, "several dozen": 99, "tens": 99, "several hundred": 999, "hundreds": 999,
              "several thousand": 9_999, "thousands": 9_999, "tens of thousands": 99_999,
              "several tens of thousands": 99_999, "hundreds of thousands": 999_999}

_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_KANJI = r"[〇一二三四五六七八九十百千万億零壱弐参]+"
JA_NUMBER = rf"(?:{_DIGITS})(?:[万千百億](?:\d+)?)*|{_KANJI}"
_EN_WORD = "|".join(sorted((w for w in ENGLISH_NUMBERS if w != "zero"), key=len, reverse=True))
EN_NUMBER = rf"{_DIGITS}|(?:{_EN_WORD})(?:[ -](?:one|two|three|four|five|six|seven|eight|nine))?"

JA_PRE = r"(?P<pre>約|およそ|おおよそ|概ね|おおむね|推定|最大で?|多くて|少なくとも|計|合計|総計|全|総|延べ|のべ)?"
JA_UNIT = r"(?P<unit>名様?|人|件|世帯|軒|戸|アカウント|口)"
JA_POST = r"(?P<post>(?:分|程度|ほど|くらい|ぐらい|位|前後|以上|超|を超え|を上回|余り|あまり|強|弱|近く|未満|以下)*)"
JA_COUNT = gates.compile(
    rf"{JA_PRE}\s*(?:(?P<low>{JA_NUMBER})\s*(?:名|人|件)?\s*(?:~|〜|-|–|ー|から|より)\s*)?"
    rf"(?<![\d,])(?:(?<![数何])|(?=\d))(?P<num>{JA_NUMBER})\s*{JA_UNIT}{JA_POST}")
# お一人, お二人様: a polite count of one or two persons.
JA_POLITE = gates.compile(r"(?<![a-zぁ-ん])お(?P<num>一|二|ひと|ふた)(?:人|り)(?:様)?(?=\s*(?:分|の(?:情報|データ|個人情報|氏名|お名前|書類)))")
JA_MAGNITUDE = gates.compile(r"(?P<pre>約|およそ|最大で?)?(?P<mag>数十万|数百万|数十|数百|数千|数万|何十|何百|何千|何万)"
                          r"(?:名|人|件|世帯)")
EN_PRE = (r"[\"“]?(?P<pre>about|approximately|approx\.?|around|roughly|an estimated|estimated|up to|as many as|~"
          r"|nearly|almost|over|more than|in excess of|upwards of|at least|some|a total of|total of|all"
          r"|no fewer than|close to|just over|well over|under|fewer than|less than)?")
EN_PERSONS = (r"customers?|people|persons?|individuals?|records?|patients?|employees?|members?|users?"
              r"|students?|pupils?|applicants?|clients?|subscribers?|entries|recipients?|residents?|guests?"
              r"|children|parents|candidates|staff|attendees|participants|policyholders?|households?"
              r"|tenants?|families|accounts?|contacts?|donors?|visitors?|passengers?|consumers?|owners?"
              r"|borrowers?|account holders?|cardholders?|job seekers?|volunteers?|workers?|alumni|end-?users?"
              r"|learners?|trainees?|travell?ers?|tourists?|registrants?|invitees?|enrollees?|buyers?|purchasers?"
              r"|sellers?|lessees?|claimants?|debtors?|creditors?|shareholders?|investors?|beneficiar(?:y|ies)|charts?|rows|(?:e-?mail )?addresses|bookings?|reservations?|cards?")
# Units that count records, not people: one person may be listed twice.
EN_RECORDS = gates.compile(r"records?|entries|rows|accounts?|(?:e-?mail )?addresses|bookings?|reservations?|cards?|charts?")
# Several numbers of one unit: "28, 31 and 25 students" (three classes: 84 persons).
EN_LIST = gates.compile(rf"(?<![\w.,:/\-])(?<!between )(?P<nums>(?:{_DIGITS})(?:\s*,\s*(?:{_DIGITS}))*,?\s+and\s+(?:{_DIGITS}))\s+"
                        rf"(?P<adj>(?:[a-z'\-]+\s+){{0,2}}?)(?P<unit>{EN_PERSONS})\b")
EN_COUNT = gates.compile(
    rf"{EN_PRE}\s*(?:(?P<between>between\s+))?(?:(?P<low>{_DIGITS})\s*(?:-|–|to|(?(between)and|(?!)))\s*)?"
    rf"(?(low)|(?<![\w.,:/\-]))(?P<num>{EN_NUMBER})[\"”]?\+?\s+"
    rf"(?P<adj>(?:of (?:their|our|the|its|his|her|these|those|my|your) )?"
    rf"(?:(?!(?:for|to|from|with|by|in|at|on|per|of|than)\s)[a-z'\-]+\s+){{0,3}}?)(?P<unit>{EN_PERSONS})\b")
# Counts told another way: a family of four, 名刺約300枚, 320通すべて (each letter another person's),
# 本人と扶養家族3名 (four), "the actual number of people is 301".
OTHER_COUNTS = gates.compile(
    rf"(?:a |the )?family of (?P<num>{EN_NUMBER})\b"
    rf"|number of (?:people|persons|individuals|customers|patients|users|members) (?:is|was|comes to|:)\s*"
    rf"(?:about |around |approximately )?(?P<stated>{_DIGITS})"
    rf"|本人と[^。、\n]{{0,8}}?(?P<plus>{JA_NUMBER})\s*(?:名|人)"
    rf"|名刺[^。\n]{{0,12}}?(?P<cards>{JA_NUMBER})\s*枚"
    rf"|全\s*(?P<every>{JA_NUMBER})\s*通(?:すべて|全て|全部)?(?=[^。\n]{{0,15}}(?:ずれ|誤|間違|違|別の|他人))")
LETTERS = gates.compile(rf"(?P<all>{JA_NUMBER})\s*通\s*(?:すべて|全て|全部)(?=[^。\n]{{0,15}}(?:ずれ|誤|間違|違|別の|他人))")
EN_MAGNITUDE = gates.compile(r"(?P<mag>several tens of thousands|tens of thousands|hundreds of thousands"
                          r"|several thousand|several hundred|several dozen|thousands|hundreds|dozens)"
                          r"(?: of)?\s+(?:[a-z'\-]+\s+){0,2}?(?:" + EN_PERSONS + r")\b")
OVER_WORDS = frozenset({"以上", "超", "を超え", "を上回", "余り", "あまり", "強", "over", "more than",
                        "in excess of", "upwards of", "just over", "well over", "no fewer than", "at least"})
UNDER_WORDS = frozenset({"未満", "以下", "弱", "近く", "under", "fewer than", "less than", "nearly", "almost",
                         "close to"})
ESTIMATE_WORDS = frozenset({"約", "およそ", "おおよそ", "概ね", "おおむね", "推定", "最大", "最大で", "多くて",
                            "程度", "ほど", "くらい", "ぐらい", "位", "前後", "about", "approximately", "approx",
                            "approx.", "around", "roughly", "an estimated", "estimated", "up to",
                            "as many as", "some"}) | OVER_WORDS | UNDER_WORDS

# What follows a count that is not of persons: mails, letters, pages, devices, our own staff.
NOT_PERSONS_AFTER = gates.compile(
    r"\s*(?:目|番目|ずつ|当たり|あたり|ごと|による|増員|減員|採用|募集|出勤|勤務|\d+\s*(?:通|枚|部)"
    r"|で(?:食事|飲|話|行|作業|対応|訪問|向か|担当)"
    r"|(?:の|が|は)?\s*(?:メール(?!アドレス)|通(?!知)|回|枚|台|日|箇所|か所|担当|スタッフ|体制|規模|会社|企業|事業所"
    r"|(?:が|で)(?:閲覧(?!でき|可能|され)|見(?!え|られ)|確認し|対応|作業|受け取|出席|参加し)))")
NOT_PERSONS_BEFORE = gates.compile(
    r"(?:(?:(?:当社|弊社|当館|当院|当店)の?)?(?:従業員|社員|職員|スタッフ|教職員)(?:数(?:は|が|:)?|は|が)(?:全部で|全体で|全員で|計|合計)?"
    r"|staff of|workforce of|team of|employs|we have|we employ|(?:whole|entire) team \(|課員|部員"
    r"|受付番号|番号|no\.|#|第|部屋|号室|ページ|電話|tel|fax|招待人数|招待客|ゲスト数|guest count)\s*\(?\s*(?:約|およそ)?\s*$")
# 件 of what is not a person's record: 5件の入出金明細 (transactions), 3件の電話 (calls), リポスト30件.
NOT_RECORDS_BEFORE = gates.compile(r"(?:入出金|取引|明細|注文|電話(?!番号)|メール(?!アドレス)|リポスト|リツイート|投稿|コメント|返信|アクセス"
                                   r"|忘れ物|荷物|商品|品物"
                                   r"|ログイン|ログ|エラー|ファイル|送信|着信|拡散|閲覧)[^。、\n\d]{0,4}$")
NOT_RECORDS_AFTER = gates.compile(r"\s*の(?:入出金|取引|明細|注文|商品|ファイル|書類|ページ|問い?合わせ|お問い?合わせ|電話|返信|苦情"
                               r"|エラー|ログ|アクセス|メール(?!アドレス))")
EN_NOT_PERSONS_AFTER = gates.compile(r"\s+(?:saw|viewed|received|opened|were cc'?d|attended|work|worked|per|each)\b")


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


def prepare(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def parse_number(text: str) -> int:
    """1,200 / 1.2万 / 1万2千 / 千二百 / 一二〇 / one / a single / twenty-five as an int."""
    text = text.strip().lower()
    if text in ENGLISH_NUMBERS:
        return ENGLISH_NUMBERS[text]
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


def _qualifiers(match: re.Match) -> set[str]:
    words = {match.groupdict().get("pre") or ""}
    post = match.groupdict().get("post") or ""
    words |= {w for w in re.findall(r"分|程度|ほど|くらい|ぐらい|位|前後|以上|超|を超え|を上回|余り|あまり|強|弱|近く"
                                     r"|未満|以下", post)}
    return {w.strip() for w in words if w}


def _count(match: re.Match, strength: int) -> Count | None:
    words = _qualifiers(match)
    number = parse_number(match.group("num"))
    if match.groupdict().get("low"):
        number = max(number, parse_number(match.group("low")))  # a range: the upper end counts
        words.add("range")
    if match.group("pre") in ("over", "more than") and number < 2:
        return None  # "over one" is a phrase, not a count
    over = bool(words & OVER_WORDS)
    estimated = bool(words & (ESTIMATE_WORDS | {"range"}))
    if match.group("pre") in ("延べ", "のべ"):
        strength = 1  # a cumulative figure counts one person once per visit
    return Count(number, estimated, over, None, match.group(0).strip(), strength, match.start(), match.end())


def _excluded(text: str, match: re.Match, after: re.Pattern) -> bool:
    before = text[max(match.start() - 12, 0):match.start()]
    return bool(after.match(text, match.end()) or NOT_PERSONS_BEFORE.search(before))


def _idiom(match: re.Match, text: str) -> bool:
    """一人で (alone), 一人ひとり (each), この一件 (this matter), お二人 (JA_POLITE's): words, not counts."""
    if match.group("num") in ("一", "二") and text[match.start() - 1:match.start()] == "お":
        return True
    if match.group("num") not in ("一", "1") or match.group("low"):
        return False
    return (match.group("num"), match.group("unit")) == ("一", "件") or not match.group("post") and bool(
        re.match(r"で|ずつ|ひとり|一人|暮らし|も", text[match.end():]))


# Where a count can end: a number and a unit (3名, 数百件), a person noun. Counts are read only in
# windows around these (a count is at most this far before its unit): the same counts as a scan of
# the whole text, for a fraction of the cost.
JA_UNIT_NEAR = gates.compile(r"[\d〇一二三四五六七八九十百千万億零壱弐参两数何][\d,.〇一二三四五六七八九十百千万億零壱弐参两]*\s*"
                             r"(?:名|人|件|世帯|軒|戸|アカウント|口)")
EN_UNIT_NEAR = gates.compile(rf"(?:{EN_PERSONS})\b")
JA_REACH, EN_REACH = 40, 110


def _stated(text: str, ja: list, en: list):
    """Counts with a unit of persons or records (名, 人, 件, customers, records)."""
    for match in gates.near(JA_COUNT, text, ja, JA_REACH):
        if _excluded(text, match, NOT_PERSONS_AFTER) or _idiom(match, text):
            continue
        if match.group("unit") == "件" and "分" not in match.group("post") and (
                NOT_RECORDS_AFTER.match(text, match.end()) or NOT_RECORDS_BEFORE.search(text, max(match.start() - 10, 0),
                                                                                         match.start())):
            continue
        yield _count(match, 1 if match.group("unit") in ("件", "アカウント", "口", "世帯", "軒", "戸") else 2)
    listed = []
    for match in gates.near(EN_LIST, text, en, EN_REACH):
        numbers = [parse_number(n) for n in re.findall(_DIGITS, match.group("nums"))]
        listed.append(match.span())
        yield Count(sum(numbers), False, False, None, match.group(0), 1 if EN_RECORDS.match(match.group("unit")) else 2,
                    match.start(), match.end())
    for match in gates.near(EN_COUNT, text, en, EN_REACH):
        if any(a <= match.start() < b for a, b in listed):
            continue
        if not (_excluded(text, match, EN_NOT_PERSONS_AFTER) or re.search(r"\b(pages?|times?)\b", match.group("adj"))):
            yield _count(match, 1 if EN_RECORDS.match(match.group("unit")) else 2)


def _told_otherwise(text: str, ja: list, en: list):
    """お二人, a family of four, 名刺300枚, 320通すべて, and orders of magnitude (数百名)."""
    for match in JA_POLITE.finditer(text):
        number = 1 if match.group("num") in ("一", "ひと") else 2
        yield Count(number, False, False, None, match.group(0), 2, match.start(), match.end())
    for match in (*OTHER_COUNTS.finditer(text), *(LETTERS.finditer(text) if "通" in text else ())):
        number = parse_number(next(g for g in match.groups() if g)) + (1 if match.groupdict().get("plus") else 0)
        strength = 1 if match.groupdict().get("cards") else 2  # a letter or a family is a person; a card, a record
        if number:
            yield Count(number, False, False, None, match.group(0), strength, match.start(), match.end())
    for pattern, cores, reach in ((JA_MAGNITUDE, ja, JA_REACH), (EN_MAGNITUDE, en, EN_REACH)):
        for match in gates.near(pattern, text, cores, reach):
            bound = MAGNITUDES[match.group("mag")]
            yield Count(None, True, False, bound, match.group(0), 2, match.start(), match.end())


def counts(text: str) -> list[Count]:
    """Every stated count of persons or records in prepared text, in order of appearance ("notified 0
    customers" is none)."""
    ja = [m.span() for m in JA_UNIT_NEAR.finditer(text)]
    en = [m.span() for m in EN_UNIT_NEAR.finditer(text)]
    found = [count for count in (*_stated(text, ja, en), *_told_otherwise(text, ja, en))
             if count is not None and count.number != 0]
    return sorted(found, key=lambda count: count.start)


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


def persons(found: list[Count]) -> Persons | None:
    """The largest number the counts support (the law counts the largest possible number).

    An order of magnitude larger than every stated number leaves persons unknown with its bound.
    """
    if not found:
        return None
    exact = [c for c in found if c.number is not None]
    strongest = max((c.strength for c in exact), default=0)
    best = max((c for c in exact if c.strength == strongest), key=lambda c: (c.number, c.over), default=None)
    magnitude = max((c for c in found if c.number is None), key=lambda c: c.maximum, default=None)
    if magnitude and (best is None or magnitude.maximum > best.number):
        return Persons(None, True, False, magnitude.maximum, magnitude.words)
    return Persons(best.number, best.estimated, best.over, None, best.words)


# ---- a fact-form answer: "約120", "100-150", "1,000超", "数千", "3名" ----

BARE = gates.compile(rf"{JA_PRE}\s*{EN_PRE.replace('?P<pre>', '?P<en>')}\s*(?:(?P<low>{JA_NUMBER})\s*(?:名|人|件)?\s*(?:~|〜|-|–|から|to)\s*)?"
                  rf"(?P<num>{JA_NUMBER})\s*(?:名様?|人|件|persons?|people)?{JA_POST}")


def read_answer(value: str) -> Persons | None:
    """The count in a short answer, where a unit is optional."""
    text = prepare(value)
    if re.search(r"\d{4}\s*[-/年.]\s*\d{1,2}|\d+\s*[/月]\s*\d+\s*日?|\d+:\d\d", text):
        text = re.sub(r"\d{4}\s*[-/年.]\s*\d{1,2}\s*[-/月.]\s*\d{1,2}\s*日?|\d+\s*[/月]\s*\d+\s*日?|\d+:\d\d", " ", text)
    found = counts(text)
    if found:
        return persons(found)
    for word, bound in sorted(MAGNITUDES.items(), key=lambda item: -len(item[0])):
        if word in text:
            return Persons(None, True, False, bound, word)
    match = BARE.search(text)
    if not match or not re.search(r"\d|[一二三四五六七八九十百千万]", match.group("num")):
        return None
    pre = match.group("pre") or match.group("en")
    count = _count(match, 2)
    if count is None:
        return None
    over = count.over or bool(re.search(r"more than|over|超|以上|\+", text))
    estimated = count.estimated or bool(pre) or over or bool(re.search(r"[~〜?]|about|approx|around", text))
    return Persons(count.number, estimated, over, None, match.group(0).strip())
