"""What the reporter is told: the guidance reply, the minimal receipt for outsiders, and follow-up acks.

The guidance carries the article's first rules (do not handle it alone, do not delay, keep
evidence), the containment steps for the kind of incident, and the fact form. It names who was
told by role only: a reporter in a hurry needs to know that it reached the right people, and the
reply may be forwarded further than the names should go.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from leakline.config import ROLES
from leakline.process.facts import current
from leakline.responders.escalation import Recipient
from leakline.responders.factform import kind_choices, prefill
from leakline.responders.render import Rendered, render_mail

# Which list of containment steps fits each category (ids owned by leakline/process).
CONTAINMENT = {
    "misdirected_email": "email",
    "misdirected_fax": "fax_post",
    "misdelivery": "fax_post",
    "loss": "loss",
    "theft": "theft",
    "unauthorized_access": "cyber",
    "malware": "cyber",
    "wrong_disposal": "disposal",
    "wrong_display": "display",
    "insider": "insider",
}
ROLE_ORDER = ROLES  # privacy officer first
MAX_SUBJECT_ECHO = 80


def containment_for(category: str | None) -> str:
    """The containment list for `category`; None or an unknown id gets the general list."""
    return CONTAINMENT.get(category or "", "general")


def notified_roles(recipients: list[Recipient]) -> list[str]:
    """Role ids of those told, each once, privacy officer first."""
    roles = {r.manager.role for r in recipients} | {r.reason for r in recipients if r.reason in ROLE_ORDER}
    return [role for role in ROLE_ORDER if role in roles]


def _echo(subject: str | None) -> str:
    subject = " ".join((subject or "").split())
    return subject if len(subject) <= MAX_SUBJECT_ECHO else subject[:MAX_SUBJECT_ECHO - 1] + "…"


def _contact(contact) -> dict:
    """`[organization.contact]` name and phone (the report drafts' contact), or nothing."""
    return {"name": getattr(contact, "name", "") or "", "phone": getattr(contact, "phone", "") or ""}


def render_guidance(case: dict, *, language: str, recipients: list[Recipient],
                    org_name: str, tz: ZoneInfo = ZoneInfo("Asia/Tokyo"), contact=None,
                    templates=None) -> Rendered:
    """The reply to an internal reporter on a new case.

    `recipients` are those escalation.initial_recipients() chose; only their roles are shown.
    `contact` (config.organization.contact) is whom to call; without one, the privacy officer.
    When no supervisor of the reporter is configured, the reporter is asked to tell theirs.
    The fact form comes pre-filled with what was read; an unknown kind is asked with a list.
    """
    roles = notified_roles(recipients)
    values = {**current(case.get("facts") or {})}
    values["category"] = values["category"] or case.get("category")
    return render_mail("guidance", language, {
        "case_id": case["id"],
        "reporter_name": case.get("reporter_name") or "",
        "original_subject": _echo(case.get("subject")),
        "category": case.get("category"),
        "containment": containment_for(case.get("category")),
        "roles": roles,
        "superior_notified": "supervisor" in roles,
        "org_name": org_name,
        "contact": _contact(contact),
        "prefill": prefill(values, language, tz),
        "kind_choices": [] if values.get("category") else kind_choices(language),
    }, templates=templates)


def render_receipt(*, language: str, org_name: str, contact=None, templates=None) -> Rendered:
    """The only reply an outside sender gets: we received a message, and whom to call. No case
    id, no case data. `templates`: the organisation's templates_dir (overrides by name)."""
    return render_mail("receipt", language, {"org_name": org_name, "contact": _contact(contact)},
                       templates=templates)


def render_ack(case: dict, *, language: str, changed: list[str], org_name: str,
               contact=None, templates=None) -> Rendered:
    """The short answer to a follow-up: `changed` are the fact keys it recorded (discovered_at,
    persons, ...; shown translated where known); none: "a person in charge will review it"."""
    return render_mail("ack", language, {
        "case_id": case["id"],
        "reporter_name": case.get("reporter_name") or "",
        "original_subject": _echo(case.get("subject")),
        "changed": list(dict.fromkeys(changed)),
        "org_name": org_name,
        "contact": _contact(contact),
    }, templates=templates)
