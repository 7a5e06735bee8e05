"""The rules of the law, each small, named and dated, each able to say why it holds.

A rule's verdict is True (holds), False (decided not to hold) or None (undetermined: a fact it
needs is unknown). Undetermined never counts as "no": the caller keeps the duty open and asks.
Sources are cited per rule: the APPI, its Enforcement Rules (規則), the PPC guideline 通則編
(GL, June 2025 text) and the PPC Q&A; the My Number rules (特定個人情報の漏えい等に関する報告等に
関する規則, "MN Rules"). Each rule carries the date from which the text it encodes is in force, so
the 2026 amendment (not in force, its Rules unwritten) will be a new rule, not an edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .facts import Known

APPI_2022 = date(2022, 4, 1)  # the 2020 amendment: reports and notices became mandatory
T4_LIMIT = 1000  # "1,000人を超える" (Rules Art. 7(4)): 1,001 or more
MY_NUMBER_LIMIT = 100  # "百人を超える" (MN Rules Art. 2(4))


@dataclass(frozen=True)
class Verdict:
    """What one rule found: holds (True/False/None), why, and what to ask when undetermined."""

    id: str
    holds: bool | None
    reason: str
    question: str | None = None


@dataclass(frozen=True)
class FlagTrigger:
    """T1-T3 (Rules Art. 7(1)-(3)): a fact that, when true, makes a report mandatory at 1 person."""

    id: str
    article: str  # as the PPC's form names it: 規則第7条第N号
    description: str
    flag: str
    ask: str
    source: str
    since: date = APPI_2022

    def judge(self, facts: Known) -> Verdict:
        value = facts[self.flag]
        why = facts.why.get(self.flag, "stated")
        if value is True:
            return Verdict(self.id, True, f"{self.id} ({self.article}): {self.description}: {why}")
        if value is False and facts.sources.get(self.flag) != "extracted":
            return Verdict(self.id, False, f"{self.id} does not hold: {why}")
        # A denial read from the report's text ("no medical data") decides nothing alone: text
        # must never be what removes a mandatory report. A person confirms it.
        said = f"the report says no ({why})" if value is False else f"{self.flag} is unknown"
        return Verdict(self.id, None, f"{self.id} undetermined: {said}",
                       f"{self.id} undetermined: {self.ask}")


def count_exceeds(facts: Known, limit: int) -> tuple[bool | None, str]:
    """Whether the number of persons may exceed `limit`, counting the largest possible number.

    GL 3-5-3-1 (※ on Rules Art. 7(4)): where the number is uncertain, the largest possible number
    counts. "N人超" is at least N+1; an upper bound (persons_max, e.g. 数千 -> 9,999) counts; an
    exact count from the same or a better source than the bound replaces it (facts.merge).
    """
    persons, over, most = facts["persons"], facts["persons_over"], facts["persons_max"]
    if persons is None and most is None:
        return None, "the number of persons is unknown"
    least = None if persons is None else persons + (1 if over else 0)
    estimate = " (estimate)" if facts["persons_estimated"] else ""
    if least is not None and least > limit:
        said = f"more than {persons:,}" if over else f"{persons:,}{estimate}"
        return True, f"{said} persons"
    if most is not None and most > limit:
        return True, f"up to {most:,} persons (the largest possible number counts)"
    if over and most is None:
        return None, f"more than {persons:,} persons, with no upper bound"
    largest = max(x for x in (None if over else persons, most) if x is not None)
    return False, f"at most {largest:,} persons{estimate}"


@dataclass(frozen=True)
class CountTrigger:
    """T4 (Rules Art. 7(4)): more than 1,000 persons; undetermined while the count is unknown."""

    id: str = "T4"
    article: str = "規則第7条第4号"
    source: str = "Rules Art. 7(4); GL 3-5-3-1"
    since: date = APPI_2022

    def judge(self, facts: Known) -> Verdict:
        holds, said = count_exceeds(facts, T4_LIMIT)
        why = facts.why.get("persons") or facts.why.get("persons_max") or "stated"
        if holds:
            return Verdict(self.id, True, f"T4 ({self.article}): {said}, more than 1,000: {why}")
        if holds is False:
            return Verdict(self.id, False, f"T4 does not hold: {said}")
        return Verdict(self.id, None, f"T4 undetermined: {said}",
                       "T4 undetermined: how many persons at most? The law counts the largest "
                       "possible number: give the count or an upper bound (--persons, --persons-max)")


TRIGGERS = (
    FlagTrigger("T1", "規則第7条第1号", "sensitive personal information (要配慮個人情報)", "sensitive",
                "does the data include medical history, health checks, treatment, disability, criminal "
                "record or proceedings, creed, race, social status or being a victim of crime? "
                "(--sensitive/--no-sensitive, or list the items with --data-items)",
                "APPI Art. 2(3); Rules Art. 7(1); GL 3-5-3-1"),
    FlagTrigger("T2", "規則第7条第2号", "data whose misuse can cause financial loss", "financial",
                "does the data include card numbers, or IDs and passwords of a service where money "
                "can be spent? (--financial/--no-financial, or --data-items)",
                "Rules Art. 7(2); GL 3-5-3-1 (a bank account number alone is not)"),
    FlagTrigger("T3", "規則第7条第3号", "possibly caused by an act with a wrongful purpose", "wrongful",
                "may someone have acted with a wrongful purpose (theft, unauthorized access, malware, "
                "an insider taking data, skimming)? (--wrongful/--no-wrongful)",
                "Rules Art. 7(3); GL 3-5-3-1"),
    CountTrigger(),
)
TRIGGER_ARTICLES = {t.id: t.article for t in TRIGGERS}


@dataclass(frozen=True)
class NotALeak:
    """All of it recovered before any third party saw it: no leak (GL 3-5-1-1; Q&A Q6-1).

    Only a person's confirmation counts; a reporter saying so is a question, not the decision.
    """

    id: str = "not_a_leak"
    source: str = "GL 3-5-1-1; PPC Q&A Q6-1"
    since: date = APPI_2022

    def judge(self, facts: Known) -> Verdict:
        if facts["recovered_unread"] is True and facts.by_admin("recovered_unread"):
            return Verdict(self.id, True, "Not a leak: all of it was recovered before any third party "
                           f"viewed it, confirmed by an admin ({facts.why['recovered_unread']}) "
                           f"({self.source})")
        if facts["recovered_unread"] is True:
            return Verdict(self.id, False, "Recovered unread is only reported, not confirmed",
                           "Recovered unread? The report says so "
                           f"({facts.why['recovered_unread']}); an admin must confirm it with evidence "
                           "(--recovered-unread --evidence TEXT)")
        return Verdict(self.id, False, "")


@dataclass(frozen=True)
class EncryptionException:
    """"高度な暗号化その他の…措置" (Rules Art. 7 柱書; GL 3-5-3-1 ※; Q&A Q6-12; My Number Q&A Q17-14).

    Both parts confirmed by an admin: a strong cipher properly used, and the key apart from the
    data and not leaked. Wrongly granting it hides a mandatory report, so nothing a reporter or
    the text says can grant it: such words become a question.
    """

    id: str = "encryption_exception"
    source: str = "Rules Art. 7; GL 3-5-3-1; PPC Q&A Q6-12; My Number Q&A Q17-14"
    since: date = APPI_2022

    def judge(self, facts: Known) -> Verdict:
        encrypted = facts["encrypted"] is True and facts.by_admin("encrypted")
        key_safe = facts["key_leaked"] is False and facts.by_admin("key_leaked")
        if encrypted and key_safe:
            return Verdict(self.id, True, "the data was strongly encrypted and the key did not leak, "
                           f"both confirmed by an admin ({facts.why['encrypted']}; "
                           f"{facts.why['key_leaked']})")
        return Verdict(self.id, False, "", self._question(facts, encrypted))

    @staticmethod
    def _question(facts: Known, encrypted: bool) -> str | None:
        if facts["encrypted"] is False and facts.by_admin("encrypted"):
            return None
        claim = facts["encryption_claim"]
        said = f"the report says 「{claim}」; " if claim else ""
        if encrypted:
            return ("Encryption confirmed, but did the decryption key (or the password) leak or travel "
                    "with the data? (--key-leaked / --key-safe)")
        if claim or facts["encrypted"] is True:
            return (f"Encryption claimed: {said}only an admin can grant the exception, and only for a "
                    "strong cipher (CRYPTREC list or ISO/IEC 18033) with the key kept apart and not "
                    "leaked; never for ransomware, a password sent to the same recipient, a screen "
                    "lock or a database on a compromised server (--encrypted --key-safe)")
        return None


@dataclass(frozen=True)
class ProcessorRelease:
    """A processor that notified its client (委託元) is released from the PPC report and the notice
    to the persons for that client's data (APPI Art. 26(1) proviso; Rules Art. 9; GL 3-5-3-5)."""

    id: str = "processor_release"
    source: str = "APPI Art. 26(1) proviso, 26(2); Rules Art. 9; GL 3-5-3-5"
    since: date = APPI_2022

    def judge(self, facts: Known) -> Verdict:
        if facts["entrusted"] is True and facts["client_notified_at"] and facts.by_admin("client_notified_at"):
            client = f" ({facts['client']})" if facts["client"] else ""
            return Verdict(self.id, True, f"Released: the client (委託元){client} was notified at "
                           f"{facts['client_notified_at']}; the report to the authority and the notice "
                           "to the persons are the client's for its data (a joint report is possible; "
                           f"our own data in the same incident is not released) ({self.source})")
        return Verdict(self.id, False, "")


