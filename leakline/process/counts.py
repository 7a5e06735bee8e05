"""Counts of persons stated in text: 約1,200件, 120名分, 千二百人, 100〜150名, 1,000人超, 数千件, about 2,000.

One reader for the extractor (free text, where a count needs a unit such as 名 or "customers")
and the fact form (an answer to "人数:", where "約120" alone is a count). Text is NFKC-normalised
and lower-cased first (see `prepare`), so full-width digits are ASCII here.
"""

from __future__ import annotations

import re

from . import gates
from .numbers import EN_NUMBER, EN_PERSONS, EN_REACH, JA_NUMBER, JA_REACH, MAGNITUDES, _DIGITS, Count, Persons, parse_number, prepare
from .othercounts import cues, near, not_records, told

JA_PRE = r"(?P<pre>約|およそ|おおよそ|概ね|おおむね|推定|最大で?|多くて|少なくとも|計|合計|総計|全|総|延べ|のべ)?"
JA_UNIT = r"(?P<unit>名様?|人|件|世帯|軒|戸|アカウント|口)"
JA_POST = r"(?P<post>(?:分|程度|ほど|くらい|ぐらい|位|前後|以上|超|を超え|を上回|余り|あまり|強|弱|近く|未満|以下)*)"
JA_COUNT = gates.compile(
    rf"{JA_PRE}\s*(?:(?P<low>{JA_NUMBER})\s*(?:名|人|件)?\s*(?:~|〜|-|–|ー|から|より)\s*)?"
    rf"(?<![\d,])(?:(?<![数何])|(?=\d))(?P<num>{JA_NUMBER})\s*{JA_UNIT}{JA_POST}")
EN_PRE = (r"[\"“]?(?P<pre>about|approximately|approx\.?|around|roughly|an estimated|estimated|up to|as many as|~"
          r"|nearly|almost|over|more than|in excess of|upwards of|at least|some|a total of|total of|all"
          r"|no fewer than|close to|just over|well over|under|fewer than|less than)?")
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
# Papers said to be one per person count persons: はがき1,180通(1名1通), 1,000 statements, one per customer.
ONE_EACH = gates.compile(
    rf"{JA_PRE}\s*(?P<num>{JA_NUMBER})\s*(?:通|枚|部|件)\s*\(?\s*(?:お?一人|1人|1名|一名)(?:様)?\s*(?:につき)?\s*(?:1|一)\s*(?:通|枚|部|件)"
    rf"|(?:お?一人|1人|1名|一名)(?:様)?\s*(?:につき)?\s*(?:1|一)\s*(?P<unit>通|枚|部)[^。\n\d]{{0,12}}?(?P<then>{JA_NUMBER})\s*(?P=unit)"
    rf"|{EN_PRE.replace('?P<pre>', '?P<en>')}\s*(?P<each>{EN_NUMBER})\s+(?:[a-z\-]+\s+){{0,2}}?[a-z\-]+s,?\s+(?:(?:one|1) (?:per|for each|for every|for one) "
    rf"|each (?:from|for|of|belonging to) (?:a |an |one )?(?:different |separate )?)(?:{EN_PERSONS})\b")
# "More than N" (SPEC: persons_over). "At least N" (少なくとも, no fewer than) is N, possibly more: an estimate.
OVER_WORDS = frozenset({"以上", "超", "を超え", "を上回", "余り", "あまり", "強", "over", "more than",
                        "in excess of", "upwards of", "just over", "well over"})
UNDER_WORDS = frozenset({"未満", "以下", "弱", "近く", "under", "fewer than", "less than", "nearly", "almost",
                         "close to"})
ESTIMATE_WORDS = frozenset({"約", "およそ", "おおよそ", "概ね", "おおむね", "推定", "最大", "最大で", "多くて",
                            "程度", "ほど", "くらい", "ぐらい", "位", "前後", "about", "approximately", "approx",
                            "approx.", "around", "roughly", "an estimated", "estimated", "up to",
                            "as many as", "some", "少なくとも", "at least", "no fewer than"}) | OVER_WORDS | UNDER_WORDS

# What follows a count that is not of persons: mails, letters, pages, devices, our own staff.
NOT_PERSONS_AFTER = gates.compile(
    r"\s*(?:目|番目|ずつ|当たり|あたり|ごと|による|増員|減員|採用|募集|出勤|勤務|(?:\d+|[一二三])\s*(?:通|枚|部|アカウント|件|台|個|口|回|社|冊)"
    r"|で(?:食事|飲|話|行|作業|対応|訪問|向か|担当)"
    r"|(?:の|が|は)?\s*(?:メール(?!アドレス)|通(?!知)|回|枚|台|日|箇所|か所|担当|スタッフ|体制|規模|会社|企業|事業所|部署|部門|チーム|職場|事務所|支店|営業所|工場"
    r"|(?:が|で)(?:閲覧(?!でき|可能|され)|見(?!え|られ)|確認し|対応|作業|受け取|出席|参加し)))")
