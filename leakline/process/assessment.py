"""The legal assessment: what the APPI, the Privacy Mark, the client, GDPR and a sector require.

`ppc_report_required` and `persons_notice_required` are True when a trigger holds, False only
when every trigger is decided false or an exception or release applies, and None (undetermined)
otherwise: undetermined keeps the duties open (steps `pending`, deadlines and reminders as if
due) and asks the officer. The rules themselves live in `rules.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import tracks
from .facts import Known, known
from .rules import (ENCRYPTION_EXCEPTION, MY_NUMBER, NOT_A_LEAK, PROCESSOR_RELEASE, TRIGGERS,
                    Verdict)

T4_MIN_PERSONS = 1001  # "more than 1,000" (Enforcement Rules Art. 7(4))
DEFAULT_REPORT_TO = "個人情報保護委員会"


@dataclass(frozen=True)
class Assessment:
    """What the law, the Privacy Mark and the client contract require for one case, and why."""

    triggers: tuple[str, ...]
    triggers_undetermined: tuple[str, ...]
    ppc_report_required: bool | None
    persons_notice_required: bool | None
    public_notice_required: bool | None
    exempt_by_encryption: bool
    released_to_client: bool
    not_a_leak: bool
    report_to: str
    my_number: dict
    privacy_mark: dict
    client: dict
    gdpr: dict
    sector: dict
    reasons: tuple[str, ...]
    open_questions: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        return {"ppc_report_required": self.ppc_report_required,
                "persons_notice_required": self.persons_notice_required,
                "public_notice_required": self.public_notice_required,
                "triggers": list(self.triggers),
                "triggers_undetermined": list(self.triggers_undetermined),
                "reasons": list(self.reasons), "open_questions": list(self.open_questions),
                "exempt_by_encryption": self.exempt_by_encryption,
                "released_to_client": self.released_to_client, "not_a_leak": self.not_a_leak,
                "report_to": self.report_to, "my_number": dict(self.my_number),
                "privacy_mark": dict(self.privacy_mark), "client": dict(self.client),
                "gdpr": dict(self.gdpr), "sector": dict(self.sector)}


@dataclass(frozen=True)
class Law:
    """The APPI part: triggers that hold and are undetermined, and what removes the duties."""

    held: list[Verdict]
    undetermined: list[Verdict]
    my_number: Verdict
    not_a_leak: Verdict
    exception: Verdict
    release: Verdict

    @property
    def required(self) -> bool | None:
        if self.not_a_leak.holds or self.exception.holds or self.release.holds:
            return False
        if self.held or self.my_number.holds:
            return True
        if self.undetermined or self.my_number.holds is None:
            return None
        return False


def judge_law(facts: Known) -> Law:
    """Every rule's verdict. The triggers are judged even when it was no leak: the Privacy Mark
    counts them for its preliminary report (its incidents include the possibility of a leak)."""
    verdicts = [rule.judge(facts) for rule in TRIGGERS]
    return Law([v for v in verdicts if v.holds], [v for v in verdicts if v.holds is None],
               MY_NUMBER.judge(facts), NOT_A_LEAK.judge(facts), ENCRYPTION_EXCEPTION.judge(facts),
               PROCESSOR_RELEASE.judge(facts))


def _law_reasons(law: Law, report_to: str) -> list[str]:
    ids = [v.id for v in law.held]
    days = 60 if "T3" in ids else 30
    if law.not_a_leak.holds:
        return [law.not_a_leak.reason + f": no report to {report_to} and no notice to the persons"]
    reasons = [v.reason for v in law.held] + [v.reason for v in law.undetermined]
    reasons += [law.my_number.reason] if law.my_number.reason else []
    due = (f"(preliminary within 3-5 days, final within {days} days of learning of it, "
           "GL 3-5-3-3, 3-5-3-4) and notify the persons promptly (APPI Art. 26(2))")
    if law.release.holds:
        reasons.append(law.release.reason)
    elif law.exception.holds:
        reasons.append(f"Exception: {law.exception.reason}: no report to {report_to} and no notice to "
                       f"the persons ({ENCRYPTION_EXCEPTION.source})")
    elif law.required:
        why = ", ".join(ids + (["My Number"] if law.my_number.holds else []))
        reasons.append(f"Report to {report_to} {due}, because of {why}")
    elif law.required is None:
        open_ = ", ".join([v.id for v in law.undetermined] + (["My Number"] if law.my_number.holds is None else []))
        reasons.append(f"Undetermined ({open_}): the report to {report_to} and the notice to the persons "
                       "are treated as due, with their deadlines, until the facts decide them")
    else:
        reasons.append(f"No trigger (T1-T4) holds on the decided facts: the APPI requires no report to "
                       f"{report_to} and no notice to the persons")
    return reasons


def _questions(facts: Known, law: Law, extra: list[str | None]) -> list[str]:
    found = [v.question for v in law.undetermined]
    found += [law.my_number.question, law.not_a_leak.question]
    if law.not_a_leak.holds:
        return [q for q in extra if q]
    if law.held or law.undetermined or law.my_number.holds is not False:
        found.append(law.exception.question)
    return [q for q in found + extra if q]


def assess(records: dict, *, privacy_mark: bool, gdpr: bool, report_to: str = DEFAULT_REPORT_TO,
           gdpr_role: str = "controller", gdpr_processor_notice_hours: int = 24,
           sector: str | None = None, sector_report_to: str = "金融庁") -> Assessment:
    """The assessment of a case from its fact records (the `facts` of a case document)."""
    facts = known(records)
    law = judge_law(facts)
    required = law.required
    leak = not law.not_a_leak.holds
    exempt = (leak and bool(law.exception.holds)
              and bool(law.held or law.undetermined or law.my_number.holds is not False))
    pm_track, pm_reasons = tracks.privacy_mark(privacy_mark, law)
    client_track, client_reasons, client_q = tracks.client(facts, report_to)
    gdpr_track, gdpr_reasons, gdpr_q = tracks.gdpr(gdpr, gdpr_role, gdpr_processor_notice_hours,
                                                   facts, law)
    sector_track, sector_reasons = tracks.sector(sector, sector_report_to, facts)
    extra = [client_q, gdpr_q]
    public, public_reasons = tracks.public_notice(facts, required, gdpr_track)
    reasons = (_law_reasons(law, report_to) + public_reasons + client_reasons + pm_reasons
               + gdpr_reasons + sector_reasons)
    return Assessment(
        triggers=tuple(v.id for v in law.held) if leak else (),
        triggers_undetermined=tuple(v.id for v in law.undetermined) if leak else (),
        ppc_report_required=required, persons_notice_required=required,
        public_notice_required=public,
        exempt_by_encryption=exempt, released_to_client=leak and bool(law.release.holds),
        not_a_leak=not leak, report_to=report_to,
        my_number={"applies": "my_number" in facts["data_items"],
                   "report_required": law.my_number.holds if leak else False},
        privacy_mark=pm_track, client=client_track, gdpr=gdpr_track, sector=sector_track,
        reasons=tuple(r for r in reasons if r), open_questions=tuple(_questions(facts, law, extra)))


def _is(value) -> bool:
    return value is True


# Each duty the caller may have to perform, keyed by the id of the step that performs it: its
# label, and how an assessment dict says it is required (True only; None is undetermined).
# Also reads assessments stored before the step ids were fixed (issue 10).
REQUIRED = {
    "ppc_preliminary": ("Preliminary report (速報) to the PPC or the delegated ministry",
                        lambda a: _is(a.get("ppc_report_required"))),
    "ppc_final": ("Final report (確報) to the PPC or the delegated ministry",
                  lambda a: _is(a.get("ppc_report_required"))),
    "persons_notice": ("Notice to the persons (本人通知)",
                       lambda a: _is(a.get("persons_notice_required"))
                       or _is((a.get("gdpr") or {}).get("persons_notice_required"))),
    "public_notice": ("Public notice (公表) in place of the notice to the persons",
                      lambda a: _is(a.get("public_notice_required"))),
    "review_body_preliminary": ("Preliminary report to the review body (審査機関)",
                                lambda a: _is((a.get("privacy_mark") or {}).get("preliminary_required"))),
    "review_body_final": ("Final report to the review body (審査機関)",
                          lambda a: _is((a.get("privacy_mark") or {}).get("final_required"))),
    "client_notice": ("Notice to the client (委託元)", lambda a: _is((a.get("client") or {}).get("required"))),
    "gdpr_72h": ("GDPR report to the supervisory authority within 72 hours",
                 lambda a: _is((a.get("gdpr") or {}).get("report_required"))),
    "gdpr_controller_notice": ("GDPR notice to the controller (processor, Art. 33(2))",
                               lambda a: _is((a.get("gdpr") or {}).get("controller_notice_required"))),
    "sector_report": ("Report to the sector supervisor (e.g. 金融庁)",
                      lambda a: _is((a.get("sector") or {}).get("report_required"))),
}


def newly_required(old: dict | None, new: dict) -> list[str]:
    """Ids of the duties `new` requires that `old` did not (all of them when there was no `old`)."""
    return [name for name, (_, required) in REQUIRED.items()
            if required(new) and not (old and required(old))]


def no_longer_required(old: dict | None, new: dict) -> list[str]:
    """Ids of the reports `old` required that `new` does not: a duty a change of facts removed.

    The twin of newly_required; the caller tells the privacy officer at once who changed what.
    """
    return [name for name, (_, required) in REQUIRED.items()
            if old and required(old) and not required(new)]
