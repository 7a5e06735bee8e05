"""Retention: after `retention_days`, a closed case keeps its record but not the personal data.

Raw messages and message texts are removed; the case record, facts, phases, deadlines and the
audit chain stay, with a `purged` event carrying the SHA-256 of everything removed, so the
chain still verifies and an auditor can still match a copy to what was deleted.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from leakline.store.cases import Store


def purgeable(store: Store, now: datetime, retention_days: int) -> list[str]:
    cutoff = now - timedelta(days=retention_days)
    due = []
    for row in store.summaries("closed"):
        closed_at = row.get("closed_at")
        if closed_at and datetime.fromisoformat(closed_at) <= cutoff:
            case = store.get(row["id"])
            if _holds_personal_data(store, case):
                due.append(row["id"])
    return due


def _holds_personal_data(store: Store, case: dict) -> bool:
    for message in case.get("messages", []):
        if not message.get("purged"):
            return True
        if message.get("raw") and store.raw_path(message["raw"]).exists():
            return True  # purged in the record, but a crash left the file behind
    return False


def purge_case(store: Store, case_id: str, actor: str = "system", outbox=None) -> list[dict]:
    """Remove a case's raw messages and texts, and the outbox's copies of what was sent to it.

    Returns what was removed (paths and hashes).
    """
    removed: list[dict] = []

    def strip(case: dict) -> list[dict] | None:
        for message in case.get("messages", []):
            if message.get("purged"):
                continue
            removed.append({
                "message_id": message.get("message_id"), "raw": message.get("raw"),
                "raw_sha256": message.get("sha256"),
                "text_sha256": hashlib.sha256((message.get("text") or "").encode()).hexdigest(),
            })
            message["text"] = None
            message["forwarded"] = []
            message["purged"] = True
        if not removed:
            return None
        return [{"action": "purged", "actor": actor, "details": {"removed": removed}}]

    case = store.update(case_id, strip)
    # Files go after the record says so: a crash in between leaves a file the next purge removes.
    for message in case.get("messages", []):
        if message.get("raw"):
            store.raw_path(message["raw"]).unlink(missing_ok=True)
        if outbox is not None and message.get("direction") == "out" and message.get("message_id"):
            outbox.forget_sent(message["message_id"])
    return removed
