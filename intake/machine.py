"""Machine mail: written by a program, kept on its case (or apart), never a new escalated case.

Four kinds, each a small named rule that says why it fired (the shape of responders.guards):
auto-replies (RFC 3834 and the vacation programs before it), list mail (RFC 2369/2919,
Precedence), read receipts (MDNs, RFC 8098) and our own mail come back (our signed Message-ID,
our case header, our address). Bounces are not here: they join the case of what bounced.
"Auto-Submitted: auto-generated" alone is not machine mail: a monitoring system's alert about a
leak is a report (it gets no automatic answer, responders.guards sees to that).
"""

from __future__ import annotations

from email.message import Message
from typing import Callable, Protocol

from leakline.intake.headers import header_addresses, header_values, names_ours
from leakline.config import Config

AUTO_REPLY_TOKENS = {"auto-replied", "auto-notified"}
LIST_PRECEDENCE = {"bulk", "junk", "list"}
CASE_HEADER = "X-Leakline-Case"


def _token(value: str) -> str:
    return value.split("(")[0].split(";")[0].strip().lower()


class MachineRule(Protocol):
    name: str

    def check(self, msg: Message, config: Config, ours: Callable[[str], bool]) -> str | None: ...


class AutoReply:
    name = "auto_reply"

    def check(self, msg, config, ours):
        for value in header_values(msg, "Auto-Submitted"):
            if _token(value) in AUTO_REPLY_TOKENS:
                return f"Auto-Submitted: {value}"
        for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
            for value in header_values(msg, name):
                if _token(value) not in ("no", "false", "0"):
                    return f"{name}: {value}"
        if any(_token(v) == "auto_reply" for v in header_values(msg, "Precedence")):
            return "Precedence: auto_reply"
        return None


class ListMail:
    name = "list_mail"

    def check(self, msg, config, ours):
        names = sorted({key for key in msg.keys() if key.lower().startswith("list-")})
        if names:
            return f"mailing list headers: {', '.join(names)}"
        for value in header_values(msg, "Precedence"):
            if _token(value) in LIST_PRECEDENCE:
                return f"Precedence: {value}"
        return None


class ReadReceipt:
    name = "read_receipt"

    def check(self, msg, config, ours):
        if msg.get_content_type() == "multipart/report" and \
                str(msg.get_param("report-type") or "").lower() == "disposition-notification":
            return "multipart/report; report-type=disposition-notification"
        if msg.get_content_type() == "message/disposition-notification":
            return "message/disposition-notification"
        return None


class OwnMail:
    name = "own_mail"

    def check(self, msg, config, ours):
        for value in header_values(msg, "Message-ID"):
            if ours(value):
                return f"our own Message-ID {value}"
        if header_values(msg, CASE_HEADER):
            return f"{CASE_HEADER} header present"
        mine = config.own_addresses  # every organisation's: one's mail is never another's report
        for value in header_values(msg, "X-Loop"):
            if names_ours(value, mine):
                return f"X-Loop: {value}"
        for address in header_addresses(msg, "From"):
            if address in mine:
                return f"From our own address {address}"
        return None


RULES: tuple[MachineRule, ...] = (AutoReply(), ListMail(), ReadReceipt(), OwnMail())


def machine_reasons(msg: Message | None, config: Config, ours: Callable[[str], bool]) -> list[str]:
    """Why `msg` is machine mail, as 'rule: reason'; [] for mail a person wrote."""
    if msg is None:
        return []
    return [f"{rule.name}: {reason}" for rule in RULES if (reason := rule.check(msg, config, ours))]
