"""Outgoing mail as the bytes that are sent, written once: no EmailMessage built and serialised.

`message_bytes(headers, text, html)` makes what `EmailMessage.as_bytes(policy=SMTP)` would:
CRLF line ends, header fields folded at 78 characters, non-ASCII header text as RFC 2047
encoded words (`=?utf-8?b?...?=`, never splitting a character), text parts in base64 (7bit when
ASCII with short lines), `multipart/alternative` when there is an HTML part. It takes values
that compose() has already cleaned (no CR, LF or other control characters) and checked (every
address ASCII; compose() builds anything else with the email package instead).
"""

from __future__ import annotations

import base64
import secrets
from email.utils import formataddr

LINE = 78
WORD_BYTES = 42  # 56 characters of base64: an encoded word of 68, "Subject: " and one fit in 78


def encoded_words(text: str) -> list[str]:
    words, chunk, size = [], [], 0
    for char in text:
        length = len(char.encode("utf-8", "surrogatepass"))
        if chunk and size + length > WORD_BYTES:
            words.append(_word("".join(chunk)))
            chunk, size = [], 0
        chunk.append(char)
        size += length
    if chunk:
        words.append(_word("".join(chunk)))
    return words


def _word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def text_tokens(text: str) -> list[str]:
    """Unstructured text (a Subject) as tokens to fold between: words, or encoded words."""
    return text.split(" ") if text.isascii() else encoded_words(text)


def mailbox(name: str, address: str) -> list[str]:
    if not name:
        return [address]
    if name.isascii():
        return formataddr((name, address)).split(" ")
    return [*encoded_words(name), f"<{address}>"]


def field(name: str, tokens: list[str]) -> bytes:
    """`Name: tokens` folded: a line break (CRLF, space) between tokens wherever a line would
    pass 78 characters. A token is never split (a longer one makes a longer line)."""
    lines, line = [], f"{name}:"
    for token in tokens:
        if not token:
            continue
        if len(line) + 1 + len(token) > LINE and line != f"{name}:":
            lines.append(line)
            line = " " + token
        else:
            line += " " + token
    lines.append(line)
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _part(content_type: str, text: str) -> bytes:
    if not text.endswith("\n"):
        text += "\n"
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    head = f'Content-Type: {content_type}; charset="utf-8"\r\n'
    if text.isascii() and all(len(line) <= 900 for line in text.split("\n")):
        return (head + "Content-Transfer-Encoding: 7bit\r\n\r\n"
                + text.replace("\n", "\r\n")).encode("ascii")
    # base64 keeps Japanese text intact through relays that are not 8-bit clean.
    body = base64.encodebytes(text.encode("utf-8", "surrogatepass")).replace(b"\n", b"\r\n")
    return (head + "Content-Transfer-Encoding: base64\r\n\r\n").encode("ascii") + body


def message_bytes(headers: list[bytes], text: str, html: str | None) -> bytes:
    """The whole message: `headers` (fields from field()), MIME headers and the body."""
    head = b"".join(headers) + b"MIME-Version: 1.0\r\n"
    if html is None:
        return head + _part("text/plain", text)
    boundary = "=_leakline_" + secrets.token_hex(12)
    return b"".join([
        head, field("Content-Type", ["multipart/alternative;", f'boundary="{boundary}"']), b"\r\n",
        # The CRLF before a boundary belongs to the boundary: each part keeps its last line end.
        f"--{boundary}\r\n".encode(), _part("text/plain", text),
        f"\r\n--{boundary}\r\n".encode(), _part("text/html", html),
        f"\r\n--{boundary}--\r\n".encode(),
    ])
