"""What happens to a message: one ordered table of small named rules (Mailman's chains/builtin.py).

Each rule has a `name`, a `description` and `check(mail) -> why | None`. CHAIN is walked in
order; every rule that fires is recorded ('name: why'); the first decisive one picks the
disposition: how the message is stored (`kind`) and what the responder does with it
(`action`). A deferring rule (mail on a closed case) adds its action and the walk goes on.
Intake decides once, when it stores the message (the case it joins is known then); the rules
that fired go into the message's audit event, and the responder acts on the disposition.

Actions: keep (stored, nothing done), throttle (kept apart from the case text, counted),
bounce (a delivery failed or is delayed), report (a new case: assess, guide, escalate),
acknowledge, refuse_ack (on record why a manager's reply acknowledged nothing), followup
(its fact form may change facts), followup_no_facts (it may not), closed (the officers told).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from leakline.intake.record import storable
from leakline.intake.request import Request
from leakline.intake.trust import Trust
from leakline.config import Config
from leakline.msgid import MessageIds
from leakline.responders.capability import may_acknowledge, may_change_facts

UNTRUSTED_PER_HOUR = 10  # messages from unverified senders stored per case per hour
THROTTLE_WINDOW = timedelta(hours=1)
ACTIONS = ("keep", "throttle", "bounce", "report", "acknowledge", "refuse_ack", "followup",
           "followup_no_facts", "closed")
QUIET_ACTIONS = ("keep", "throttle")  # the responder does nothing with the message


@dataclass(frozen=True)
class Mail:
    """What a rule sees: the request (parse, sender, trust, machine and guard verdicts, bounce),
    the case it joins as it was before it (None: it names none), the message as stored."""

    request: Request
    case: dict | None
    message: dict
    config: Config
    ids: MessageIds

    @property
    def sender(self) -> str:
        return self.message.get("from") or ""

    @property
    def trust(self) -> Trust:
        return self.request.trust or Trust.from_dict(self.message.get("trust"))

    @property
    def machine(self) -> list[str]:
        found = self.request.machine
        return list(found if found is not None else self.message.get("machine") or [])


class Rule(Protocol):
    name: str
    description: str

    def check(self, mail: Mail) -> str | None: ...


class OwnCopy:
    name = "own_copy"
    description = "one of the mails we sent, come back as it was (a forward, a loop): on record already"

    def check(self, mail):
        if mail.message.get("direction") == "out":
            return f"our {mail.message.get('kind')} {mail.message.get('message_id')}"
        return None


class OverLimit:
    name = "over_limit"
    description = (f"more than {UNTRUSTED_PER_HOUR} messages an hour on one case from senders not "
                   "verified internal: kept and counted, not added to the case")

    def check(self, mail):
        if mail.message.get("throttled"):
            return "kept apart before"
        if mail.case is None or mail.trust.internal:
            return None
        since = mail.request.when - THROTTLE_WINDOW
        recent = [m for m in mail.case["messages"] if m.get("direction") == "in"
                  and not (m.get("trust") or {}).get("internal") and m.get("received_at")
                  and datetime.fromisoformat(m["received_at"]) > since]
        if len(recent) >= UNTRUSTED_PER_HOUR:
            return f"{len(recent)} messages from unverified senders on {mail.case['id']} within the hour"
        return None


class OwnMail:
    name = "own_mail"
    description = "our own mail come back: our signed Message-ID, our case header, X-Loop or From us"

    def check(self, mail):
        return next((r for r in mail.machine if r.startswith("own_mail:")), None)


class BounceOfOurs:
    name = "bounce"
    description = "a bounce of a mail of ours: joins its case; a permanent failure marks the delivery failed"

    def check(self, mail):
        bounce = mail.request.bounce
        if bounce is None or mail.case is None:
            return None
        state = f"failed: {', '.join(bounce.failed)}" if bounce.failed else \
            f"delayed: {', '.join(bounce.delayed)}"
        return f"{state} ({bounce.found_by}{', forwarded by a person' if bounce.forwarded else ''})"


class StrayBounce:
    name = "stray_bounce"
    description = "a program's bounce of no mail of ours we know: a case of its own, never escalated"

    def check(self, mail):
        bounce = mail.request.bounce
        if bounce is None or mail.case is not None or bounce.forwarded:
            return None
        return f"names no mail of ours ({bounce.original_message_id or 'no Message-ID'}, " \
               f"{', '.join(bounce.recipients)})"


class Machine:
    name = "machine"
    description = "an auto-reply, list mail or read receipt: kept (apart when it names no case), never acted on"

    def check(self, mail):
        return "; ".join(mail.machine) or None


class NewReport:
    name = "new_report"
    description = "names no case (subject id, In-Reply-To, References): a new report"

    def check(self, mail):
        return "it names no case" if mail.case is None else None


class ClosedCase:
    name = "closed_case"
    description = "mail on a closed case: the case is marked updated and the privacy officers are told"

    def check(self, mail):
        return f"{mail.case['id']} is closed" if mail.case.get("status") == "closed" else None


class Acknowledgement:
    name = "acknowledgement"
    description = "a verified manager's reply to an escalation of this case sent to them"

    def check(self, mail):
        if may_acknowledge(mail.case, mail.message, mail.ids, mail.config) is None and \
                not machine_written(mail.request):
            return f"{mail.sender} answered an escalation sent to them"
        return None


class ManagerAutoReply:
    name = "manager_auto_reply"
    description = "a manager's reply written by a program (out of office, bounce): no acknowledgement"

    def check(self, mail):
        if may_acknowledge(mail.case, mail.message, mail.ids, mail.config) is None:
            return "; ".join(machine_written(mail.request))
        return None


class ManagerReply:
    name = "manager_reply"
    description = "other mail from a manager: stored; a reply not entitled to acknowledge is put on record"

    def check(self, mail):
        if mail.config.manager(mail.sender) is None:
            return None
        return may_acknowledge(mail.case, mail.message, mail.ids, mail.config)


class FactReply:
    name = "fact_reply"
    description = "a verified internal sender's reply to our guidance or answer: its fact form may change facts"

    def check(self, mail):
        if may_change_facts(mail.case, mail.message, mail.ids, mail.config) is None:
            return f"{mail.sender} replied to a mail of ours sent to them"
        return None


class FollowUp:
    name = "followup"
    description = "anything else on a case: stored and answered as the reply table says; facts unchanged"

    def check(self, mail):
        return may_change_facts(mail.case, mail.message, mail.ids, mail.config) or "stored"


@dataclass(frozen=True)
class Link:
    rule: Rule
    action: str
    kind: str | None = None  # how the message is stored; None for a deferring link
    defer: bool = False


# The table. Order matters: whatever is ours or a program's is settled before anyone's words
# are read as a report, a fact or an acknowledgement.
CHAIN: tuple[Link, ...] = (
    Link(OwnCopy(), "keep", "machine"),
    Link(OverLimit(), "throttle", "throttled"),
    Link(OwnMail(), "keep", "machine"),
    Link(BounceOfOurs(), "bounce", "bounce"),
    Link(StrayBounce(), "bounce", "bounce"),
    Link(Machine(), "keep", "machine"),
    Link(NewReport(), "report", "report"),
    Link(ClosedCase(), "closed", defer=True),
    Link(Acknowledgement(), "acknowledge", "manager_reply"),
    Link(ManagerAutoReply(), "keep", "manager_reply"),
    Link(ManagerReply(), "refuse_ack", "manager_reply"),
    Link(FactReply(), "followup", "followup"),
    Link(FollowUp(), "followup_no_facts", "followup"),
)


@dataclass(frozen=True)
class Disposition:
    """rule: the rule that decided; reason: its why; hits: every rule that fired, in order."""

    rule: str
    action: str
    kind: str
    reason: str
    hits: tuple[str, ...] = ()
    also: tuple[str, ...] = ()  # actions of the deferring rules that fired

    def record(self) -> dict:
        """For the message's audit event: the whys quote headers, whose 8-bit bytes (surrogates)
        are stored as U+FFFD."""
        return {"disposition": self.rule, "rules": storable(list(self.hits))}


def decide(mail: Mail, chain: tuple[Link, ...] = CHAIN) -> Disposition:
    """Walk the chain: the first decisive rule that fires picks the disposition."""
    hits: list[str] = []
    also: list[str] = []
    for link in chain:
        why = link.rule.check(mail)
        if not why:
            continue
        hits.append(f"{link.rule.name}: {why}")
        if link.defer:
            also.append(link.action)
            continue
        return Disposition(link.rule.name, link.action, link.kind, why, tuple(hits), tuple(also))
    raise LookupError("no rule of the chain decided")  # FollowUp always fires on a case


def case_before(case: dict, message: dict) -> dict | None:
    """The case as it was before `message` joined it: None for the message that opened it (a
    duplicate is decided again as it was first decided)."""
    messages = case.get("messages") or []
    key = message.get("key")
    opened = message.get("kind") in ("report", "bounce") and messages and messages[0].get("key") == key
    if opened and message.get("direction", "in") == "in":
        return None
    return {**case, "messages": [m for m in messages
                                 if not (m.get("key") == key and m.get("direction", "in") == "in")]}


def machine_written(request: Request) -> list[str]:
    """Why a message was written by a program (an out-of-office reply, a bounce): from a manager
    it is no acknowledgement. X-Auto-Response-Suppress only asks us not to answer."""
    return [r for r in request.guards if not r.startswith("auto_response_suppress:")]
