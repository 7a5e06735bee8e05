"""The facts of a case: the fields, their sources and precedence, and the flags they imply."""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from datetime import date, datetime
from typing import Any, Callable

from .vocabulary import (ACCIDENT_CATEGORIES, AUDIENCE_LABELS, AUDIENCES, CATEGORIES,  # noqa: F401
                         CATEGORY_LABELS, CAUSED_BY, DATA_ITEM_LABELS, DATA_ITEMS, FINANCIAL_ITEMS,
                         MEDIA, NOT_CUSTOMERS, SENSITIVE_ITEMS, WRONGFUL_CATEGORIES)

FLAGS = ("sensitive", "financial", "wrongful", "encrypted", "entrusted")
# key_leaked and recovered_unread decide exceptions that remove duties: only a person sets them
# to the value that removes one (the rules check the source). encryption_claim is what a report
# says about encryption, kept as a question for the officer, never as the fact itself.
# persons_unreachable moves the notice to the persons onto the public notice (APPI Art. 26(2)
# proviso); publicly_exposed is My Number rule Art. 2(3); gdpr_high_risk is GDPR Art. 34's test.
DECISION_FLAGS = ("key_leaked", "recovered_unread", "persons_unreachable", "publicly_exposed",
                  "gdpr_high_risk")
FIELDS = ("discovered_at", "occurred_at", "category", "persons", "persons_estimated",
          "persons_over", "persons_max", "data_items", *FLAGS, *DECISION_FLAGS,
          "encryption_claim", "client", "client_notified_at", "medium", "audience", "caused_by",
          "secondary_harm")
SOURCES = ("extracted", "reply", "admin")  # lowest to highest precedence
DEFAULTS = {"discovered_at": None, "occurred_at": None, "category": None, "persons": None,
            "persons_estimated": False, "persons_over": False, "persons_max": None,
            "data_items": [], **{flag: None for flag in (*FLAGS, *DECISION_FLAGS)},
            "encryption_claim": None, "client": None, "client_notified_at": None,
            "medium": None, "audience": None, "caused_by": None, "secondary_harm": None}


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


def _one_of(choices: tuple[str, ...]) -> Callable[[str, Any], str | None]:
    def check(field: str, value: Any) -> str | None:
        if value is not None and value not in choices:
            raise FactError(f"{field}: expected one of {', '.join(choices)} or unknown, got {value!r}")
        return value
    return check


VALIDATORS: dict[str, Callable[[str, Any], Any]] = {
    "discovered_at": _discovered_at, "occurred_at": _discovered_at,
    "client_notified_at": _discovered_at, "category": _category, "persons": _persons,
    "persons_estimated": _estimated, "persons_over": _estimated, "persons_max": _persons,
    "data_items": _data_items, **{flag: _flag for flag in (*FLAGS, *DECISION_FLAGS)},
    "encryption_claim": _client, "client": _client, "secondary_harm": _client,
    "medium": _one_of(MEDIA), "audience": _one_of(AUDIENCES), "caused_by": _one_of(CAUSED_BY),
}


def validate(field: str, value: Any) -> Any:
    """The value as stored, or FactError."""
    if field not in VALIDATORS:
        raise FactError(f"{field}: unknown fact (one of {', '.join(FIELDS)})")
    return VALIDATORS[field](field, value)


def _stamp(at: Any) -> str:
    return at.isoformat() if isinstance(at, datetime) else str(at)


def _count_qualifiers(records: dict, values: dict) -> dict:
    """A count given alone is exact: not an estimate, not "more than", and no wider bound."""
    if "persons" not in values:
        return values
    values = dict(values)
    values.setdefault("persons_estimated", False)
    if "persons_over" not in values and (records.get("persons_over") or {}).get("value"):
        values["persons_over"] = False
    exact = not values["persons_estimated"] and not values.get("persons_over")
    if exact and "persons_max" not in values and (records.get("persons_max") or {}).get("value") is not None:
        values["persons_max"] = None
    return values


def merge(records: dict, values: dict, *, source: str, by: str, at: Any,
          evidence: dict | None = None) -> tuple[dict, list[Change]]:
    """Records with `values` applied from `source`, and what changed.

    A source never overwrites a higher one (admin > reply > extracted); the same or a higher
    source overwrites. Everything is validated before anything is applied.
    """
    if source not in SOURCES:
        raise FactError(f"source: expected one of {', '.join(SOURCES)}, got {source!r}")
    values = _count_qualifiers(records, values)
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
    """A flag that other facts imply; it fills an unknown flag, and replaces one stated only by
    the sources in `outranks` (an admin's list of data items beats the text's guess)."""

    field: str
    value: bool
    why: str
    holds: Callable[[dict, dict], str | None]  # (values, sources) -> the triggering fact, or None
    outranks: tuple[str, ...] = ()


