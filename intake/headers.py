"""Header blocks read with limits, and raw header values that never raise on hostile mail.

What is analysed is bounded (MAX_FIELD per field, MAX_BLOCK per block, MAX_FIELDS fields);
what is kept as evidence is the raw message, whole. Values are read with `raw_items()`, not
through an email policy's header parser: these helpers run on hostile mail.
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import getaddresses, parseaddr

MAX_FIELD = 64 * 1024  # bytes of one header field that are analysed
MAX_BLOCK = 1024 * 1024  # bytes of one header block that are analysed
MAX_FIELDS = 2000  # fields of one header block that are analysed
_END_OF_HEAD = re.compile(rb"\n\r?\n")
_LINE = re.compile(rb"[^\n]*(?:\n|$)")


def split_head(data: bytes) -> tuple[bytes, bytes]:
    """(header block, body): the body starts after the first empty line."""
    if data.startswith((b"\n", b"\r\n")):
        return b"", data.split(b"\n", 1)[1]
    match = _END_OF_HEAD.search(data)
    if match is None:
        return data, b""
    return data[:match.start() + 1], data[match.end():]


def limit_head(head: bytes) -> tuple[bytes, bool]:
    """The header block as analysed: each field cut at MAX_FIELD, the block at MAX_BLOCK and
    MAX_FIELDS; and whether anything was cut."""
    if len(head) <= MAX_FIELD and head.count(b"\n") < MAX_FIELDS:
        return head, False
    out: list[bytes] = []
    total = fields = used = 0
    cut = False
    for line in _LINE.findall(head):
        if not line:
            continue
        if line[:1] not in (b" ", b"\t"):  # a new field
            if total >= MAX_BLOCK or fields >= MAX_FIELDS:
                return b"".join(out), True
            fields, used = fields + 1, 0
        room = MAX_FIELD - used
        if len(line) > room:
            cut = True
            if room <= 2:
                continue
            space = max(line.rfind(b" ", 0, room - 2), line.rfind(b"\t", 0, room - 2))
            line = line[:space if space > room // 2 else room - 2] + b"\r\n"  # a word kept whole
        out.append(line)
        used += len(line)
        total += len(line)
    return b"".join(out), cut


def header_values(msg: Message, name: str) -> list[str]:
    """Every raw value of header `name` (case-insensitive), unfolded; never raises on bad headers."""
    name = name.lower()
    values = []
    for key, value in msg.raw_items():
        if key.lower() == name:
            values.append(re.sub(r"\r?\n[ \t]*", " ", str(value)).strip())
    return values


def safe_getaddresses(values: list[str]) -> list[tuple[str, str]]:
    """email.utils.getaddresses, but [] for what it cannot read: it recurses once per nested
    comment, so a header of 30,000 "(" raised RecursionError wherever it was read."""
    try:
        return getaddresses(values)
    except (RecursionError, ValueError, IndexError):
        return []


def header_addresses(msg: Message, name: str) -> list[str]:
    """The lower-case addr-specs in every `name` header."""
    return [addr.lower() for _, addr in safe_getaddresses(header_values(msg, name)) if "@" in addr]


_ADDRESS_TOKEN = re.compile(r"[^\s<>,;:()\[\]\"']+@[^\s<>,;:()\[\]\"']+")


def names_ours(value: str, ours: frozenset[str]) -> bool:
    """Whether a header value (X-Loop) names one of our addresses: looked up one token at a
    time, so the cost does not grow with the number of organisations."""
    return any(token.lower().rstrip(".") in ours for token in _ADDRESS_TOKEN.findall(value))


# Mailboxes of programs, not people: mail from them is never answered, and what they send about
# our mail (a bounce) says nothing a person wrote.
SYSTEM_LOCALPARTS = ("mailer-daemon", "postmaster")
NO_REPLY_LOCALPARTS = ("noreply", "no-reply", "donotreply", "do-not-reply")


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


def system_local_part(address: str) -> bool:
    """A program's mailbox: MAILER-DAEMON, postmaster, no-reply, owner-*, *-request, *-owner."""
    local = address.lower().rpartition("@")[0]
    return (local in SYSTEM_LOCALPARTS or local in NO_REPLY_LOCALPARTS
            or local.startswith("owner-") or local.endswith(("-request", "-owner")))
