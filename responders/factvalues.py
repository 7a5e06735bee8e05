"""Values of the fact form, read from what people actually type in Japanese or English.

Every parser takes an NFKC-normalised value (see factform.normalize) and returns None when it cannot
tell: a wrong guess about a leak is worse than a blank the privacy officer asks about.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

UNKNOWN = re.compile(
    r"^(?:(不明|未定|調査中|確認中|未確認|わから|わかりま|分から|分かりま|未記入|空欄|例[\s:)]|e\.g\.)"
    r"|(unknown|n/a|tbd|not sure|not known|under investigation|investigating|\?+|-+|ー+|―+)(?![a-z0-9]))",
    re.I)
HINT = re.compile(r"[(\[]\s*(例|例えば|e\.g\.|eg|ex\.)[^)\]]*[)\]]", re.I)
# A yes/no word must end the word ("有限会社ABC" is a client, not "有"); Japanese has no spaces.
_WORD_END = r"(?=$|[\s、。,.:;!！(（\-]|です|でした|ません)"
NO_WORDS = re.compile(
    rf"^(?:自社|当社|(いいえ|なし|無し|無|ない|ありません|該当なし|非該当|no|none|not|n/a|false|×|✕){_WORD_END})",
    re.I)
YES_WORDS = re.compile(rf"^(はい|あり|有り|有|ある|yes|true|y|〇|○){_WORD_END}", re.I)
CHOICES = re.compile(r"(はい|あり|有|yes)\s*(/|or|・|\|)\s*(いいえ|なし|無|no)", re.I)


def clean(value: str) -> str:
    return HINT.sub("", value).strip(" \t。.")


def is_unknown(value: str) -> bool:
    return bool(UNKNOWN.match(clean(value)))


# ---- discovered_at ----

MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_MONTH = r"(?<![a-z])(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
DATE_PATTERNS = (
    ("era", re.compile(r"令和\s*(\d{1,2}|元)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")),
    ("ymd", re.compile(r"(\d{4})\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*日?")),
    ("md", re.compile(r"(?<!\d)(\d{1,2})\s*月\s*(\d{1,2})\s*日")),
    ("mdy_en", re.compile(rf"{_MONTH}\s+(\d{{1,2}})(?!\d)(?:st|nd|rd|th)?,?(?:\s+(\d{{4}}))?", re.I)),
    ("dmy_en", re.compile(rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?(?:\s+(\d{{4}}))?", re.I)),
    ("md_slash", re.compile(r"(?<![\d:/])(\d{1,2})/(\d{1,2})(?![\d/])")),
    ("relative", re.compile(r"一昨日|おととい|昨日|きのう|yesterday|今日|本日|きょう|today", re.I)),
)
RELATIVE_DAYS = {"一昨日": 2, "おととい": 2, "昨日": 1, "きのう": 1, "yesterday": 1}
TIME_COLON = re.compile(r"(?<!\d)(\d{1,2}):(\d{2})(?::\d{2})?")
TIME_KANJI = re.compile(r"(?<!\d)(\d{1,2})\s*時\s*(?:(\d{1,2})\s*分|(半))?")
TIME_AMPM = re.compile(r"(?<!\d)(\d{1,2})\s*([ap])\.?m\b", re.I)
PM = re.compile(r"午後|(?<![a-z])p\.?m(?![a-z])", re.I)
AM = re.compile(r"午前|(?<![a-z])a\.?m(?![a-z])", re.I)


def _with_year(year: int | None, month: int, day: int, today: date) -> date | None:
    try:
        if year is not None:
            return date(year, month, day)
        guess = date(today.year, month, day)
    except ValueError:
        return None
    # A discovery lies in the past: "12月30日" read on 2 January is last year's.
    return guess if guess <= today else _with_year(today.year - 1, month, day, today)


def _date(value: str, today: date) -> tuple[date | None, str]:
    """The date in `value` and the rest of the text (where the time is looked for)."""
    for kind, pattern in DATE_PATTERNS:
        match = pattern.search(value)
        if not match:
            continue
        rest = value[:match.start()] + " " + value[match.end():]
        g = match.groups()
        if kind == "relative":
            return today - timedelta(days=RELATIVE_DAYS.get(match.group(0).lower(), 0)), rest
        if kind == "era":
            return _with_year(2018 + (1 if g[0] == "元" else int(g[0])), int(g[1]), int(g[2]), today), rest
        if kind == "ymd":
            return _with_year(int(g[0]), int(g[1]), int(g[2]), today), rest
        if kind in ("md", "md_slash"):
            return _with_year(None, int(g[0]), int(g[1]), today), rest
        month_day = (MONTHS.index(g[0][:3].lower()) + 1, int(g[1])) if kind == "mdy_en" else \
            (MONTHS.index(g[1][:3].lower()) + 1, int(g[0]))
        return _with_year(int(g[2]) if g[2] else None, *month_day, today), rest
    return None, value


def _time(text: str) -> tuple[int, int] | None:
    match = TIME_COLON.search(text) or TIME_KANJI.search(text) or TIME_AMPM.search(text)
    if not match:
        return None
    hour = int(match.group(1))
    minute = 0
    if match.re is TIME_COLON:
        minute = int(match.group(2))
    elif match.re is TIME_KANJI:
        minute = 30 if match.group(3) else int(match.group(2) or 0)
    pm = PM.search(text) or (match.re is TIME_AMPM and match.group(2).lower() == "p")
    if pm and hour < 12:
        hour += 12
    elif AM.search(text) and hour == 12:
        hour = 0
    return (hour, minute) if hour < 24 and minute < 60 else None


def parse_discovered_at(value: str, tz: ZoneInfo, today: date) -> str | None:
    """ISO 8601 datetime in `tz`; a date alone gives midnight, a time alone means today."""
    day, rest = _date(clean(value), today)
    time = _time(rest)
    if day is None and time is None:
        return None
    day = day or today
    hour, minute = time or (0, 0)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).isoformat()


# ---- data_items ----

# Order matters: each match is cut out before the next pattern runs, so "メールアドレス" is an
# email and not an address, and "user name" is a login and not a name.
DATA_PATTERNS = (
    ("my_number", r"マイナンバー|個人番号|my ?numbers?"),
    ("card_number", r"クレジットカード(番号|情報)?|カード(番号|情報)|クレカ|credit ?cards?( numbers?)?|card numbers?|cards?"),
    ("account", r"(銀行)?口座(番号|情報)?|bank accounts?( numbers?| details)?|account numbers?"),
    ("id_password", r"(ログイン)?(?<![a-z])ids?(?![a-z])|パスワード|ログイン(情報)?|user ?names?|passwords?"
                    r"|log ?in( details| credentials)?|credentials"),
    ("email", r"メールアドレス|メアド|アドレス|e-?mail( address(es)?)?|mail address(es)?"),
    ("phone", r"(携帯)?電話(番号)?|携帯(番号)?|fax番号|(?<![a-z])tel(?![a-z])|(tele)?phones?( numbers?)?|mobile( numbers?)?"),
    ("birthdate", r"生年月日|誕生日|dates? of birth|birth ?dates?|birthdays?|(?<![a-z])dob(?![a-z])"),
    ("medical", r"病歴|病名|既往歴|診断(結果|名)?|健康診断(結果)?|健診(結果)?|診療(情報|記録)?|カルテ|医療(情報)?"
                r"|障がい|障害|服薬|処方|検査結果|medical( records?| history| information| data)?"
                r"|health( data| information| records?)?|diagnos[ie]s|diseases?|illness(es)?|medications?"
                r"|prescriptions?"),
    ("name", r"氏名|名前|姓名|フリガナ|ふりがな|(?<![a-z])(full |customer |patient )?names?"),
    ("address", r"住所|所在地|郵便番号|(postal |home )?address(es)?|zip codes?|post ?codes?"),
    ("other", r"その他|(?<![a-z])others?"),
)
DATA_IDS = ("name", "address", "phone", "email", "birthdate", "medical", "card_number", "account",
            "id_password", "my_number", "other")
# Whose data it was and joining words say nothing about the kind of data.
DATA_FILLER = re.compile(
    r"^(顧客|お客様|会員|社員|従業員|職員|患者|生徒|学生|児童|利用者|取引先|応募者|個人情報|個人|全員|等|など|の|と|や"
    r"|および|及び|情報|データ|一式|全般|一覧|リスト|customers?|clients?|members?|employees?|staff|patients?"
    r"|users?|students?|personal|their|and|or|etc\.?|data|information|the|of|all|lists?)+$", re.I)
DATA_SPLIT = re.compile(r"[、,，/;；\s・+&]+|および|及び|(?<![a-z])and(?![a-z])", re.I)


def parse_data_items(value: str) -> list[str]:
    """Data item ids in canonical order; anything unrecognised adds 'other'."""
    text = clean(value).lower()
    found = set()
    for item, pattern in DATA_PATTERNS:
        text, hits = re.subn(pattern, "、", text, flags=re.I)
        if hits:
            found.add(item)
    leftovers = [t for t in DATA_SPLIT.split(text) if t and not DATA_FILLER.match(t)]
    if any(re.search(r"\w", t) for t in leftovers):
        found.add("other")
    return [item for item in DATA_IDS if item in found]


# ---- persons ----

ESTIMATE = re.compile(
    r"約|およそ|おおよそ|概ね|おおむね|程度|くらい|ぐらい|位|前後|以上|超|余り|あまり|最大|推定|見込|見込み"
    r"|about|approx|around|roughly|estimate|over|more than|at least|up to|~|〜|\+|\?", re.I)
RANGE = re.compile(r"(\d+(?:\.\d+)?)\s*(万|千)?\s*(?:~|〜|-|–|から|to)\s*(\d+(?:\.\d+)?)\s*(万|千)?")
NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(万|千)?")
MULTIPLIER = {"万": 10000, "千": 1000, None: 1, "": 1}


def parse_persons(value: str) -> dict:
    """{'persons': int, 'persons_estimated': bool}; a range counts its upper end (APPI: the largest
    possible number), and 約/about/程度/以上 mark an estimate."""
    text = re.sub(r"(?<=\d),(?=\d{3})", "", clean(value))
    match = RANGE.search(text)
    if match:
        count = float(match.group(3)) * MULTIPLIER[match.group(4)]
        return {"persons": int(count), "persons_estimated": True}
    match = NUMBER.search(text)
    if not match:
        return {}
    count = float(match.group(1)) * MULTIPLIER[match.group(2)]
    return {"persons": int(count), "persons_estimated": bool(ESTIMATE.search(text))}


# ---- yes / no ----

def parse_entrusted(value: str) -> dict:
    """'委託元: 株式会社ABC' names the client; 'はい (ABC)', 'yes (ABC Corp)', 'なし', 'no' answer the question."""
    text = clean(value)
    if CHOICES.search(text):
        return {}
    if NO_WORDS.match(text):
        return {"entrusted": False}
    yes = YES_WORDS.match(text)
    client = text[yes.end():] if yes else text
    client = client.strip(" \t:,、-(（)）[]「」")
    return {"entrusted": True, "client": client} if client else {"entrusted": True}


ENCRYPTED_NO = re.compile(r"なし|無し|無|ない|ません|未|いいえ|平文|(?<![a-z])(no|not|none|unencrypted|plain)(?![a-z])", re.I)
ENCRYPTED_YES = re.compile(r"はい|あり|有|済|している|されて|パスワード|(?<![a-z])(yes|encrypted|password)", re.I)


def parse_encrypted(value: str) -> bool | None:
    text = clean(value)
    if CHOICES.search(text):
        return None
    if ENCRYPTED_NO.search(text):
        return False
    return True if ENCRYPTED_YES.search(text) else None
