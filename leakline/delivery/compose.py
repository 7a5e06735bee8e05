"""Outgoing mail that behaves on the internet: threading, loop markers, UTF-8, no header injection.

`compose()` builds the message, as the bytes that are sent (responders/wire.py; once, no
EmailMessage serialised), and says which envelope it travels in. Replies to reporters are
auto-replies (RFC 3834): Auto-Submitted: auto-replied and a null envelope sender, so that a bounce
or a vacation notice never comes back to start a loop. Mail to managers is auto-generated and keeps
our envelope sender, because a bounce from a manager's address must reach us and join the case.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import cached_property

from leakline.config import Config
from leakline.delivery import wire
from leakline.responders.guards import CASE_HEADER, MSGID_TAG


@dataclass(frozen=True)
class Kind:
    auto_submitted: str
    null_sender: bool
    shows_case: bool  # the case id may appear in the subject and X-Leakline-Case


KINDS = {
    "guidance": Kind("auto-replied", null_sender=True, shows_case=True),
    "ack": Kind("auto-replied", null_sender=True, shows_case=True),
    # An outside sender learns that we received their mail and nothing about any case.
    "receipt": Kind("auto-replied", null_sender=True, shows_case=False),
    "escalation": Kind("auto-generated", null_sender=False, shows_case=True),
    "reminder": Kind("auto-generated", null_sender=False, shows_case=True),
    "deadline": Kind("auto-generated", null_sender=False, shows_case=True),
    "deadletter_alert": Kind("auto-generated", null_sender=False, shows_case=True),
    # To the privacy officer: someone decided not to make a required report (`phase skip`).
    "skip_alert": Kind("auto-generated", null_sender=False, shows_case=True),
}
MAX_REFERENCES = 10
MAX_SUBJECT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")
_MSGID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")


class ComposeError(ValueError):
    """A message that must not be sent as asked (bad address, unknown kind, naive time)."""


@dataclass(frozen=True)
class Outgoing:
    """A message as sent (`data`, policy SMTP bytes, made once) and its SMTP envelope;
    envelope_from '' is the null sender (MAIL FROM:<>). `message` parses `data` back, for
    whoever wants the email package's view (nothing on the way out does)."""

    data: bytes
    envelope_from: str
    envelope_to: tuple[str, ...]
    kind: str
    case_id: str | None
    message_id: str
    subject: str = ""  # as the header says it, decoded
    date: str = ""
    in_reply_to: str | None = None
    references: tuple[str, ...] = field(default=())

    @cached_property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


def clean_header_value(value: str, max_length: int | None = None) -> str:
    """One line: CR, LF and other control characters become spaces, so no value can add a header."""
    text = re.sub(r"\s+", " ", _CONTROL.sub(" ", str(value))).strip()
    return text[:max_length].rstrip() if max_length else text


def tag_subject(subject: str, case_id: str) -> str:
    """'[INC-2026-0001] subject', without doubling a tag the subject already carries."""
    tag = f"[{case_id}]"
    return subject if tag in subject else f"{tag} {subject}".strip()


def _address(addr: str, name: str = "") -> Address:
    try:
        address = Address(display_name=clean_header_value(name), addr_spec=clean_header_value(addr))
    except (ValueError, IndexError) as exc:
        raise ComposeError(f"not a usable address: {addr!r}") from exc
    if not address.addr_spec.isascii():  # the email package refuses these too; say it here
        raise ComposeError(f"not a usable address: {addr!r}")
    return address


def _msgids(values: list[str]) -> list[str]:
    return [v for v in (clean_header_value(x) for x in values) if _MSGID.match(v)]


def thread_references(in_reply_to: str | None, references: list[str]) -> list[str]:
    """The parent's References plus the parent's Message-ID, bounded: the first (the thread root)
    and the most recent ones are kept, as RFC 5322 section 3.6.4 suggests."""
    ids = _msgids(list(references) + ([in_reply_to] if in_reply_to else []))
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1):]
    return ids


def compose(*, kind: str, to: list[str], subject: str, text: str, html: str | None, config: Config,
            case_id: str | None, now: datetime, in_reply_to: str | None = None,
            references: list[str] = (), message_id: str | None = None) -> Outgoing:
    """Build one outgoing message of `kind` (see KINDS) to `to`, as of `now` (timezone-aware).

    `message_id` (leakline.msgid.MessageIds: signed, stable per step) fixes the Message-ID; by
    default a fresh unsigned one is made (it is no capability: a reply to it can do nothing).
    """
    if kind not in KINDS:
        raise ComposeError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if now.tzinfo is None:
        raise ComposeError("now must be timezone-aware")
    recipients = [_address(addr) for addr in to]
    if not recipients:
        raise ComposeError("no recipients")
    spec = KINDS[kind]
    shown_case = case_id if spec.shows_case else None
    subject = clean_header_value(subject, MAX_SUBJECT)
    subject = tag_subject(subject, shown_case) if shown_case else subject
    from_address = config.from_address
    sender = _address(from_address, config.organization.name)
    if message_id is not None and not _msgids([message_id]):
        raise ComposeError(f"not a Message-ID: {message_id!r}")
    message_id = message_id or make_msgid(idstring=MSGID_TAG, domain=from_address.rpartition("@")[2])
    parent = (_msgids([in_reply_to]) or [None])[0] if in_reply_to else None
    thread = thread_references(parent, list(references))
    headers = [("Date", format_datetime(now)), ("Message-ID", message_id),
               ("In-Reply-To", parent), ("References", " ".join(thread) or None),
               ("Auto-Submitted", spec.auto_submitted),
               # Asks Exchange and Outlook not to send out-of-office or other automatic answers.
               ("X-Auto-Response-Suppress", "All"),
               ("X-Loop", config.organization.incident_address),
               (CASE_HEADER, clean_header_value(shown_case) if shown_case else None)]
    headers = [(name, value) for name, value in headers if value]
    data = _wire(sender, recipients, subject, headers, text, html)
    return Outgoing(data=data, envelope_from="" if spec.null_sender else from_address,
                    envelope_to=tuple(r.addr_spec for r in recipients), kind=kind,
                    case_id=case_id, message_id=message_id, subject=subject,
                    date=headers[0][1], in_reply_to=parent, references=tuple(thread))


def _wire(sender: Address, recipients: list[Address], subject: str, headers: list,
          text: str, html: str | None) -> bytes:
    to: list[str] = []
    for number, address in enumerate(recipients):
        tokens = wire.mailbox(address.display_name, address.addr_spec)
        to += tokens[:-1] + [tokens[-1] + ("," if number < len(recipients) - 1 else "")]
    fields = [wire.field("From", wire.mailbox(sender.display_name, sender.addr_spec)),
              wire.field("To", to), wire.field("Subject", wire.text_tokens(subject))]
    fields += [wire.field(name, value.split(" ")) for name, value in headers]
    return wire.message_bytes(fields, text, html)
