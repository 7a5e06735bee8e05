"""What `cases list` shows of a case besides its summary: ack state, reportable, next due, updated.

The fields are computed when a case is saved (Store's `summarize` hook), so listing 100k cases
reads only the index. "Updated" means mail an officer has not seen: a message from outside
(a follow-up, not the report itself, a bounce or a manager's reply) received after the last
officer action, or the explicit marker `mark_updated` sets (e.g. on a closed case's follow-up).
Any officer action (`officer_acted`) clears both.
"""

from __future__ import annotations

from datetime import datetime

from leakline.process.deadlines import days_left, is_past

LISTING_FIELDS = ("acked", "reportable", "next_due", "next_due_kind", "updated")
OPEN_DEADLINE = ("open", "pending", "overdue")
NOT_NEWS = frozenset({"report", "bounce", "manager_reply"})


def mark_updated(case: dict, reason: str, at: str) -> None:
    """Flag a case for `cases list --updated` (the caller saves it with an audit event)."""
    case["updated"] = {"at": at, "reason": reason}


def officer_acted(case: dict, by: str, at: str) -> None:
    """An officer looked at the case and acted: what was new is seen."""
    case["officer_at"] = at
    case["officer_by"] = by
    case["updated"] = None


def _instant(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def is_updated(case: dict) -> bool:
    if case.get("updated"):
        return True
    seen = _instant(case.get("officer_at"))
    for message in case.get("messages") or []:
        if message.get("direction") != "in" or message.get("kind") in NOT_NEWS:
            continue
        when = _instant(message.get("received_at"))
        if seen is None or (when is not None and when > seen):
            return True
    return False


def next_deadline(case: dict) -> dict | None:
    """The earliest deadline still to meet (open, pending or overdue), or None."""
    due = [d for d in case.get("deadlines") or [] if d.get("status") in OPEN_DEADLINE]
    return min(due, key=lambda d: (str(d["due"])[:10], str(d["due"])), default=None)


def listing_fields(case: dict) -> dict:
    """The fields the index keeps for `cases list` (Store's summarize hook)."""
    nearest = next_deadline(case)
    return {"acked": bool(case.get("acks")),
            "reportable": (case.get("assessment") or {}).get("ppc_report_required"),
            "next_due": nearest["due"] if nearest else None,
            "next_due_kind": nearest["kind"] if nearest else None,
            "updated": is_updated(case)}


def row_for_listing(row: dict, store, *, now: datetime, tz) -> dict:
    """An index row with the listing fields (read from the case where an old index lacks them)
    and, at `now`, the days left to the next due date and whether it is overdue."""
    if any(field not in row for field in LISTING_FIELDS):
        row = {**row, **listing_fields(store.get(row["id"]))}
    due = row["next_due"]
    return {**row, "days_left": days_left({"due": due}, now=now, tz=tz) if due else None,
            "overdue": bool(due) and row.get("status") == "open" and is_past(due, now)}


def matches(row: dict, *, unacked: bool, reportable: bool, overdue: bool, updated: bool) -> bool:
    """The filters of `cases list`; reportable includes undetermined (treated as due)."""
    return not ((unacked and row["acked"]) or (reportable and row["reportable"] is False)
                or (overdue and not row["overdue"]) or (updated and not row["updated"]))


def open_deadlines(store, *, now: datetime, tz) -> list[dict]:
    """Every deadline still to meet in the open cases, at `now`, soonest first.

    Rows are the deadline (kind = the step that meets it) with `id` (the case; `case` too, its
    older name) and `days_left`.
    """
    from leakline.process import migrate
    from leakline.process.deadlines import refreshed

    rows = []
    for case in store.cases("open"):
        for stored in migrate(case).get("deadlines") or []:
            current = refreshed(stored, now=now, tz=tz)
            if current["status"] in OPEN_DEADLINE:
                rows.append({"id": case["id"], "case": case["id"], **current,
                             "days_left": days_left(current, now=now, tz=tz)})
    rows.sort(key=lambda r: (r["days_left"], r["id"]))
    return rows


def due_deadlines(rows: list[dict], *, within: int | None = None, overdue: bool = False) -> list[dict]:
    """Of open_deadlines' rows, those overdue (`overdue`) or due within `within` days (overdue
    ones included): what `leakline deadlines --within/--overdue` lists."""
    return [r for r in rows if not (overdue and r["status"] != "overdue")
            and not (within is not None and r["days_left"] > within)]
