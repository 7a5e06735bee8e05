"""The CLI's JSON: one style for instants, a schema version in each object, stable keys.

Instants are ISO 8601 with the offset of `[service] timezone`, whatever zone they were stored
in; dates stay YYYY-MM-DD. Each printed object (each element of a list) carries `schema`.
Keys are only ever added. Audit events are the exception: they are printed exactly as chained,
because their `hash` covers every key and value (docs/CONTRACTS.md).
"""

from __future__ import annotations

import json
from datetime import datetime, tzinfo

import click

from leakline.output import unfiltered

SCHEMA = 1
# Keys whose values are instants wherever they appear; `sent` maps marker keys to instants.
INSTANT_KEYS = frozenset({"received_at", "closed_at", "at", "saved_at", "sent_at", "failed_at",
                          "created_at", "queued_at", "next_attempt_at", "retried_at", "due", "warn",
                          "next_due", "officer_at", "since"})
INSTANT_FACTS = frozenset({"discovered_at", "occurred_at", "client_notified_at"})


def in_zone(value, tz: tzinfo):
    """An aware ISO date-time as the same instant in `tz`; anything else unchanged."""
    if not isinstance(value, str) or "T" not in value:
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    return moment.astimezone(tz).isoformat()


def instants(value, tz: tzinfo, key: str | None = None):
    """`value` with every instant under a known key shown in `tz`."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "sent" and isinstance(v, dict):
                out[k] = {marker: in_zone(at, tz) for marker, at in v.items()}
            elif k in INSTANT_FACTS and isinstance(v, dict) and "value" in v:
                out[k] = {**instants(v, tz), "value": in_zone(v["value"], tz)}
            else:
                out[k] = instants(v, tz, k)
        return out
    if isinstance(value, list):
        return [instants(v, tz, key) for v in value]
    return in_zone(value, tz) if key in INSTANT_KEYS else value


def versioned(obj: dict) -> dict:
    return {**obj, "schema": SCHEMA}


def echo_json(value, tz: tzinfo | None = None, *, schema: bool = True) -> None:
    """Print an object or a list of objects: instants in `tz`, `schema` in each object."""
    if tz is not None:
        value = instants(value, tz)
    if schema:
        value = [versioned(v) if isinstance(v, dict) else v for v in value] \
            if isinstance(value, list) else versioned(value) if isinstance(value, dict) else value
    if isinstance(value, list):
        # One object a line: json's C encoder (indent falls back to the pure-Python one, which
        # took most of the time of `cases list --json` over thousands of cases).
        text = "[\n" + ",\n".join(json.dumps(v, ensure_ascii=False) for v in value) + "\n]" \
            if value else "[]"
    else:
        text = json.dumps(value, ensure_ascii=False, indent=2)
    click.echo(text, file=unfiltered())


def public_case(case: dict) -> dict:
    """The stable JSON form of a case: internal bookkeeping keys are left out; `facts` has every
    fact, derived ones with source "derived" and unknown ones null; every message keeps its text."""
    from leakline.listing import is_updated
    from leakline.process.facts import shown

    out = {k: v for k, v in case.items()
           if k not in ("messages", "sent", "last_events", "event_count", "officer_by")}
    out["facts"] = shown(case.get("facts") or {})
    for key, empty in (("acks", []), ("drafts", []), ("notes", []), ("closed_at", None),
                       ("officer_at", None), ("assessment", None), ("phases", []),
                       ("deadlines", []), ("category", None)):
        out.setdefault(key, empty)
    out["updated"] = is_updated(case)
    out["updated_marker"] = case.get("updated")  # {"at", "reason"} when set by mark_updated
    out["messages"] = [
        {k: v for k, v in m.items() if k not in ("key",)} for m in case.get("messages", [])
    ]
    return out
