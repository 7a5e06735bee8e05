"""What a report draft says, gathered from a case: facts, the assessment, the phases' notes.

Two contexts: `public` (a notice to the persons or the public: labels, dates and counts only, no
free text, nobody named, no client) and `full` (reports to the authorities, the review body and
the client: with the notes of the phases and the reporter block). Templates word them.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from .deadlines import JAPAN, knowledge_day
from .facts import (AUDIENCE_LABELS, CATEGORY_LABELS, DATA_ITEM_LABELS, FINANCIAL_ITEMS, Known,
                    known, learned_at)
from .rules import TRIGGER_ARTICLES

LANG_INDEX = {"ja": 0, "en": 1}
CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
PREVENTION = ("facts", "cause", "measures", "implementation", "verification")
# The medium a kind of incident implies, where the facts do not say (item 2 of the PPC's form).
MEDIUM_OF = {"misdirected_email": "electronic", "unauthorized_access": "electronic", "malware": "electronic",
             "wrong_display": "electronic", "misdirected_fax": "paper", "misdelivery": "paper"}
EMPLOYEE_ITEMS = frozenset({"employee_id", "salary"})
CUSTOMER_ITEMS = frozenset({"customer_id", "card_number", "account", "pin", "id_password"})
# What the persons can do to protect themselves, by data item (persons notice).
ADVICE_ITEMS = ("card_number", "id_password", "login", "account", "pin", "email", "address", "phone",
                "my_number")


def one_line(text) -> str:
    """Free text as one line without control characters (a note or a name from outside)."""
    return " ".join(CONTROL.sub(" ", str(text or "")).split())


def day_of(value, lang: str) -> str | None:
    """An ISO date or date-time as a Japanese date (APPI days), worded for the language."""
    if not value:
        return None
    try:
        d = value if isinstance(value, date) and not isinstance(value, datetime) else \
            knowledge_day(value if isinstance(value, (str, datetime)) else str(value), JAPAN)
    except ValueError:
        return None
    return f"{d.year}年{d.month}月{d.day}日" if lang == "ja" else d.isoformat()


def _phase(case: dict, phase_id: str) -> dict:
    return next((p for p in case.get("phases") or [] if p["id"] == phase_id), {"steps": []})


def step(case: dict, phase_id: str, step_id: str) -> dict:
    found = next((s for s in _phase(case, phase_id)["steps"] if s["id"] == step_id), None)
    return found or {"status": "open", "note": None, "closed_at": None, "reason": None}


def audience_of(facts: Known, chosen: str | None) -> str:
    """Who the persons are: the option, the fact, else what the data items suggest."""
    if chosen:
        return chosen
    if facts["audience"]:
        return facts["audience"]
    items = set(facts["data_items"])
    if items & EMPLOYEE_ITEMS and not items & CUSTOMER_ITEMS:
        return "employees"
    return "customers" if items & CUSTOMER_ITEMS else "others"


def _persons(facts: Known) -> dict:
    return {"count": facts["persons"], "estimated": facts["persons_estimated"],
            "over": facts["persons_over"], "max": facts["persons_max"]}


def _risks(facts: Known) -> list[str]:
    risks = [flag for flag in ("sensitive", "financial", "wrongful") if facts[flag]]
    return risks + (["my_number"] if "my_number" in facts["data_items"] else [])


def _advice(facts: Known) -> list[str]:
    items = [i for i in ADVICE_ITEMS if i in facts["data_items"]]
    if facts["financial"] and not set(items) & FINANCIAL_ITEMS:
        items.insert(0, "card_number")
    return ["phishing"] + items + (["sensitive"] if facts["sensitive"] else [])


def _encryption(facts: Known) -> str:
    if facts["encrypted"] is True and facts.by_admin("encrypted") and facts["key_leaked"] is False \
            and facts.by_admin("key_leaked"):
        return "confirmed"
    if facts["encrypted"] is False:  # saying "not encrypted" removes no duty: any source may
        return "none"
    if facts["key_leaked"] is True:
        return "key_leaked"
    return "claimed" if facts["encryption_claim"] or facts["encrypted"] else "unknown"


def _persons_response(case: dict, a: dict) -> str:
    notice = step(case, "publication", "persons_notice")
    if notice["status"] == "closed":
        return "done"
    for key, word in (("not_a_leak", "not_a_leak"), ("released_to_client", "released"),
                      ("exempt_by_encryption", "exempt"), ("public_notice_required", "unreachable")):
        if a.get(key) is True:
            return word
    if notice["status"] == "not_applicable":
        return "not_required"
    return "planned" if notice["status"] == "open" else "undetermined"


def public(case: dict, kind: str, lang: str, *, org, preliminary: bool, audience: str | None = None,
           today: date | None = None) -> dict:
    """What a notice to the persons or the public may say: labels, dates and counts, nobody named."""
    facts = known(case.get("facts") or {})
    i = LANG_INDEX[lang]
    a = case.get("assessment") or {}
    who = audience_of(facts, audience)
    contact = org.contact
    return {
        "kind": kind, "lang": lang, "preliminary": preliminary,
        "org_name": one_line(org.legal_name or org.name),
        "today": day_of(today, lang) if today else None,
        "occurred": day_of(facts["occurred_at"], lang), "discovered": day_of(learned_at(case), lang),
        "category": CATEGORY_LABELS[facts["category"]][i] if facts["category"] else None,
        "category_id": facts["category"],
        "data_items": [DATA_ITEM_LABELS[item][i] for item in facts["data_items"]],
        "persons": _persons(facts), "risks": _risks(facts), "advice": _advice(facts),
        "audience": who, "audience_label": AUDIENCE_LABELS[who][i],
        "encryption": _encryption(facts), "wrongful": facts["wrongful"],
        "unreachable": a.get("public_notice_required") is True,
        "persons_response": _persons_response(case, a),
        "enquiry_desk": [one_line(line) for line in (contact.enquiry_desk or "").splitlines() if line.strip()],
    }


def _timeline(case: dict, facts: Known, lang: str) -> list[tuple[str, str, str]]:
    """Dated events of the case in order: (date, what, note), for reports to bodies only."""
    events = [(facts["occurred_at"], "occurred", ""), (learned_at(case), "discovered", "")]
    for phase_id in ("report", "containment"):
        phase = _phase(case, phase_id)
        if phase.get("status") == "closed":
            events.append((phase.get("closed_at"), phase_id,
                           "" if phase_id == "report" else one_line(phase.get("note"))))
    for phase_id, step_id in (("publication", "client_notice"), ("publication", "persons_notice"),
                              ("publication", "public_notice"), ("authorities", "ppc_preliminary"),
                              ("authorities", "review_body_preliminary"), ("authorities", "sector_report")):
        found = step(case, phase_id, step_id)
        if found["status"] == "closed":
            events.append((found.get("closed_at"), step_id, one_line(found.get("note"))))
    dated = [event for event in events if event[0]]
    dated.sort(key=lambda e: knowledge_day(e[0], JAPAN))  # stable: same-day events keep their order
    return [(day_of(value, lang) or "", what, note) for value, what, note in dated]


def _our_domain(case: dict, org) -> bool:
    reporter = str(case.get("reporter") or "")
    return "@" in reporter and org.is_internal(reporter)


def _notes(case: dict) -> dict:
    notes = {}
    for step_id in PREVENTION:
        found = step(case, "prevention", step_id)
        notes[step_id] = one_line(found["note"]) if found["status"] == "closed" else None
    containment = _phase(case, "containment")
    notes["containment"] = one_line(containment.get("note")) if containment.get("status") == "closed" else None
    return notes


def full(case: dict, kind: str, lang: str, *, org, preliminary: bool, audience: str | None = None,
         today: date | None = None) -> dict:
    """Everything a report to an authority, the review body or the client carries."""
    facts = known(case.get("facts") or {})
    a = case.get("assessment") or {}
    contact = org.contact
    return {
        **public(case, kind, lang, org=org, preliminary=preliminary, audience=audience, today=today),
        "case_id": case.get("id"), "report_to": one_line(org.report_to),
        "review_body": one_line(org.review_body), "sector_report_to": one_line(org.sector_report_to),
        "reporter": {"legal_name": one_line(org.legal_name or org.name),
                     "corporate_number": org.corporate_number, "address": one_line(org.address),
                     "representative": one_line(org.representative), "industry": one_line(org.industry),
                     "contact": one_line(contact.name), "phone": one_line(contact.phone),
                     "email": one_line(contact.email)},
        "external": "external" in (case.get("flags") or []),
        # From one of our domains but not verified (issue 9's trust rules): neither an outsider
        # nor a confirmed employee, and the draft must not state either.
        "unverified_staff": "external" in (case.get("flags") or []) and _our_domain(case, org),
        "articles": [(t, TRIGGER_ARTICLES[t]) for t in a.get("triggers", []) if t in TRIGGER_ARTICLES],
        "undetermined": list(a.get("triggers_undetermined") or []),
        "my_number": a.get("my_number") or {}, "assessment": a,
        "entrusted": facts["entrusted"], "client": one_line(facts["client"]) or None,
        "client_notified": day_of(facts["client_notified_at"], lang),
        "medium": facts["medium"] or MEDIUM_OF.get(facts["category"]), "caused_by": facts["caused_by"],
        "secondary_harm": one_line(facts["secondary_harm"]) or None,
        "notes": _notes(case), "timeline": _timeline(case, facts, lang),
        "persons_step": step(case, "publication", "persons_notice"),
        "public_step": {**step(case, "publication", "public_notice"),
                        "note": one_line(step(case, "publication", "public_notice").get("note")),
                        "day": day_of(step(case, "publication", "public_notice").get("closed_at"), lang)},
        "persons_note": one_line(step(case, "publication", "persons_notice").get("note")),
        "persons_day": day_of(step(case, "publication", "persons_notice").get("closed_at"), lang),
        "implementation_day": day_of(step(case, "prevention", "implementation").get("closed_at"), lang),
        "gdpr": a.get("gdpr") or {},
    }