@dataclass(frozen=True)
class MyNumberTrack:
    """特定個人情報 (My Number): its own report to the PPC (My Number Act Art. 29-4; MN Rules Art. 2).

    Art. 2(1) (the information-provision network and the systems of public bodies) does not
    concern a company's own systems and is left to the officer; the others are encoded.
    """

    id: str = "my_number"
    source: str = "My Number Act Art. 29-4; MN Rules Art. 2(2)-(4); My Number Q&A Q17-10"
    since: date = APPI_2022

    def judge(self, facts: Known) -> Verdict:
        if "my_number" not in facts["data_items"]:
            return Verdict(self.id, False, "")
        many, said = count_exceeds(facts, MY_NUMBER_LIMIT)
        parts = {"MN Rules Art. 2(2) wrongful purpose": facts["wrongful"],
                 "MN Rules Art. 2(3) open to view by unspecified people": facts["publicly_exposed"],
                 f"MN Rules Art. 2(4) more than 100 persons ({said})": many}
        held = [name for name, value in parts.items() if value is True]
        if held:
            return Verdict(self.id, True, "My Number (特定個人情報): report to the PPC on the My Number "
                           "form because of " + "; ".join(held) + f" ({self.source})")
        open_ = [name for name, value in parts.items() if value is None]
        if open_:
            return Verdict(self.id, None, "My Number (特定個人情報) undetermined: " + "; ".join(open_),
                           "My Number undetermined: " + "; ".join(open_) + " (--wrongful, "
                           "--publicly-exposed, --persons or --persons-max)")
        return Verdict(self.id, False, "My Number (特定個人情報): no condition of MN Rules Art. 2 holds")


NOT_A_LEAK = NotALeak()
ENCRYPTION_EXCEPTION = EncryptionException()
PROCESSOR_RELEASE = ProcessorRelease()
MY_NUMBER = MyNumberTrack()
