"""Who sent a message: the From header read once, three ways, and trusted only if they agree.

The address that is classified (intake.trust) is the only address ever replied to. A From that
does not name exactly one address, or that names another one under another reading, names
nobody: the message is kept, flagged spoof_suspected, and answered by no one.

The readings: 8-bit bytes kept opaque (each byte one character, so no byte can join a quote or
a backslash), read by email.utils (lenient) and by email.headerregistry (strict); and 8-bit
bytes decoded as a Japanese mailer would (CP932 may swallow a backslash: '\\x81\\\\' is one
character), read by email.utils. Example: From: "\\x81\\" <evil@evil.test>" <taro@example.com>
is taro@example.com opaque and evil@evil.test decoded: ambiguous.
"""

from __future__ import annotations

import email.policy
import re
from dataclasses import dataclass, field
from email.message import Message

from leakline.intake.decode import decode_bytes, decode_header_value
from leakline.intake.headers import safe_getaddresses as getaddresses

MAX_FROM = 4096  # a From longer than this is not parsed at all (no mailer writes one)
_OPAQUE_BASE = 0xF700  # private-use characters standing for the bytes 0x80..0xFF
_SURROGATE = re.compile("[\udc80-\udcff]")
_OPAQUE = re.compile("[\uf780-\uf7ff]+")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=")


@dataclass(frozen=True)
class Sender:
    """The one From address (lower case) and display name, or why there is none."""

    address: str = ""
    name: str = ""
    problem: str | None = None  # set: no address may be trusted or answered
    readings: tuple[str, ...] = field(default=())

    @property
    def ambiguous(self) -> bool:
        """A From was there but did not name one address the same way every time."""
        return self.problem is not None and self.problem != MISSING


MISSING = "no From header"


def read_sender(msg: Message) -> Sender:
    """The sender of `msg` (a compat32 tree from intake.mime): one address, or a problem."""
    values = [str(v) for k, v in msg.raw_items() if k.lower() == "from"]
    if not values:
        return Sender(problem=MISSING)
    if len(values) > 1:
        return Sender(problem=f"{len(values)} From headers", readings=_shown(values))
    value = re.sub(r"\r?\n(?=[ \t])", "", values[0])
    if len(value) > MAX_FROM:
        return Sender(problem=f"From header longer than {MAX_FROM} characters")
    opaque = _SURROGATE.sub(lambda m: chr(_OPAQUE_BASE + ord(m.group()) - 0xDC00), value)
    decoded = decode_bytes(value.encode("utf-8", "surrogateescape"), None) \
        if _SURROGATE.search(value) else value
    readings = {
        "lenient": [_bytes_back(a) for _, a in getaddresses([opaque])],
        # Encoded words stand in phrases only; the strict parser would decode them first.
        "strict": [_bytes_back(a) for a in _strict(_ENCODED_WORD.sub("word", opaque))],
        "decoded": [a for _, a in getaddresses([decoded])],
    }
    found = {name: [a.strip().lower() for a in addrs if a.strip()] for name, addrs in readings.items()}
    shown = tuple(f"{name}: {', '.join(addrs) or '(none)'}" for name, addrs in found.items())
    counts = {len(addrs) for addrs in found.values()}
    if counts != {1}:
        return Sender(problem="From does not name exactly one address", readings=shown)
    if len({addrs[0] for addrs in found.values()}) != 1:
        return Sender(problem="From names different addresses under different readings",
                      readings=shown)
    address = found["lenient"][0]
    if "@" not in address:
        return Sender(problem="From address has no domain", readings=shown)
    name = next((n for n, _ in getaddresses([decoded])), "")
    return Sender(address=address, name=decode_header_value(name))


def _strict(value: str) -> list[str]:
    try:
        header = email.policy.default.header_factory("from", value)
        return [a.addr_spec for a in header.addresses]
    except Exception:  # the strict parser gave up: no reading, hence no single address
        return []


def _bytes_back(text: str) -> str:
    """An address read with opaque bytes, those bytes decoded again (SMTPUTF8 addresses)."""
    if not _OPAQUE.search(text):
        return text
    data = "".join(chr(ord(c) - _OPAQUE_BASE) if 0xF780 <= ord(c) <= 0xF7FF else c
                   for c in text).encode("latin-1", "replace")
    return decode_bytes(data, None)


def _shown(values: list[str]) -> tuple[str, ...]:
    return tuple(_SURROGATE.sub("\ufffd", v)[:200] for v in values)
