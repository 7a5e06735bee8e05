"""Loop and abuse protection: the rules that say when leakline must not answer a message.

Each rule is a small named class with `check(msg, mail_from, config) -> reason | None`, in the
shape of Mailman's `rules/`. `no_auto_reply_reasons()` runs them all and returns every reason that
fired, so the case log can say why nobody was answered. Intake works them out once per message
(the request's `guards`, intake/request.py); bounces are read by intake.bounce. Headers are read
raw (`raw_items()`), not through the policy's header parser: these rules run on hostile mail and
must not raise on it.
"""

from __future__ import annotations

import re
from email.message import Message
from typing import Protocol

from leakline.intake.headers import (NO_REPLY_LOCALPARTS, SYSTEM_LOCALPARTS, envelope_address,  # noqa: F401
                            header_addresses, header_values, names_ours, system_local_part)
from leakline.config import Config
from leakline.msgid import TAG

SUPPRESS_VALUES = {"all", "autoreply", "oof"}
BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
# Every Message-ID we send ends in this idstring (leakline.msgid), so our own mail is
# recognisable; that it is really ours only the signature in it can tell.
MSGID_TAG = TAG
CASE_HEADER = "X-Leakline-Case"
_COMMENT = re.compile(r"\([^()]*\)")


def _token(value: str) -> str:
    """A header's first token: comments and parameters dropped, lower case."""
    return _COMMENT.sub("", value).split(";")[0].strip().lower()


def _our_addresses(config: Config) -> frozenset[str]:
    """Every organisation's incident and From addresses: mail from any of them is our own."""
    return config.own_addresses


class Rule(Protocol):
    name: str
    description: str

    def check(self, msg: Message, mail_from: str, config: Config) -> str | None: ...


class AutoSubmitted:
    name = "auto_submitted"
    description = "Auto-Submitted other than 'no' (RFC 3834): a machine wrote it"

    def check(self, msg, mail_from, config):
        for value in header_values(msg, "Auto-Submitted"):
            if _token(value) != "no":
                return f"Auto-Submitted: {value}"
        return None


class NullSender:
    name = "null_sender"
    description = "null envelope sender (<>): bounces and auto-replies, which must never be answered"

    def check(self, msg, mail_from, config):
        return "envelope sender is <>" if not envelope_address(mail_from) else None


class SystemSender:
    name = "system_sender"
    description = "MAILER-DAEMON, postmaster, owner-*, *-request or no-reply sender (From or envelope)"

    def check(self, msg, mail_from, config):
        addresses = header_addresses(msg, "From") + [envelope_address(mail_from)]
        for address in filter(None, addresses):
            if system_local_part(address):
                return f"system sender {address}"
        return None


class ListHeaders:
    name = "list_headers"
    description = "List-* headers (RFC 2369/2919): mail from a mailing list"

    def check(self, msg, mail_from, config):
        names = sorted({key for key in msg.keys() if key.lower().startswith("list-")})
        return f"mailing list headers: {', '.join(names)}" if names else None


class Precedence:
    name = "precedence"
    description = "Precedence: bulk, junk, list or auto_reply"

    def check(self, msg, mail_from, config):
        for value in header_values(msg, "Precedence"):
            if _token(value) in BULK_PRECEDENCE:
                return f"Precedence: {value}"
        return None


class VacationHeaders:
    name = "vacation_headers"
    description = "X-Autoreply / X-Autorespond: vacation programs that predate RFC 3834"

    def check(self, msg, mail_from, config):
        for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
            for value in header_values(msg, name):
                if _token(value) not in ("no", "false", "0"):
                    return f"{name}: {value}"
        return None


class AutoResponseSuppress:
    name = "auto_response_suppress"
    description = "X-Auto-Response-Suppress asking for no automatic replies (All, AutoReply, OOF)"

    def check(self, msg, mail_from, config):
        for value in header_values(msg, "X-Auto-Response-Suppress"):
            tokens = {t.strip().lower() for t in value.split(",")}
            if tokens & SUPPRESS_VALUES:
                return f"X-Auto-Response-Suppress: {value}"
        return None


class DeliveryReport:
    name = "delivery_report"
    description = "multipart/report (bounces, read receipts): answered by no one"

    def check(self, msg, mail_from, config):
        return "multipart/report" if msg.get_content_type() == "multipart/report" else None


class XLoop:
    name = "x_loop"
    description = "X-Loop naming our incident address: the mail has been through us already"

    def check(self, msg, mail_from, config):
        ours = _our_addresses(config)
        for value in header_values(msg, "X-Loop"):
            if names_ours(value, ours):
                return f"X-Loop: {value}"
        return None


class OwnMessage:
    name = "own_message"
    description = "one of our own messages: our Message-ID, our case header, or From our address"

    def check(self, msg, mail_from, config):
        if header_values(msg, CASE_HEADER):
            return f"{CASE_HEADER} header present"
        domains = {a.rpartition("@")[2] for a in _our_addresses(config)}
        for value in header_values(msg, "Message-ID"):
            left, _, domain = value.strip().strip("<>").lower().rpartition("@")
            if domain in domains and left.endswith("." + MSGID_TAG):
                return f"our Message-ID {value}"
        ours = _our_addresses(config)
        for address in header_addresses(msg, "From"):
            if address in ours:
                return f"From our own address {address}"
        return None


RULES: tuple[Rule, ...] = (
    AutoSubmitted(), NullSender(), SystemSender(), ListHeaders(), Precedence(), VacationHeaders(),
    AutoResponseSuppress(), DeliveryReport(), XLoop(), OwnMessage(),
)


def no_auto_reply_reasons(msg: Message, mail_from: str, config: Config) -> list[str]:
    """Every rule that forbids an automatic reply, as 'rule_name: reason'; [] means we may answer."""
    reasons = []
    for rule in RULES:
        reason = rule.check(msg, mail_from, config)
        if reason:
            reasons.append(f"{rule.name}: {reason}")
    return reasons
