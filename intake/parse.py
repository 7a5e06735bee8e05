"""Raw message bytes -> a ParsedMessage with readable text, Japanese included. Parsed once:
the message tree and the sender identity travel with it to the responders.

intake.mime builds the MIME tree within bounds (depth, parts, header size); every text part and
header is decoded here from its bytes with intake.decode (ISO-2022-JP 7bit, CP932 under a
Shift_JIS label, no charset), and bytes that decode to nothing are replaced, never raised on:
the message is then flagged `unparsed` for a person to read the raw.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from leakline.intake.decode import decode_bytes, decode_bytes_checked, decode_header_checked, decode_header_value
from leakline.intake.headers import safe_getaddresses, split_head
from leakline.intake.htmltext import html_to_text
from leakline.intake.identity import MISSING, Sender, read_sender
from leakline.intake.mime import parse_headers, parse_tree

MAX_FORWARD_DEPTH = 3


@dataclass
class ParsedMessage:
    message_id: str | None = None
    from_addr: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    subject: str = ""
    date: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    text: str = ""
    html: bool = False
    attachments: list[dict] = field(default_factory=list)
    forwarded: list[dict] = field(default_factory=list)
    unparsed: bool = False
    error: str | None = None
    # A delivery status notification (bounce): the Message-ID of the message that bounced.
    report_type: str | None = None
    original_message_id: str | None = None
    # The parsed tree (compat32, bounded by intake.mime) and the sender read once from it: the
    # responders use these, never a parse of their own.
    msg: Message | None = field(default=None, repr=False, compare=False)
    sender: Sender = field(default_factory=lambda: Sender(problem=MISSING))
    notes: list[str] = field(default_factory=list)  # why `unparsed`: what could not be read
    truncated: bool = False  # a text part was read from its start only (intake.mime.TEXT_BYTES)

    def note(self, text: str) -> None:
        self.unparsed = True
        if text not in self.notes:
            self.notes.append(text)

    def body_digest(self, raw: bytes) -> str:
        return body_digest(raw)

    def content_key(self, raw: bytes) -> str:
        """Identity of a message: its Message-ID, else a hash of what a resend keeps the same."""
        if self.message_id:
            return self.message_id
        body = raw.split(b"\r\n\r\n", 1)[-1] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[-1]
        digest = hashlib.sha256()
        for part in (self.from_addr, self.subject, self.date or "", ",".join(self.to)):
            digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
        digest.update(body.replace(b"\r\n", b"\n"))
        return "sha256:" + digest.hexdigest()


def body_digest(raw: bytes) -> str:
    """SHA-256 of the body bytes (line ends normalised): the same message through other relays,
    with other trace headers, has the same body."""
    body = split_head(raw)[1].replace(b"\r\n", b"\n").rstrip(b"\n")
    return hashlib.sha256(body).hexdigest()


_MSGID = re.compile(r"<[^<>\s]+>")


def message_ids(value: Any) -> list[str]:
    return _MSGID.findall(str(value or ""))


def parse(raw: bytes) -> ParsedMessage:
    """Parse a message; never raises: what cannot be parsed comes back flagged `unparsed`."""
    try:
        message, bounds = parse_tree(raw)
        if not message.keys():
            return _unparsed(raw, "no header fields: not a mail message")
        parsed = _headers(message)
        parsed.msg = message
        parsed.truncated = bounds.text_cut
        for note in bounds.notes():
            parsed.note(note)
        _walk(message, parsed, depth=0)
        _delivery_report(message, parsed)
        return parsed
    except Exception as exc:  # evidence is kept whatever the parser thinks of it
        return _unparsed(raw, f"{type(exc).__name__}: {exc}")


def _raw_headers(message: Message, name: str) -> list[str]:
    """A header's values before RFC 2047 decoding, 8-bit (SMTPUTF8) bytes decoded, not mangled.

    compat32 turns 8-bit header bytes into Header objects whose str() is replacement characters;
    raw_items() still has the bytes (surrogate-escaped).
    """
    values = []
    for key, value in message.raw_items():
        if key.lower() == name:
            text = str(value)
            if any(0xDC80 <= ord(c) <= 0xDCFF for c in text):
                text = decode_bytes(text.encode("utf-8", "surrogateescape"), None)
            values.append(text)
    return values


def _header(message: Message, name: str) -> str:
    values = _raw_headers(message, name)
    return values[0] if values else ""


def _headers(message: Message) -> ParsedMessage:
    sender = read_sender(message)
    ids = message_ids(_header(message, "message-id"))
    reply_to = message_ids(_header(message, "in-reply-to"))
    subject_values = [str(v) for k, v in message.raw_items() if k.lower() == "subject"]
    subject, bad = decode_header_checked(subject_values[0] if subject_values else "")
    parsed = ParsedMessage(
        message_id=ids[0] if ids else None,
        from_addr=sender.address,
        from_name=sender.name,
        to=[a.lower() for _, a in safe_getaddresses(
            _raw_headers(message, "to") + _raw_headers(message, "cc")) if a],
        subject=subject,
        date=decode_header_value(_header(message, "date")) or None,
        in_reply_to=reply_to[0] if reply_to else None,
        references=message_ids(_header(message, "references")),
        sender=sender,
    )
    if bad:
        parsed.note("Subject: bytes that decode to no character were replaced")
    return parsed


def _walk(message: Message, parsed: ParsedMessage, depth: int) -> None:
    plain: list[str] = []
    html: list[str] = []
    for part in _leaves(message):
        ctype = part.get_content_type()
        if ctype == "message/rfc822" or (ctype.startswith("message/") and part.is_multipart()):
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message) and depth < MAX_FORWARD_DEPTH:
                parsed.forwarded.append(_forwarded(inner, depth + 1))
            continue
        filename = part.get_filename()
        is_attachment = filename or (part.get_content_disposition() == "attachment")
        if ctype == "text/plain" and not is_attachment:
            plain.append(_text_of(part, parsed))
        elif ctype == "text/html" and not is_attachment:
            html.append(_text_of(part, parsed))
        elif not part.is_multipart():
            parsed.attachments.append(_attachment(part, filename))
    parsed.html = bool(html)
    if plain:
        parsed.text = "\n".join(t for t in plain if t)
    elif html:
        parsed.text = "\n".join(html_to_text(h) for h in html)
    parsed.text = _normalise_newlines(parsed.text)


def _delivery_report(message: Message, parsed: ParsedMessage) -> None:
    if message.get_content_type() != "multipart/report":
        return
    parsed.report_type = (message.get_param("report-type") or "").lower() or None
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            ids = message_ids(inner.get("Message-ID")) if isinstance(inner, Message) else []
        elif ctype == "text/rfc822-headers":
            headers = parse_headers(part.get_payload(decode=True) or b"")
            ids = message_ids(headers.get("Message-ID"))
        else:
            continue
        if ids:
            parsed.original_message_id = ids[0]
            return


def _leaves(message: Message):
    """Every part under `message`, not descending into forwarded messages."""
    if message.get_content_type().startswith("message/"):
        yield message
        return
    if not message.is_multipart():
        yield message
        return
    for sub in message.get_payload():
        yield from _leaves(sub)


def _text_of(part: Message, parsed: ParsedMessage) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    text, bad = decode_bytes_checked(payload, part.get_content_charset() or part.get_param("charset"))
    if bad:
        parsed.note("text: bytes that decode to no character were replaced")
    return text


def _attachment(part: Message, filename: str | None) -> dict:
    payload = part.get_payload(decode=True) or b""
    # The name is a label only: it never becomes a path (the raw .eml holds the bytes).
    return {
        "filename": decode_header_value(filename) if filename else None,
        "content_type": part.get_content_type(),
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    }


def _forwarded(inner: Message, depth: int) -> dict:
    fwd = _headers(inner)
    _walk(inner, fwd, depth)
    return {
        "from": f"{fwd.from_name} <{fwd.from_addr}>".strip() if fwd.from_addr else "",
        "to": fwd.to,
        "subject": fwd.subject,
        "date": fwd.date,
        "message_id": fwd.message_id,
        "text": fwd.text,
        "attachments": fwd.attachments,
        "forwarded": fwd.forwarded,
    }


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")


_HEADER_LINE = re.compile(rb"^([A-Za-z-]+):[ \t]*(.*)$")


def _unparsed(raw: bytes, reason: str) -> ParsedMessage:
    """Best effort for a message the parser refused: crude headers, the rest as text."""
    parsed = ParsedMessage(unparsed=True, error=reason[:300], notes=[reason[:300]])
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    if not _HEADER_LINE.match(head.split(b"\n", 1)[0]):
        head, body = b"", raw  # no header block at all: all of it is text
    for line in head.split(b"\n"):
        match = _HEADER_LINE.match(line)
        if not match:
            continue
        name, value = match.group(1).lower(), match.group(2).decode("ascii", "surrogateescape")
        if name == b"subject":
            parsed.subject = decode_header_value(value)
        elif name == b"from":
            # A second reading of From is the very thing to avoid: shown, never trusted.
            parsed.sender = Sender(problem="the message could not be parsed",
                                   readings=(value.encode("ascii", "surrogateescape")
                                             .decode("utf-8", "replace")[:200],))
        elif name == b"message-id":
            ids = message_ids(value)
            parsed.message_id = ids[0] if ids else None
    parsed.text = _normalise_newlines(decode_bytes(body[:1_000_000], None))
    return parsed
