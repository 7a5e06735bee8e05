"""Values of the fact form, read from what people actually type in Japanese or English.

Every parser takes an NFKC-normalised value (see factform.normalize) and returns None when it cannot
tell: a wrong guess about a leak is worse than a blank the privacy officer asks about.
"""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

from leakline.process import counts, dates
from leakline.process.counts import prepare
from leakline.process.facts import CATEGORIES, CATEGORY_LABELS, DATA_ITEM_LABELS, DATA_ITEMS
from leakline.process.lexicon import item_spans

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


# ---- discovered_at, data items, persons, kind: the extractor's vocabulary ----

def parse_discovered_at(value: str, tz: ZoneInfo, today: date) -> str | None:
    """ISO 8601 datetime in `tz`; a date alone gives midnight, a time alone means today."""
    return dates.read_answer(clean(value), today, tz)


# The form shows what was read with these labels; a reply that keeps them must read back the same.
_LABELS = sorted(((label.lower(), item) for item, labels in DATA_ITEM_LABELS.items() for label in labels
                  if item != "other"), key=lambda pair: -len(pair[0]))
# Shorter answers than free text: "ID・パスワード" or "cards" alone in a form are items too.
FORM_ITEMS = (
    ("card_number", r"(?<![a-z])cards?(?![a-z])"),
    ("login", r"(?<![a-z])ids?(?![a-z])|パスワード|ログイン|user ?names?|passwords?|log ?in|credentials"),
    ("email", r"アドレス|e-?mails?|mail address(?:es)?"),
    ("phone", r"電話|携帯|(?:tele)?phones?|mobiles?"),
    ("address", r"(?<![a-z])address(?:es)?"),
    ("other", r"その他|(?<![a-z])others?"),
)
# Whose data it was and joining words say nothing about the kind of data.
DATA_FILLER = re.compile(
    r"^(顧客|お客様|会員|社員|従業員|職員|患者|生徒|学生|児童|利用者|取引先|応募者|個人情報|個人|全員|等|など|の|と|や|番号"
    r"|および|及び|情報|データ|一式|全般|一覧|リスト|\d+|名|人|件|分|約|ネット|バンキング|サービス|サイト|通販|ショップ|決済"
    r"|online|banking|services?|sites?|shops?|stores?|payments?|customers?|clients?|members?|employees?|staff|patients?"
    r"|users?|students?|personal|their|and|or|etc\.?|data|information|the|of|all|lists?|numbers?)+$", re.I)
DATA_SPLIT = re.compile(r"[、,，/;；\s・+&()（）]+|および|及び|(?<![a-z])and(?![a-z])", re.I)


def parse_data_items(value: str) -> list[str]:
    """Data item ids in canonical order; anything unrecognised adds 'other'."""
    text = prepare(clean(value))
    found = set()
    for label, item in _LABELS:
        text, hits = re.subn(rf"(?<![a-z]){re.escape(label)}(?![a-z])", "、", text)
        if hits:
            found.add(item)
    for item, start, end in sorted(item_spans(text), key=lambda span: span[1]):
        found.add(item)
    text = _blank(text, [(s, e) for _, s, e in item_spans(text)])
    for item, pattern in FORM_ITEMS:
        text, hits = re.subn(pattern, "、", text)
        if hits:
            found.add(item)
    leftovers = [t for t in DATA_SPLIT.split(text) if t and not DATA_FILLER.match(t)]
    if any(re.search(r"\w", t) for t in leftovers):
        found.add("other")
    if "id_password" in found:
        found.discard("login")
    return [item for item in DATA_ITEMS if item in found]


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "、" * (end - start)
    return "".join(chars)


def parse_persons(value: str) -> dict:
    """persons (the upper end of a range: APPI counts the largest possible number), whether it is an
    estimate (約, about, 程度), stated as more than (超, 以上, more than), or only an order of magnitude
    (数千 → persons_max 9,999 with persons unknown)."""
    found = counts.read_answer(clean(value))
    if found is None:
        return {}
    return {"persons": found.persons, "persons_estimated": found.estimated if found.persons is not None else False,
            "persons_over": found.over, "persons_max": found.maximum}


def parse_category(value: str) -> dict:
    """The kind: the number of the list the form shows, its label, or the id."""
    text = prepare(clean(value))
    number = re.match(r"^\s*(\d{1,2})(?!\d)", text)
    if number and 1 <= int(number.group(1)) <= len(CATEGORIES):
        return {"category": CATEGORIES[int(number.group(1)) - 1]}
    for kind in CATEGORIES:
        if kind in text.replace(" ", "_").replace("-", "_"):
            return {"category": kind}
    for label, kind in _CATEGORY_LABELS:
        if label and label in text:
            return {"category": kind}
    return {}


_CATEGORY_LABELS = sorted(((prepare(label), kind) for kind, labels in CATEGORY_LABELS.items() for label in labels),
                          key=lambda pair: -len(pair[0]))


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