# 3名分のスタッフの氏名: a count "worth of" (分) is of persons' data, whatever noun follows.
DATA_OF = gates.compile(r"\s*(?:目|番目|ずつ|当たり|あたり|ごと)")
NOT_PERSONS_BEFORE = gates.compile(
    r"(?:(?:(?:当社|弊社|当館|当院|当店)の?)?(?:従業員|社員|職員|スタッフ|教職員)(?:数(?:は|が|:)?|は|が)(?:全部で|全体で|全員で|計|合計)?"
    r"|staff of|workforce of|team of|employs|we have|we employ|(?:company|firm|business|office|group) (?:of|has|had)|(?:whole|entire) team \(|課員|部員"
    r"|受付番号|番号|no\.|#|第|部屋|号室|ページ|電話|tel|fax|招待人数|招待客|ゲスト数|guest count"
    # ourselves: 私を含め3名, including me, we are about 60 people
    r"|(?:私|自分|わたし)(?:を|も)含めて?|including (?:me|myself)|we (?:are|were)|we're)\s*\(?\s*(?:約|およそ|about|around|roughly)?\s*$")
EN_NOT_ONE = gates.compile(r"\b(?:each|every|no|any|the|this|that|which)\s+$")
EN_NOT_PERSONS_AFTER = gates.compile(r"\s+(?:received|were cc'?d|attended|work|worked|per|each"
                                     # our own people at work: three staff were on the desk, on duty, on shift
                                     r"|(?:were |are |was )?(?:on (?:the )?(?:desk|duty|shift|counter|call)|working|at the (?:desk|counter)))\b"
                                     # a field of a signature: Sample Corp. | 1,200 employees | Tokyo
                                     r"|(?:(?<=employees)|(?<=staff))\s*\|")


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


def _stated(text: str, ja: list, en: list, cued: dict):
    """Counts with a unit of persons or records (名, 人, 件, customers, records)."""
    for match in gates.near(JA_COUNT, text, ja, JA_REACH):
        if _excluded(text, match, DATA_OF if "分" in match.group("post") else NOT_PERSONS_AFTER) or _idiom(match, text):
            continue
        if match.group("unit") == "件" and "分" not in match.group("post") and not_records(text, match):
            continue
        yield _count(match, 1 if match.group("unit") in ("件", "アカウント", "口", "世帯", "軒", "戸") else 2)
    for match in near(ONE_EACH, "ONE_EACH", text, cued):
        number = parse_number(match.group("num") or match.group("each") or match.group("then"))
        pre = match.group("pre") or match.group("en")
        yield Count(number, bool(pre), pre in OVER_WORDS, None, match.group(0), 2, match.start(), match.end())
    listed = []
    for match in gates.near(EN_LIST, text, en, EN_REACH):
        numbers = [parse_number(n) for n in re.findall(_DIGITS, match.group("nums"))]
        listed.append(match.span())
        yield Count(sum(numbers), False, False, None, match.group(0), 1 if EN_RECORDS.match(match.group("unit")) else 2,
                    match.start(), match.end())
    for match in gates.near(EN_COUNT, text, en, EN_REACH):
        if any(a <= match.start() < b for a, b in listed):
            continue
        if match.group("num") == "one" and EN_NOT_ONE.search(text, max(match.start("num") - 8, 0), match.start("num")):
            continue  # each one, no one, the one: words, not a count
        if not (_excluded(text, match, EN_NOT_PERSONS_AFTER) or re.search(r"\b(pages?|times?)\b", match.group("adj"))):
            yield _count(match, 1 if EN_RECORDS.match(match.group("unit")) else 2)


def counts(text: str) -> list[Count]:
    """Every stated count of persons or records in prepared text, in order of appearance ("notified 0
    customers" is none)."""
    ja = [m.span() for m in JA_UNIT_NEAR.finditer(text)]
    en = [m.span() for m in EN_UNIT_NEAR.finditer(text)]
    cued = cues(text)
    found = [count for count in (*_stated(text, ja, en, cued), *told(text, ja, en, cued))
             if count is not None and count.number != 0]
    return sorted(found, key=lambda count: count.start)


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
