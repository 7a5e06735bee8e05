"""The legal assessment of a case as the managers' mails show it: structured, never prose.

The assessment's `reasons` and `open_questions` are English sentences for the CLI and the audit;
a Japanese mail must not carry them. This module reduces a case to ids, states and dates, and
templates/<lang>/assessment.j2 words them: triggers as 「規則第7条第4号（…）」, each report or
notice required or undetermined, the nearest due dates, the open questions.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from leakline.process.deadlines import days_left, refreshed
from leakline.process.facts import known

OPEN = ("open", "pending", "overdue")


def _either(*values) -> bool | None:
    """True if any is True, else None if any is None (undetermined), else False."""
    if True in values:
        return True
    return None if None in values else False


# Each duty in the order managers act on them, and how an assessment dict says it is owed.
DUTIES = (
    ("ppc_preliminary", lambda a: a.get("ppc_report_required")),
    ("ppc_final", lambda a: a.get("ppc_report_required")),
    ("persons_notice", lambda a: _either(a.get("persons_notice_required"),
                                         (a.get("gdpr") or {}).get("persons_notice_required", False))),
    ("public_notice", lambda a: a.get("public_notice_required")),
    ("my_number_report", lambda a: (a.get("my_number") or {}).get("report_required", False)),
    ("review_body_preliminary", lambda a: (a.get("privacy_mark") or {}).get("preliminary_required", False)),
    ("review_body_final", lambda a: (a.get("privacy_mark") or {}).get("final_required", False)),
    ("client_notice", lambda a: (a.get("client") or {}).get("required", False)),
    ("gdpr_72h", lambda a: (a.get("gdpr") or {}).get("report_required", False)),
    ("gdpr_controller_notice", lambda a: (a.get("gdpr") or {}).get("controller_notice_required", False)),
    ("sector_report", lambda a: (a.get("sector") or {}).get("report_required", False)),
)


def duties(assessment: dict) -> list[dict]:
    """[{"id", "state": "required"|"undetermined"}] of every duty that is owed or may be."""
    found = []
    for name, owed in DUTIES:
        value = owed(assessment)
        if value is not False:
            found.append({"id": name, "state": "required" if value else "undetermined"})
    return found


def questions(case: dict) -> list[str]:
    """Codes of what a person must answer, the structured twins of the assessment's
    open_questions (T1-T4, my_number, recovered_unread, encryption, key_leaked, client,
    gdpr_high_risk)."""
    a = case.get("assessment") or {}
    facts = known(case.get("facts") or {})
    found = [] if a.get("not_a_leak") else list(a.get("triggers_undetermined") or [])
    if not a.get("not_a_leak") and (a.get("my_number") or {}).get("report_required", False) is None:
        found.append("my_number")
    if not a.get("not_a_leak") and facts["recovered_unread"] is True and not facts.by_admin("recovered_unread"):
        found.append("recovered_unread")
    owed = a.get("triggers") or a.get("triggers_undetermined") or \
        (a.get("my_number") or {}).get("report_required", False) is not False
    if not a.get("not_a_leak") and owed and not a.get("exempt_by_encryption"):
        found += _encryption(facts)
    if (a.get("client") or {}).get("required", False) is None:
        found.append("client")
    gdpr = a.get("gdpr") or {}
    if gdpr.get("applies") and gdpr.get("role") == "controller" and gdpr.get("high_risk") is None:
        found.append("gdpr_high_risk")
    return found


def _encryption(facts) -> list[str]:
    if facts["encrypted"] is False and facts.by_admin("encrypted"):
        return []
    if facts["encrypted"] is True and facts.by_admin("encrypted"):
        return ["key_leaked"]
    return ["encryption"] if facts["encryption_claim"] or facts["encrypted"] is True else []


def _when(due: str) -> dict:
    """A due date as the templates write it: year, month, day (no leading zeros) and, for a
    GDPR instant, the local time."""
    value = datetime.fromisoformat(due) if "T" in due else date.fromisoformat(due)
    time = value.strftime("%H:%M") if isinstance(value, datetime) else None
    return {"y": value.year, "m": value.month, "d": value.day, "time": time, "iso": due}


def nearest(case: dict, *, now: datetime, tz: tzinfo, limit: int = 3,
            leave_out: str | None = None) -> list[dict]:
    """The earliest deadlines still to meet: [{"kind", "status", "days_left", "due": _when}]."""
    rows = []
    for stored in case.get("deadlines") or []:
        current = refreshed(stored, now=now, tz=tz)
        if current["status"] in OPEN and current["kind"] != leave_out:
            rows.append({"kind": current["kind"], "status": current["status"],
                         "days_left": days_left(current, now=now, tz=tz), "due": _when(current["due"])})
    rows.sort(key=lambda r: (r["days_left"], r["due"]["iso"], r["kind"]))
    return rows[:limit]


def view(case: dict, *, now: datetime, tz: tzinfo, leave_out: str | None = None) -> dict:
    """What a manager's mail shows of the assessment; `assessed` False before the first one."""
    a = case.get("assessment") or {}
    return {
        "assessed": bool(a),
        "triggers": list(a.get("triggers") or []),
        "undetermined": [] if a.get("not_a_leak") else list(a.get("triggers_undetermined") or []),
        "not_a_leak": bool(a.get("not_a_leak")),
        "exempt": bool(a.get("exempt_by_encryption")),
        "released": bool(a.get("released_to_client")),
        "report_to": a.get("report_to") or "",
        "duties": duties(a) if a else [],
        "due": nearest(case, now=now, tz=tz, leave_out=leave_out),
        "questions": questions(case) if a else [],
    }
