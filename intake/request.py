"""One message on its way from the spool to the responders (the shape of Salmon's MailRequest).

Built once, outside the data lock (Intake.prepare): the parse, the sender's identity and trust,
the machine-mail verdicts, the loop guards' verdicts and the bounce reading travel together
from intake through the decision table (leakline.disposition) to the responders, none of which
parses or judges the message again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import Message

from leakline.intake.bounce import Bounce
from leakline.intake.identity import Sender
from leakline.intake.parse import ParsedMessage
from leakline.intake.trust import Trust
from leakline.store.spool import SpoolEntry


@dataclass(frozen=True)
class Extracted:
    """Extraction (leakline.process.extract) done in `prepare`, outside the data lock, with the
    inputs it was done with: a responder uses it only for the very same subject, text and
    time of receipt, and extracts again otherwise."""

    subject: str
    text: str
    received_at: str
    extraction: object

    def matches(self, subject: str, text: str, received_at: str | None) -> bool:
        return (subject, received_at) == (self.subject, self.received_at) and text == self.text


@dataclass
class Request:
    """`trust` and `machine` are None when the message looked like a duplicate when prepared:
    they are worked out (DKIM may wait on DNS) only for what is stored. `guards` are the loop
    guards that forbid an automatic answer (responders.guards), 'rule: reason' each; `bounce` what
    it reports undelivered, or None; `extracted` the facts of
    its text (intake.processor.extracted)."""

    entry: SpoolEntry
    parsed: ParsedMessage
    sha: str
    when: datetime
    trust: Trust | None = None
    machine: list[str] | None = None
    guards: tuple[str, ...] = ()
    bounce: Bounce | None = None
    extracted: Extracted | None = None  # a report's facts, read before the lock (not for machine mail)

    @property
    def msg(self) -> Message:
        """The parsed tree (an empty message for what could not be parsed)."""
        return self.parsed.msg if self.parsed.msg is not None else Message()

    @property
    def mail_from(self) -> str:
        """The envelope sender as the listener recorded it ('' for the null sender)."""
        return self.entry.envelope.get("mail_from") or ""

    @property
    def sender(self) -> Sender:
        return self.parsed.sender
