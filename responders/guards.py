"""Loop and abuse protection: the rules that say when leakline must not answer a message, and bounces.

Each rule is a small named class with `check(msg, mail_from, config) -> reason | None`, in the
shape of Mailman's `rules/`. `no_auto_reply_reasons()` runs them all and returns every reason that
fired, so the case log can say why nobody was answered. Headers are read raw (`raw_items()`), not
through the policy's header parser: these rules run on hostile mail and must not raise on it.
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import parseaddr
from typing import Protocol

from intake.headers import header_addresses, header_values, names_ours
from leakline.config import Config
from leakline.msgid import TAG

SYSTEM_LOCALPARTS = ("mailer-daemon", "postmaster")
# Nobody reads these mailboxes; answering them only feeds a loop.
NO_REPLY_LOCALPARTS = ("noreply", "no-reply", "donotreply", "do-not-reply")
SUPPRESS_VALUES = {"all", "autoreply", "oof"}
BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
# Every Message-ID we send ends in this idstring (leakline.msgid), so our own mail is
# recognisable; that it is really ours only the signature in it can tell.
MSGID_TAG = TAG
CASE_HEADER = "X-Leakline-Case"
_COMMENT = re.compile(r"\([^()]*\)")


def envelope_address(mail_from: str | None) -> str:
    """The SMTP MAIL FROM without angle brackets; '' for the null sender.

    A bare MAILER-DAEMON is the null sender too: Postfix's pipe(8) writes it for <> by default.
    """
    if not (mail_from or "").strip("<> "):
        return ""
    try:
        address = parseaddr(mail_from)[1].strip().lower()
    except RecursionError:  # thousands of nested "(": no address anyone could answer
        return ""
    return "" if address == "mailer-daemon" else address


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
            local = address.rpartition("@")[0]
            if (local in SYSTEM_LOCALPARTS or local in NO_REPLY_LOCALPARTS
                    or local.startswith("owner-") or local.endswith(("-request", "-owner"))):
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


# ---- bounces (delivery status notifications, RFC 3464) ----

DSN_PART_TYPES = ("message/delivery-status", "message/rfc822", "text/rfc822-headers")
# Bounces from MTAs that send no DSN parts (qmail, some appliances) still say so in the subject.
BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (status notification|failure|has failed)|failure notice|returned mail"
    r"|mail delivery (failed|system)|配信不能|配送エラー|送信エラー|エラーメール", re.I)
_MSGID_LINE = re.compile(r"^message-id:\s*(<[^<>\s]+>)", re.I | re.M)


def is_bounce(msg: Message, mail_from: str) -> bool:
    """A delivery status notification: attach it to its case as a failed delivery, never answer it."""
    ctype = msg.get_content_type()
    if ctype == "multipart/report" and msg.get_param("report-type", "").lower() == "delivery-status":
        return True
    if envelope_address(mail_from):
        return False
    senders = [a.rpartition("@")[0] for a in header_addresses(msg, "From")]
    if not any(local in SYSTEM_LOCALPARTS for local in senders):
        return False
    has_dsn_part = any(part.get_content_type() in DSN_PART_TYPES for part in msg.walk())
    subject = " ".join(header_values(msg, "Subject"))
    return has_dsn_part or bool(BOUNCE_SUBJECT.search(subject))


def _dsn_fields(block: Message) -> dict[str, str]:
    fields = {}
    for key, value in block.raw_items():
        fields.setdefault(key.lower(), re.sub(r"\s+", " ", str(value)).strip())
    return fields


def _typed(value: str | None) -> str | None:
    """'rfc822; a@b' -> 'a@b', 'smtp; 550 5.1.1 ...' -> '550 5.1.1 ...' (RFC 3464 address-type)."""
    if not value:
        return None
    kind, sep, rest = value.partition(";")
    return rest.strip() if sep and " " not in kind.strip() else value.strip()


def _recipients(msg: Message) -> list[dict]:
    recipients = []
    for part in msg.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        for block in blocks[1:] if isinstance(blocks, list) else []:
            fields = _dsn_fields(block)
            recipients.append({
                "final_recipient": _typed(fields.get("final-recipient") or fields.get("original-recipient")),
                "action": (fields.get("action") or "").lower() or None,
                "status": fields.get("status"),
                "diagnostic": _typed(fields.get("diagnostic-code")),
            })
    return recipients


def _attached_message_id(part: Message) -> str | None:
    ctype = part.get_content_type()
    if ctype == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        found = header_values(inner, "Message-ID") if isinstance(inner, Message) else []
        return found[0].strip() if found else None
    payload = part.get_payload(decode=True) or b""
    match = _MSGID_LINE.search(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return match.group(1) if match else None


def _original_message_id(msg: Message) -> str | None:
    parts = [p for p in msg.walk() if p is not msg or not p.is_multipart()]
    # The attached original is authoritative; some MTAs only quote its headers in the text part.
    for types in (("message/rfc822", "text/rfc822-headers"), ("text/plain",)):
        for part in parts:
            if part.get_content_type() in types:
                found = _attached_message_id(part)
                if found:
                    return found
    return None


def bounce_details(msg: Message) -> dict:
    """What failed: the original Message-ID (to find the case), recipient, status and diagnostic.

    Keys: original_message_id, final_recipient, action, status, diagnostic (each str or None) for the
    first failed recipient, and recipients (every per-recipient block of the report).
    """
    recipients = _recipients(msg)
    failed = [r for r in recipients if r["action"] in (None, "failed")] or recipients
    first = failed[0] if failed else {}
    return {
        "original_message_id": _original_message_id(msg),
        "final_recipient": first.get("final_recipient"),
        "action": first.get("action"),
        "status": first.get("status"),
        "diagnostic": first.get("diagnostic"),
        "recipients": recipients,
    }
