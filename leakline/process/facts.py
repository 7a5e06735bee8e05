"""The facts of a case: the fields, their sources and precedence, and the flags they imply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

# Each id with its Japanese and English label; the order is the order reports list them in.
CATEGORY_LABELS = {
    "misdirected_email": ("メールの誤送信", "email sent to the wrong recipient"),
    "misdirected_fax": ("FAXの誤送信", "fax sent to the wrong number"),
    "misdelivery": ("誤配達・誤交付（封入ミスを含む）", "post or documents delivered or handed to the wrong person"),
    "wrong_display": ("誤表示", "shown to the wrong person"),
    "wrong_entry": ("誤登録", "wrong data entered"),
    "loss": ("紛失", "loss"),
    "theft": ("盗難", "theft"),
    "wrong_disposal": ("誤廃棄", "wrongly discarded"),
    "unauthorized_access": ("不正アクセス", "unauthorized access"),
    "malware": ("マルウェア感染", "malware"),
    "insider": ("内部不正（不正な持ち出し等）", "insider wrongdoing"),
    "verbal": ("口頭での漏えい", "verbal disclosure"),
    "misuse": ("目的外利用", "use beyond the purpose"),
    "other": ("その他", "other"),
}
CATEGORIES = tuple(CATEGORY_LABELS)

DATA_ITEM_LABELS = {
    "name": ("氏名", "name"),
    "address": ("住所", "postal address"),
    "phone": ("電話番号", "phone number"),
    "email": ("メールアドレス", "email address"),
    "birthdate": ("生年月日", "date of birth"),
    "gender": ("性別", "gender"),
    "employee_id": ("社員番号", "employee number"),
    "customer_id": ("顧客番号・会員番号", "customer or member number"),
    "photo": ("顔写真", "photograph"),
    "salary": ("給与情報", "salary"),
    "medical": ("病歴・健康診断結果等", "medical history or health check results"),
    "disability": ("障害に関する情報", "disability"),
    "criminal_record": ("犯罪歴", "criminal record"),
    "creed": ("信条", "creed or religion"),
    "race": ("人種", "race"),
    "social_status": ("社会的身分", "social status"),
    "crime_victim": ("犯罪により害を被った事実", "having been a victim of crime"),
    "card_number": ("クレジットカード番号", "credit card number"),
    "account": ("銀行口座情報", "bank account details"),
    "pin": ("暗証番号", "PIN"),
    "id_password": ("決済・銀行サービスのID・パスワード", "ID and password for payment or banking"),
    "login": ("ログインID・パスワード（決済機能なし）", "login ID and password (no payment function)"),
    "my_number": ("個人番号（マイナンバー）", "My Number (individual number)"),
    "other": ("その他", "other"),
}
DATA_ITEMS = tuple(DATA_ITEM_LABELS)

# 要配慮個人情報 (sensitive personal information), APPI Art. 2(3) and Cabinet Order Art. 2.
SENSITIVE_ITEMS = frozenset({"medical", "disability", "criminal_record", "creed", "race",
                             "social_status", "crime_victim"})
# Enforcement Rules Art. 7(2): data whose misuse can take someone's money. A bank account
# number alone is not enough (PPC guideline 3-5-3-1), so `account` is not in this set.
FINANCIAL_ITEMS = frozenset({"card_number", "id_password", "pin"})
# Art. 7(3): acts that may have a wrongful purpose.
WRONGFUL_CATEGORIES = frozenset({"unauthorized_access", "malware", "theft", "insider"})
# Mistakes by our own people; nobody acted with a wrongful purpose unless someone says so.
ACCIDENT_CATEGORIES = frozenset({"misdirected_email", "misdirected_fax", "misdelivery",
                                 "wrong_display", "wrong_entry", "wrong_disposal", "verbal"})

FLAGS = ("sensitive", "financial", "wrongful", "encrypted", "entrusted")
# key_leaked and recovered_unread decide exceptions that remove duties: only a person sets them
# to the value that removes one (the rules check the source). encryption_claim is what a report
# says about encryption, kept as a question for the officer, never as the fact itself.
DECISION_FLAGS = ("key_leaked", "recovered_unread")
FIELDS = ("discovered_at", "occurred_at", "category", "persons", "persons_estimated",
          "persons_over", "persons_max", "data_items", *FLAGS, *DECISION_FLAGS,
          "encryption_claim", "client", "client_notified_at")
SOURCES = ("extracted", "reply", "admin")  # lowest to highest precedence
DEFAULTS = {"discovered_at": None, "occurred_at": None, "category": None, "persons": None,
            "persons_estimated": False, "persons_over": False, "persons_max": None,
            "data_items": [], **{flag: None for flag in (*FLAGS, *DECISION_FLAGS)},
            "encryption_claim": None, "client": None, "client_notified_at": None}


class FactError(ValueError):
    """A fact that cannot be stored; the message is one line naming the field."""


@dataclass(frozen=True)
class Change:
    """One field as it changed, for the audit trail."""

    field: str
    old: Any
    new: Any
    source: str
    by: str
    at: str
    old_source: str | None = None

    def to_dict(self) -> dict:
        return {"field": self.field, "old": self.old, "new": self.new, "source": self.source,
                "by": self.by, "at": self.at, "old_source": self.old_source}


def _flag(field: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise FactError(f"{field}: expected true, false or unknown, got {value!r}")


def _discovered_at(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise FactError(f"{field}: expected an ISO date or date-time, got {value!r}") from None
    return value


def _category(field: str, value: Any) -> str | None:
    if value is not None and value not in CATEGORIES:
        raise FactError(f"{field}: unknown category {value!r} (one of {', '.join(CATEGORIES)})")
    return value


def _persons(field: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FactError(f"{field}: expected a number of persons (0 or more) or unknown, got {value!r}")
    return value


def _estimated(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise FactError(f"{field}: expected true or false, got {value!r}")
    return value


def _data_items(field: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise FactError(f"{field}: expected a list of data items, got {value!r}")
    unknown = [item for item in value if item not in DATA_ITEMS]
    if unknown:
        raise FactError(f"{field}: unknown data item {unknown[0]!r} (one of {', '.join(DATA_ITEMS)})")
    return [item for item in DATA_ITEMS if item in value]  # canonical order, no duplicates


def _client(field: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise FactError(f"{field}: expected text, got {value!r}")
    return (value or "").strip() or None


VALIDATORS: dict[str, Callable[[str, Any], Any]] = {
    "discovered_at": _discovered_at, "occurred_at": _discovered_at,
    "client_notified_at": _discovered_at, "category": _category, "persons": _persons,
    "persons_estimated": _estimated, "persons_over": _estimated, "persons_max": _persons,
    "data_items": _data_items, **{flag: _flag for flag in (*FLAGS, *DECISION_FLAGS)},
    "encryption_claim": _client, "client": _client,
}


def validate(field: str, value: Any) -> Any:
    """The value as stored, or FactError."""
    if field not in VALIDATORS:
        raise FactError(f"{field}: unknown fact (one of {', '.join(FIELDS)})")
    return VALIDATORS[field](field, value)


def _stamp(at: Any) -> str:
    return at.isoformat() if isinstance(at, datetime) else str(at)


def merge(records: dict, values: dict, *, source: str, by: str, at: Any,
          evidence: dict | None = None) -> tuple[dict, list[Change]]:
    """Records with `values` applied from `source`, and what changed.

    A source never overwrites a higher one (admin > reply > extracted); the same or a higher
    source overwrites. Everything is validated before anything is applied.
    """
    if source not in SOURCES:
        raise FactError(f"source: expected one of {', '.join(SOURCES)}, got {source!r}")
    if "persons" in values and "persons_estimated" not in values:
        values = {**values, "persons_estimated": False}  # a count given alone is exact
    clean = {field: validate(field, value) for field, value in values.items()}
    evidence = evidence or {}
    merged, changes = dict(records), []
    for field, value in clean.items():
        old = records.get(field)
        if old and SOURCES.index(old["source"]) > SOURCES.index(source):
            continue
        if old and old["value"] == value and old["source"] == source:
            continue
        merged[field] = {"value": value, "source": source, "by": by, "at": _stamp(at),
                         "evidence": evidence.get(field)}
        changes.append(Change(field, old["value"] if old else None, value, source, by,
                              _stamp(at), old["source"] if old else None))
    return merged, changes


@dataclass(frozen=True)
class Derivation:
    """A flag that other facts imply; it fills an unknown flag and never overrides a stated one."""

    field: str
    value: bool
    why: str
    holds: Callable[[dict], str | None]  # the triggering fact, or None


def _items_in(items: frozenset) -> Callable[[dict], str | None]:
    return lambda v: ", ".join(i for i in v["data_items"] if i in items) or None


def _category_in(categories: frozenset) -> Callable[[dict], str | None]:
    return lambda v: v["category"] if v["category"] in categories else None


DERIVATIONS = (
    Derivation("sensitive", True, "data item {} is 要配慮個人情報 (sensitive personal information)",
               _items_in(SENSITIVE_ITEMS)),
    Derivation("financial", True, "data item {} can be used to take money", _items_in(FINANCIAL_ITEMS)),
    Derivation("wrongful", True, "category {} may have a wrongful purpose",
               _category_in(WRONGFUL_CATEGORIES)),
    Derivation("wrongful", False, "category {} is a mistake, not a wrongful act",
               _category_in(ACCIDENT_CATEGORIES)),
)


@dataclass(frozen=True)
class Known:
    """The current value of every fact and a one-line reason for each known one."""

    values: dict
    why: dict

    def __getitem__(self, field: str) -> Any:
        return self.values[field]


def _why_recorded(record: dict) -> str:
    said = record.get("evidence") or f"set by {record.get('by') or 'unknown'}"
    return f"{said} ({record['source']})"


def known(records: dict) -> Known:
    """Current values (defaults where nothing is recorded) with derived flags filled in."""
    values = {field: DEFAULTS[field] for field in FIELDS}
    why = {}
    for field in FIELDS:
        if field in records and records[field].get("value") is not None:
            values[field] = records[field]["value"]
            why[field] = _why_recorded(records[field])
    values["data_items"] = list(values["data_items"])
    for rule in DERIVATIONS:
        cause = rule.holds(values)
        if cause and values[rule.field] is None:
            values[rule.field] = rule.value
            why[rule.field] = rule.why.format(cause) + " (derived)"
    return Known(values, why)


def current(records: dict) -> dict:
    """Plain current values of all fields."""
    return known(records).values


def learned_at(case: dict) -> str | None:
    """When the organisation learned of it: the recorded fact, else when the report was received."""
    return current(case.get("facts") or {})["discovered_at"] or case.get("received_at")
