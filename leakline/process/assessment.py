"""The legal assessment: triggers T1-T4, the encryption exception and the reporting tracks."""

from __future__ import annotations

from dataclasses import dataclass, field

from .facts import Known, known

T4_MIN_PERSONS = 1001  # "more than 1,000" (Enforcement Rules Art. 7(4))


@dataclass(frozen=True)
class Trigger:
    """A rule of Enforcement Rules Art. 7: a flag that, when true, makes a PPC report mandatory."""

    id: str
    description: str
    flag: str
    ask: str

    def check(self, facts: Known) -> str | None:
        if facts[self.flag] is True:
            return f"{self.id}: {self.description}: {facts.why.get(self.flag, 'stated')}"
        return None

    def question(self, facts: Known) -> str | None:
        if facts[self.flag] is None:
            return f"{self.id} unknown: {self.ask}"
        return None


class ManyPersons:
    """T4: more than 1,000 persons. An unknown number is not counted until estimated."""

    id = "T4"
    description = "more than 1,000 persons"

    def check(self, facts: Known) -> str | None:
        persons = facts["persons"]
        if persons is None or persons < T4_MIN_PERSONS:
            return None
        estimate = " (estimate)" if facts["persons_estimated"] else ""
        return f"T4: {persons:,} persons{estimate}, more than 1,000: {facts.why.get('persons', 'stated')}"

    def question(self, facts: Known) -> str | None:
        if facts["persons"] is None:
            # The law counts the largest possible number; with no number at all we cannot,
            # so T4 stays off until someone gives an estimate or an upper bound.
            return ("T4 not counted: the number of persons is unknown; the law counts the largest "
                    "possible number, so give an estimate or upper bound (persons, estimated)")
        return None


TRIGGERS = (
    Trigger("T1", "sensitive personal information (要配慮個人情報)", "sensitive",
            "does the data include medical history, health checks, disability, criminal record, "
            "creed, race, social status or being a victim of crime?"),
    Trigger("T2", "data whose misuse can cause financial loss", "financial",
            "does the data include card numbers, or IDs and passwords for payment or banking?"),
    Trigger("T3", "possibly caused by an act with a wrongful purpose", "wrongful",
            "may someone have acted with a wrongful purpose (theft, unauthorized access, malware, "
            "an insider taking data)?"),
    MANY_PERSONS := ManyPersons(),
)


@dataclass(frozen=True)
class Assessment:
    """What the law, the Privacy Mark and the client contract require for one case, and why."""

    triggers: tuple[str, ...]
    ppc_report_required: bool
    persons_notice_required: bool
    exempt_by_encryption: bool
    report_to: str
    privacy_mark: dict
    client: dict
    gdpr: dict
    reasons: tuple[str, ...]
    open_questions: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        return {"ppc_report_required": self.ppc_report_required,
                "persons_notice_required": self.persons_notice_required,
                "triggers": list(self.triggers), "reasons": list(self.reasons),
                "open_questions": list(self.open_questions),
                "exempt_by_encryption": self.exempt_by_encryption, "report_to": self.report_to,
                "privacy_mark": dict(self.privacy_mark), "client": dict(self.client),
                "gdpr": dict(self.gdpr)}


def _law(ids: list[str], exempt: bool, facts: Known, report_to: str) -> list[str]:
    if not ids:
        return [f"No trigger (T1-T4) holds on the known facts: the APPI requires no report to {report_to} "
                "and no notice to the persons"]
    if exempt:
        return [f"Exception: the data was strongly encrypted and the key did not leak "
                f"({facts.why.get('encrypted', 'stated')}): no report to {report_to} and no notice "
                "to the persons (Enforcement Rules Art. 7)"]
    return [f"Report to {report_to} (preliminary within 3-5 days, final within "
            f"{60 if 'T3' in ids else 30} days) and notify the persons promptly, because of "
            + ", ".join(ids)]


def _privacy_mark(enabled: bool, ids: list[str], exempt: bool) -> tuple[dict, list[str]]:
    if not enabled:
        return {"applies": False, "final_required": False, "preliminary_required": False}, []
    reasons = ["Privacy Mark: every incident is reported to the review body (審査機関), "
               f"final report within {60 if 'T3' in ids else 30} days"]
    if ids:
        reasons.append("Privacy Mark: preliminary report to the review body within 3-5 days because "
                       + ", ".join(ids)
                       + (" (encryption does not exempt under the Privacy Mark)" if exempt else ""))
    return {"applies": True, "final_required": True, "preliminary_required": bool(ids)}, reasons


