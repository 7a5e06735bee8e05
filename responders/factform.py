"""The fact form: read the reporter's answers (Japanese or English labels) from a reply to the guidance.

The form itself travels in the guidance mail, pre-filled with what was read. The reporter's own
words (above the quote) are read first. Then the quoted original (`>` lines, an Outlook
差出人:/From: block, -----Original Message-----, what follows an attribution line): people fill
the form in where it stands, so a field there counts when it differs from the form as we sent
it (`sent`, the guidance's text). A reply that quotes the untouched form yields nothing. Values a
person leaves open ("不明", "unknown", "調査中") are not facts either.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

from leakline.process.facts import CATEGORIES, CATEGORY_LABELS, DATA_ITEM_LABELS
from leakline.process.factvalues import (
    is_unknown, parse_category, parse_data_items, parse_discovered_at, parse_encrypted, parse_entrusted,
    parse_persons,
)

LABELS = {
    "category": ("種類", "事故の種類", "事案の種類", "kind", "kindofincident", "type", "typeofincident", "category"),
    "discovered_at": (
        "発覚日時", "発覚日", "発覚した日時", "発覚した日", "発見日時", "発見日", "気づいた日時",
        "discovered", "discoveredat", "discoveredon", "datediscovered", "whendiscovered",
        "discoverydate", "discovery", "whendiscovered",
    ),
    "data_items": (
        "漏えいした情報", "漏洩した情報", "漏えい情報", "漏洩情報", "漏えいしたデータ", "情報の種類",
        "情報の項目", "データの項目", "data", "dataitems", "whatdata", "dataleaked", "leakeddata",
        "information", "personaldata",
    ),
    "persons": (
        "人数", "対象人数", "本人の数", "件数", "対象者数", "persons", "people", "numberofpersons",
        "numberofpeople", "howmanypersons", "howmanypeople", "howmany",
    ),
    "entrusted": (
        "委託元", "委託", "委託の有無", "委託元の有無", "受託", "entrusted", "entrustedbyaclient",
        "entrustedbyclient", "entrustedby", "client",
    ),
    "encrypted": ("暗号化", "暗号化の有無", "暗号化の状況", "encrypted", "encryption"),
}
_LABEL_FIELD = {label: fieldname for fieldname, labels in LABELS.items() for label in labels}

QUOTE_HEADER = re.compile(
    r"^\s*-{2,}\s*(original message|forwarded message|元のメッセージ|転送されたメッセージ"
    r"|転送メッセージ|オリジナルメッセージ)\s*-{2,}\s*$", re.I)
RULE_LINE = re.compile(r"^\s*_{10,}\s*$")
SIGNATURE = re.compile(r"^-- ?$")
ATTRIBUTION_END = re.compile(
    r"(wrote|書きました|のメッセージ|のメール|からのメッセージ)\s*:\s*$"
    r"|<[^<>\s]+@[^<>\s]+>\s*:\s*$", re.I)
ATTRIBUTION_START = re.compile(r"^\s*(on\s|\d{4}\s*[年/.-])", re.I)
HEADER_FROM = re.compile(r"^\s*\**\s*(from|差出人|送信者)\s*\**\s*:", re.I)
HEADER_SENT = re.compile(r"^\s*\**\s*(sent|date|送信日時|日付|日時)\s*\**\s*:", re.I)
_BULLET = r"(?:[-*・•●○■□◆◇▶▼]|\d{1,2}[.)]|\(\d{1,2}\))?"
FIELD_LINE = re.compile(rf"^\s*{_BULLET}\s*(?P<label>[^:]{{1,40}}?)\s*:\s*(?P<value>.*)$")
BRACKET_LINE = re.compile(rf"^\s*{_BULLET}\s*【(?P<label>[^】]{{1,40}})】\s*(?P<value>.*)$")
_LABEL_NOISE = re.compile(r"[\s?？*]|[(（][^)）]*[)）]")

PARSERS = {
    "category": lambda value, tz, today: parse_category(value),
    "discovered_at": lambda value, tz, today: {"discovered_at": parse_discovered_at(value, tz, today)},
    "data_items": lambda value, tz, today: {"data_items": parse_data_items(value)},
    "persons": lambda value, tz, today: parse_persons(value),
    "entrusted": lambda value, tz, today: parse_entrusted(value),
    "encrypted": lambda value, tz, today: {"encrypted": parse_encrypted(value)},
}


# The note above a pre-filled form (templates/*/guidance*.j2): its presence marks a copy of our mail.
PREFILL_NOTE = re.compile(r"違っていれば書き換えてください|if it is wrong, write over it", re.I)


def normalize(text: str) -> str:
    """NFKC: full-width digits, letters and colons become ASCII; half-width kana become full-width."""
    return unicodedata.normalize("NFKC", text)


def _quote_start(lines: list[str]) -> int:
    """Index of the line where the quoted original starts (len(lines) when there is none)."""
    for i in range(len(lines)):
        if _starts_quote(lines, i):
            return i
    return len(lines)


def _starts_quote(lines: list[str], i: int) -> bool:
    line = lines[i]
    if QUOTE_HEADER.match(line) or RULE_LINE.match(line) or SIGNATURE.match(line):
        return True
    if ATTRIBUTION_END.search(line):
        return True
    # An Outlook header block: From/差出人 followed within a few lines by Sent/送信日時.
    return bool(HEADER_FROM.match(line)) and any(HEADER_SENT.match(x) for x in lines[i + 1:i + 5])


def strip_quoted(text: str) -> str:
    """The reporter's own words: quoted lines and everything after a quote header or signature cut.

    The result is NFKC-normalised (full-width `：` and `＞` are ASCII afterwards).
    """
    lines = normalize(text).splitlines()
    start = _quote_start(lines)
    kept = [line for line in lines[:start] if not line.lstrip().startswith(">")]
    # "On Thu, ..., X <" / "a@b> wrote:": an attribution wrapped over two lines.
    if start < len(lines) and kept and ATTRIBUTION_START.match(kept[-1]) \
            and ATTRIBUTION_END.search(lines[start]):
        kept.pop()
    return "\n".join(kept)


_QUOTE_MARKS = re.compile(r"^(?:\s*>)+ ?")


def quoted_part(text: str) -> str:
    """The quoted original, NFKC-normalised, `>` marks taken off: `>` lines anywhere, and all
    that follows the first quote header, attribution line or signature."""
    lines = normalize(text).splitlines()
    start = _quote_start(lines)
    quoted = [line for line in lines[:start] if line.lstrip().startswith(">")] + lines[start:]
    return "\n".join(_QUOTE_MARKS.sub("", line) for line in quoted)


def _field_of(label: str) -> str | None:
    return _LABEL_FIELD.get(_LABEL_NOISE.sub("", label).lower())


def _label_value(line: str) -> tuple[str, str] | None:
    match = BRACKET_LINE.match(line) or FIELD_LINE.match(line)
    if not match:
        return None
    fieldname = _field_of(match.group("label"))
    return (fieldname, match.group("value").strip()) if fieldname else None


def _answers(lines: list[str]) -> dict[str, str]:
    """The first filled-in value of each field; a value may sit on the line below an empty label."""
    answers: dict[str, str] = {}
    for i, line in enumerate(lines):
        found = _label_value(line)
        if not found:
            continue
        fieldname, value = found
        if not value and i + 1 < len(lines) and lines[i + 1].strip() and not _label_value(lines[i + 1]):
            value = lines[i + 1].strip()
        if value and not is_unknown(value) and fieldname not in answers:
            answers[fieldname] = value
    return answers


def _same(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


def quoted_changes(text: str, sent: str) -> dict[str, str]:
    """Fields of the form filled in inside the quoted original, where they differ from the form
    as `sent`. A value that is the start of what we sent is a line a mailer wrapped, not an
    answer; a field emptied or marked unknown there says nothing."""
    ours = _answers(normalize(sent).splitlines())
    theirs = _answers(quoted_part(text).splitlines())
    squeezed = {field: "".join(value.split()) for field, value in ours.items()}
    return {field: value for field, value in theirs.items()
            if not _same(value, ours.get(field, ""))
            and not squeezed.get(field, "\0").startswith("".join(value.split()))}


def parse_fact_form(text: str, *, tz: ZoneInfo, today: date, known: dict | None = None,
                    sent: str | None = None) -> dict:
    """The facts a reporter filled in, keyed as the facts model; only keys actually answered.

    Keys: category (an id: the number of the list, a label or the id), discovered_at (ISO datetime in `tz`; midnight when only a date was given), data_items
    (list of ids), persons (int) with persons_estimated (bool), entrusted (bool) with client (str,
    when named), encrypted (bool). `today` anchors "今日", "yesterday" and dates without a year.
    When the text holds a copy of our guidance (its pre-fill note, unquoted: an autoresponder's
    echo, a whole mail pasted back), answers equal to the `known` values are what we pre-filled,
    not the reporter's word: only the values written over count. `sent` is the text of the
    guidance the form came in: with it, the fields changed inside the quoted original count too
    (the reporter's own words above the quote win over them).
    """
    facts: dict = {}
    own = strip_quoted(text)
    answers = _answers(own.splitlines())
    for fieldname, value in (quoted_changes(text, sent) if sent else {}).items():
        answers.setdefault(fieldname, value)
    for fieldname, value in answers.items():
        parsed = PARSERS[fieldname](value, tz, today) or {}
        # A count replaces an order of magnitude read before, and an order of magnitude a count.
        reset = {"persons_max"} | ({"persons"} if parsed.get("persons_max") is not None else set())
        facts.update({key: v for key, v in parsed.items() if v not in (None, [], "") or key in reset})
    if known and PREFILL_NOTE.search(own):
        facts = {key: v for key, v in facts.items() if key not in known or known[key] != v}
        if facts.keys() <= {"persons_estimated", "persons_over", "persons_max"}:
            facts = {key: v for key, v in facts.items() if v not in (None, False)}
    return facts


def sent_form(case: dict, message: dict) -> str | None:
    """The text of the guidance (the mail that carries the form) `message` answers: the one it
    replies to, else the latest sent to its sender, else the latest of the case."""
    guidance = [m for m in case.get("messages") or []
                if m.get("direction") == "out" and m.get("kind") == "guidance"]
    thread = {message.get("in_reply_to"), *(message.get("references") or [])} - {None}
    sender = (message.get("from") or "").lower()
    for chosen in ([m for m in guidance if m.get("message_id") in thread],
                   [m for m in guidance if sender in [t.lower() for t in m.get("to") or []]],
                   guidance):
        if chosen:
            return chosen[-1].get("text") or None
    return None


# ---- the form as sent: what was read, pre-filled, so the reporter corrects rather than retypes ----

MAGNITUDE_WORDS = {99: ("数十", "dozens"), 999: ("数百", "several hundred"), 9_999: ("数千", "several thousand"),
                   99_999: ("数万", "tens of thousands")}


def kind_choices(language: str) -> list[str]:
    """The kinds as the numbered list the form offers (reply with the number)."""
    index = 0 if language == "ja" else 1
    return [CATEGORY_LABELS[kind][index] for kind in CATEGORIES]


def _persons_text(values: dict, ja: bool) -> str:
    number, bound = values.get("persons"), values.get("persons_max")
    if number is None:
        words = MAGNITUDE_WORDS.get(bound)
        return (words[0] + "名" if ja else words[1]) if words else ""
    if values.get("persons_over"):
        return f"{number:,}名超" if ja else f"more than {number:,}"
    if values.get("persons_estimated"):
        return f"約{number:,}名" if ja else f"about {number:,}"
    return f"{number:,}名" if ja else f"{number:,}"


def _moment_text(value: str | None, tz: ZoneInfo) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        return moment.date().isoformat() if len(value) <= 10 else moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def prefill(values: dict, language: str, tz: ZoneInfo) -> dict[str, str]:
    """Each form field with what leakline read so far, written so the parser reads it back the same.

    Encryption is never pre-filled as given (only an explicit "なし"/"no"): the exception it
    would open is for a person to decide, not for a default left untouched.
    """
    ja = language == "ja"
    index = 0 if ja else 1
    category = values.get("category")
    entrusted = values.get("entrusted")
    return {
        "category": CATEGORY_LABELS[category][index] if category in CATEGORY_LABELS else "",
        "discovered_at": _moment_text(values.get("discovered_at"), tz),
        "data_items": ("、" if ja else ", ").join(DATA_ITEM_LABELS[i][index] for i in values.get("data_items") or []
                                                 if i in DATA_ITEM_LABELS),
        "persons": _persons_text(values, ja),
        "entrusted": (values.get("client") or ("はい" if ja else "yes")) if entrusted else
                     (("なし" if ja else "no") if entrusted is False else ""),
        "encrypted": ("なし" if ja else "no") if values.get("encrypted") is False else "",
    }