def _items_in(items: frozenset) -> Callable[[dict, dict], str | None]:
    return lambda v, src: ", ".join(i for i in v["data_items"] if i in items) or None


def _admin_items_without(items: frozenset) -> Callable[[dict, dict], str | None]:
    # Once a person listed the data items, an item that is not listed is not there; the text
    # alone never decides that (it may simply not mention the medical column).
    def holds(v: dict, src: dict) -> str | None:
        if src.get("data_items") != "admin" or not v["data_items"]:
            return None
        return None if any(i in items for i in v["data_items"]) else ", ".join(v["data_items"])
    return holds


def _category_in(categories: frozenset) -> Callable[[dict, dict], str | None]:
    return lambda v, src: v["category"] if v["category"] in categories else None


# Mistakes that put data before particular people, never on the open internet: My Number rule
# Art. 2(3) ("電磁的方法により不特定多数の者が閲覧") cannot hold (My Number Q&A Q17-10).
PARTICULAR_RECIPIENTS = frozenset({"misdirected_email", "misdirected_fax", "misdelivery", "verbal",
                                   "loss", "wrong_disposal", "wrong_entry"})

DERIVATIONS = (
    Derivation("sensitive", True, "data item {} is 要配慮個人情報 (sensitive personal information)",
               _items_in(SENSITIVE_ITEMS)),
    Derivation("financial", True, "data item {} can be used to take money", _items_in(FINANCIAL_ITEMS)),
    Derivation("sensitive", False, "no sensitive item among the data items an admin listed ({})",
               _admin_items_without(SENSITIVE_ITEMS), outranks=("extracted", "reply")),
    Derivation("financial", False, "no financial item among the data items an admin listed ({})",
               _admin_items_without(FINANCIAL_ITEMS), outranks=("extracted", "reply")),
    Derivation("wrongful", True, "category {} may have a wrongful purpose",
               _category_in(WRONGFUL_CATEGORIES)),
    Derivation("wrongful", False, "category {} is a mistake, not a wrongful act",
               _category_in(ACCIDENT_CATEGORIES)),
    Derivation("publicly_exposed", False, "category {} puts data before particular people, "
               "not on open view", _category_in(PARTICULAR_RECIPIENTS)),
)


@dataclass(frozen=True)
class Known:
    """The current value of every fact, a one-line reason for each known one, and its source
    (extracted, reply, admin or derived)."""

    values: dict
    why: dict
    sources: dict = dataclass_field(default_factory=dict)

    def __getitem__(self, field: str) -> Any:
        return self.values[field]

    def by_admin(self, field: str) -> bool:
        """Whether a person with authority stated this fact (derivations and reporters do not count)."""
        return self.sources.get(field) == "admin"


def _why_recorded(record: dict) -> str:
    said = record.get("evidence") or f"set by {record.get('by') or 'unknown'}"
    return f"{said} ({record['source']})"


def known(records: dict) -> Known:
    """Current values (defaults where nothing is recorded) with derived flags filled in."""
    values = {field: DEFAULTS[field] for field in FIELDS}
    why, sources = {}, {}
    for field in FIELDS:
        if field in records and records[field].get("value") is not None:
            values[field] = records[field]["value"]
            why[field] = _why_recorded(records[field])
            sources[field] = records[field]["source"]
    values["data_items"] = list(values["data_items"])
    for rule in DERIVATIONS:
        cause = rule.holds(values, sources)
        if cause and (values[rule.field] is None or sources.get(rule.field) in rule.outranks):
            values[rule.field] = rule.value
            why[rule.field] = rule.why.format(cause) + " (derived)"
            sources[rule.field] = "derived"
    return Known(values, why, sources)


EMPTY_RECORD = {"value": None, "source": None, "by": None, "at": None, "evidence": None}


def shown(records: dict) -> dict:
    """Every fact as `cases show --json` prints it: the stored record where there is one, a
    derived flag as a record with source "derived", and null (never a string) for the unknown."""
    facts = known(records)
    out = {}
    for field in FIELDS:
        record = records.get(field)
        if facts.sources.get(field) == "derived":
            out[field] = {**EMPTY_RECORD, "value": facts[field], "source": "derived",
                          "evidence": facts.why[field].removesuffix(" (derived)")}
        elif record and record.get("value") is not None:
            out[field] = {**EMPTY_RECORD, **record}
        else:
            out[field] = dict(EMPTY_RECORD)
    return out


def current(records: dict) -> dict:
    """Plain current values of all fields."""
    return known(records).values


def learned_at(case: dict) -> str | None:
    """When the organisation learned of it: the recorded fact, else when the report was received."""
    return current(case.get("facts") or {})["discovered_at"] or case.get("received_at")