def _client(facts: Known, report_to: str) -> tuple[dict, list[str]]:
    entrusted = facts["entrusted"]
    track = {"required": entrusted is True, "name": facts["client"]}
    if entrusted is not True:
        return track, []
    client = f" ({facts['client']})" if facts["client"] else ""
    return track, [f"Entrusted data (委託): notify the client (委託元){client} promptly, within 3-5 "
                   "days; once the client is notified we are released from the report to "
                   f"{report_to} and the notice to the persons, which become the client's "
                   "(APPI Art. 26(1) proviso, 26(2))"]


def _gdpr(enabled: bool, ids: list[str], exempt: bool) -> tuple[dict, list[str]]:
    if not enabled:
        return {"applies": False, "report_required": False, "persons_notice_required": False}, []
    notify = bool(ids) and not exempt
    reasons = ["GDPR Art. 33: report to the supervisory authority within 72 hours of becoming aware, "
               "unless the breach is unlikely to result in a risk; document it either way"]
    if notify:
        reasons.append("GDPR Art. 34: tell the persons without undue delay: a high risk is likely "
                       "and the data was not unintelligible")
    return {"applies": True, "report_required": True, "persons_notice_required": notify}, reasons


def _notes(facts: Known) -> list[str]:
    notes = []
    if "my_number" in facts["data_items"]:
        notes.append("My Number (特定個人情報): the My Number Act has its own reporting rules "
                     "(e.g. more than 100 persons); check them too")
    return notes


def assess(records: dict, *, privacy_mark: bool, gdpr: bool, report_to: str) -> Assessment:
    """The assessment of a case from its fact records (the `facts` of a case document)."""
    facts = known(records)
    fired = {rule.id: reason for rule in TRIGGERS if (reason := rule.check(facts))}
    ids = list(fired)
    questions = [q for rule in TRIGGERS if (q := rule.question(facts))]
    if facts["encrypted"] is None and fired:
        questions.append("Encryption unknown: strongly encrypted data with the key not leaked "
                         "would be exempt from the PPC report")
    if facts["entrusted"] is None:
        questions.append("Entrusted unknown: was this a client's (委託元) data?")
    exempt = bool(fired) and facts["encrypted"] is True
    required = bool(fired) and not exempt
    pm_track, pm_reasons = _privacy_mark(privacy_mark, ids, exempt)
    client_track, client_reasons = _client(facts, report_to)
    gdpr_track, gdpr_reasons = _gdpr(gdpr, ids, exempt)
    # DOMAIN.md: the reasons say that an unknown number is not counted as T4.
    t4_unknown = MANY_PERSONS.question(facts)
    reasons = (list(fired.values()) + _law(ids, exempt, facts, report_to)
               + ([t4_unknown] if t4_unknown else []) + client_reasons + pm_reasons + gdpr_reasons + _notes(facts))
    return Assessment(
        triggers=tuple(ids), ppc_report_required=required,
        persons_notice_required=required, exempt_by_encryption=exempt, report_to=report_to,
        privacy_mark=pm_track, client=client_track, gdpr=gdpr_track, reasons=tuple(reasons),
        open_questions=tuple(questions))


# Each report the caller may have to send: its label, and how an assessment dict says it is due.
REQUIRED = {
    "ppc_report": ("Report to the PPC or the delegated ministry",
                   lambda a: a.get("ppc_report_required", False)),
    "persons_notice": ("Notice to the persons (本人通知)",
                       lambda a: a.get("persons_notice_required", False)),
    "review_body_preliminary": ("Preliminary report to the review body (審査機関)",
                                lambda a: a.get("privacy_mark", {}).get("preliminary_required", False)),
    "review_body_final": ("Final report to the review body (審査機関)",
                          lambda a: a.get("privacy_mark", {}).get("final_required", False)),
    "client_notice": ("Notice to the client (委託元)", lambda a: a.get("client", {}).get("required", False)),
    "gdpr_report": ("GDPR report within 72 hours", lambda a: a.get("gdpr", {}).get("report_required", False)),
}


def newly_required(old: dict | None, new: dict) -> list[str]:
    """Ids of the reports `new` requires that `old` did not (all of them when there was no `old`)."""
    return [name for name, (_, required) in REQUIRED.items()
            if required(new) and not (old and required(old))]


def no_longer_required(old: dict | None, new: dict) -> list[str]:
    """Ids of the reports `old` required that `new` does not: a duty a change of facts removed.

    The twin of newly_required; the caller tells the privacy officer at once who changed what.
    """
    return [name for name, (_, required) in REQUIRED.items()
            if old and required(old) and not required(new)]
