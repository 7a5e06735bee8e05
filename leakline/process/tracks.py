"""The tracks beside the APPI report: Privacy Mark, client, publication, GDPR and sector rules.

Each returns its part of the assessment dict and the reasons (with sources) that explain it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .facts import NOT_CUSTOMERS, Known

if TYPE_CHECKING:
    from .assessment import Law

SECTORS = ("financial",)


def _final_days(law: "Law") -> int:
    # 60 days once T3 holds (Rules Art. 8(2); the review body likewise); 30 while it does not or
    # is undetermined: the earlier date is the safe one.
    return 60 if any(v.id == "T3" for v in law.held) else 30


def privacy_mark(enabled: bool, law: "Law") -> tuple[dict, list[str]]:
    """JIPDEC: every incident goes to the review body; a preliminary when T1-T4 or My Number hold.

    The triggers count also under the encryption exception, the processor's release and a
    recovery before anyone read it: the mark's incidents include the possibility of a leak, and
    encryption does not exempt a lost device (JIPDEC incident pages, FAQ qa11).
    """
    if not enabled:
        return {"applies": False, "final_required": False, "preliminary_required": False,
                "triggers": []}, []
    ids = [v.id for v in law.held]
    preliminary = True if ids or law.my_number.holds else (
        None if law.undetermined or law.my_number.holds is None else False)
    reasons = ["Privacy Mark: every incident is reported to the review body (審査機関), final report "
               f"within {_final_days(law)} days of learning of it, not moved off weekends (JIPDEC)"]
    if preliminary:
        why = ", ".join(ids + (["My Number"] if law.my_number.holds else []))
        reasons.append(f"Privacy Mark: preliminary report to the review body within 3-5 days because of "
                       f"{why} (also when the APPI report is exempt or released)")
    elif preliminary is None:
        reasons.append("Privacy Mark: the preliminary report to the review body is pending until "
                       + ", ".join(v.id for v in law.undetermined) + " is decided")
    return {"applies": True, "final_required": True, "preliminary_required": preliminary,
            "triggers": ids}, reasons


def client(facts: Known, report_to: str) -> tuple[dict, list[str], str | None]:
    """The notice to the client (委託元), promptly (about 3-5 days) (Rules Art. 9; GL 3-5-3-5)."""
    entrusted = facts["entrusted"]
    track = {"required": entrusted, "name": facts["client"],
             "notified_at": facts["client_notified_at"]}
    if entrusted is None:
        return track, ["Entrusted unknown: the notice to the client (委託元) stays pending, with its "
                       "day-3 reminder, until someone says whose data it was"], \
            "Entrusted unknown: was this a client's (委託元) data? (--entrusted/--no-entrusted)"
    if entrusted is False:
        return track, [], None
    name = f" ({facts['client']})" if facts["client"] else ""
    return track, [f"Entrusted data (委託): notify the client (委託元){name} promptly, within 3-5 days; once "
                   f"it is notified (--client-notified-at) the report to {report_to} and the notice to "
                   "the persons become the client's (APPI Art. 26(1) proviso, Rules Art. 9, GL 3-5-3-5)"], None


def public_notice(facts: Known, required: bool | None, gdpr_track: dict) -> tuple[bool | None, list[str]]:
    """Publication (公表) is desirable, not mandatory, unless it replaces a notice to persons who
    cannot be reached (APPI Art. 26(2) proviso; GL 3-5-4-5; GDPR Art. 34(3)(c))."""
    unreachable = facts["persons_unreachable"] is True and facts.by_admin("persons_unreachable")
    owed = [required, gdpr_track.get("persons_notice_required")]
    if unreachable and True in owed:
        return True, ["Public notice required: the persons cannot be reached, so publication (or a "
                      "public enquiry desk) replaces the notice to them (APPI Art. 26(2) proviso, "
                      "GL 3-5-4-5)"]
    if unreachable and None in owed:
        return None, ["Public notice pending: the persons cannot be reached and the notice to them "
                      "is undetermined"]
    return False, ["Publication (公表) is optional: desirable, not mandatory; record a decision "
                   "against it with `phase close ... --step public_notice --skip`"]


def gdpr(enabled: bool, role: str, hours: int, facts: Known,
         law: "Law") -> tuple[dict, list[str], str | None]:
    """GDPR Art. 33 (72 hours, UTC clock hours) and Art. 34 as its own high-risk judgement."""
    if not enabled:
        return {"applies": False, "role": None, "report_required": False,
                "controller_notice_required": False, "controller_notice_hours": None,
                "persons_notice_required": False, "high_risk": None}, [], None
    controller = role == "controller"
    track = {"applies": True, "role": role, "report_required": controller,
             "controller_notice_required": not controller,
             "controller_notice_hours": None if controller else hours,
             "high_risk": facts["gdpr_high_risk"]}
    if not controller:
        track["persons_notice_required"] = False
        return track, [f"GDPR Art. 33(2): as processor, notify the controller without undue delay, "
                       f"within {hours} hours of becoming aware (organization.gdpr_processor_notice_hours); "
                       "the controller reports and decides Art. 34"], None
    reasons = ["GDPR Art. 33: report to the supervisory authority within 72 hours of becoming aware "
               "(clock hours, no weekend extension), unless the breach is unlikely to result in a "
               "risk; say why when late; document every breach (Art. 33(5))"]
    unintelligible = bool(law.exception.holds)
    high = facts["gdpr_high_risk"]
    if high is None:
        track["persons_notice_required"] = None
        return track, reasons, ("GDPR Art. 34: is the risk to the persons high? "
                                "(--gdpr-high-risk/--no-gdpr-high-risk)")
    track["persons_notice_required"] = high is True and not unintelligible
    if high and unintelligible:
        reasons.append("GDPR Art. 34(3)(a): high risk, but the data was unintelligible to others "
                       "(encryption confirmed, key safe): no notice to the persons")
    elif high:
        reasons.append("GDPR Art. 34: high risk: tell the persons without undue delay")
    return track, reasons, None


def sector(name: str | None, report_to: str, facts: Known) -> tuple[dict, list[str]]:
    """A financial firm reports any leak of individual customers' data to its supervisor within
    about 3-5 days, even one misdirected FAX (PPC/FSA 金融機関Q&A Q4-6, Q4-12)."""
    if not name:
        return {"applies": False, "name": None, "report_required": False, "report_to": None}, []
    not_customers = facts["audience"] in NOT_CUSTOMERS and facts.by_admin("audience")
    track = {"applies": True, "name": name, "report_required": not not_customers, "report_to": report_to}
    if not_customers:
        return track, [f"Sector ({name}): the data is not individual customers' ({facts['audience']}, "
                       f"set by an admin): no report to {report_to} under 金融機関Q&A Q4-12"]
    return track, [f"Sector ({name}): report any leak of individual customers' data to {report_to} "
                   "promptly (about 3-5 days), whatever the APPI triggers (金融機関Q&A Q4-6, Q4-12)"]
