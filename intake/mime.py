"""The MIME tree of a message, built with bounds: nesting depth, number of parts, header size.

The standard library's parser recurses once per nesting level (RecursionError near 1,000 levels,
and every later walk of the tree recurses again). Here each level's header block is read by the
standard parser (headers only, limited by intake.headers) and the body is split by its boundary
here, to MAX_DEPTH levels and MAX_PARTS parts. What lies deeper is left as the raw text of the
part where the walk stopped: not read, but kept (the raw message is always stored whole).
The result is a compat32 `Message` tree, as `email.message_from_bytes` would have built it.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

from leakline.intake.headers import limit_head, split_head

MAX_DEPTH = 32  # nested multiparts and attached messages walked; real mail nests under ten
MAX_PARTS = 1000  # parts walked in one message
MAX_STATUS_BLOCKS = 100
# Of a text part, what is read: a case keeps 1,000,000 characters of text and the responders
# analyse 50,000, so a 10 MB text part is read from its first 4 MiB, not held whole several
# times over as str (the raw message keeps all of it).
TEXT_BYTES = 4 << 20
_NESTED_MESSAGES = ("message/rfc822", "message/global")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


@dataclass
class Bounds:
    """What the walk left out; any of it flags the message for a person to read the raw."""

    depth_cut: bool = False
    parts_cut: bool = False
    headers_cut: bool = False
    text_cut: bool = False  # a text part longer than TEXT_BYTES, read from its start
    parts: int = 0

    def notes(self) -> list[str]:
        notes = []
        if self.depth_cut:
            notes.append(f"nested deeper than {MAX_DEPTH} levels: the deeper parts were not read")
        if self.parts_cut:
            notes.append(f"more than {MAX_PARTS} parts: the rest were not read")
        if self.headers_cut:
            notes.append("header fields over the size limits: analysed truncated")
        return notes


def parse_tree(raw: bytes) -> tuple[Message, Bounds]:
    """The message as a compat32 tree, walked within the bounds; never recurses past MAX_DEPTH."""
    bounds = Bounds()
    return _node(raw, 0, bounds, "text/plain"), bounds


def parse_headers(data: bytes) -> Message:
    """Only a header block (text/rfc822-headers, a DSN block), read within the limits."""
    head, _ = limit_head(split_head(data)[0])
    return BytesHeaderParser(policy=compat32).parsebytes(head)


def _node(data: bytes, depth: int, bounds: Bounds, default_type: str) -> Message:
    head, body = split_head(data)
    head, cut = limit_head(head)
    bounds.headers_cut |= cut
    msg = BytesHeaderParser(policy=compat32).parsebytes(head)
    leftover = msg.get_payload()
    if isinstance(leftover, str) and leftover:
        # A line in the header block that is no header: the standard parser makes it, and all
        # after it, the body. So do we.
        body = leftover.encode("ascii", "surrogateescape") + b"\n" + body
    msg.set_default_type(default_type)
    bounds.parts += 1
    ctype = msg.get_content_type()
    container = msg.get_content_maintype() == "multipart" or ctype in _NESTED_MESSAGES \
        or ctype == "message/delivery-status"
    if container and depth >= MAX_DEPTH:
        bounds.depth_cut = True
    elif container and bounds.parts >= MAX_PARTS:
        bounds.parts_cut = True
    elif msg.get_content_maintype() == "multipart":
        if _multipart(msg, body, depth, bounds):
            return msg
    elif ctype in _NESTED_MESSAGES:
        msg.set_payload([_node(_transfer_decoded(msg, body), depth + 1, bounds, "text/plain")])
        return msg
    elif ctype == "message/delivery-status":
        blocks = [b for b in _BLANK_LINE.split(body) if b.strip()][:MAX_STATUS_BLOCKS]
        msg.set_payload([parse_headers(block + b"\n") for block in blocks])
        return msg
    if msg.get_content_maintype() == "text" and len(body) > TEXT_BYTES:
        body = _first_lines(body, TEXT_BYTES)
        bounds.text_cut = True
    msg.set_payload(body.decode("ascii", "surrogateescape"))
    return msg


def _first_lines(body: bytes, limit: int) -> bytes:
    """The first `limit` bytes, ended at a line break when there is one (a base64 or quoted-
    printable line is never cut in two)."""
    end = body.rfind(b"\n", 0, limit)
    return body[:end + 1] if end > 0 else body[:limit]


def _multipart(msg: Message, body: bytes, depth: int, bounds: Bounds) -> bool:
    boundary = msg.get_boundary()
    if not boundary:
        return False
    parts = split_parts(body, boundary)
    if parts is None:
        return False
    default = "message/rfc822" if msg.get_content_subtype() == "digest" else "text/plain"
    children = []
    for part in parts:
        if bounds.parts >= MAX_PARTS:
            bounds.parts_cut = True
            break
        children.append(_node(part, depth + 1, bounds, default))
    msg.set_payload(children)
    return True


def split_parts(body: bytes, boundary: str) -> list[bytes] | None:
    """The parts between the boundary's delimiter lines (RFC 2046 5.1.1); None if it has none.

    The line break before a delimiter belongs to the delimiter. Without a close delimiter the
    last part runs to the end, as lenient readers take it.
    """
    marker = re.escape(boundary.encode("ascii", "surrogateescape"))
    delimiter = re.compile(rb"^--" + marker + rb"(--)?[ \t]*\r?(?:\n|\Z)", re.M)
    parts: list[bytes] = []
    start = None
    for match in delimiter.finditer(body):
        if start is not None:
            parts.append(_strip_line_break(body[start:match.start()]))
        if match.group(1):
            return parts
        start = match.end()
    if start is None:
        return None
    parts.append(body[start:])
    return parts


def _strip_line_break(part: bytes) -> bytes:
    if part.endswith(b"\r\n"):
        return part[:-2]
    return part[:-1] if part.endswith(b"\n") else part


def _transfer_decoded(msg: Message, body: bytes) -> bytes:
    """An attached message sent base64 or quoted-printable (not allowed, but mailers do it)."""
    cte = str(msg.get("content-transfer-encoding", "")).strip().lower()
    try:
        if cte == "base64":
            return base64.b64decode(body, validate=False)
        if cte == "quoted-printable":
            return quopri.decodestring(body)
    except (binascii.Error, ValueError):
        pass
    return body
