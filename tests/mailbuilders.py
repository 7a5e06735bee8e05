"""Test mail in the encodings Japanese mailers really send, built byte by byte."""

from __future__ import annotations

import base64


def cp932_to_iso2022jp(text: str) -> bytes:
    """Encode as Windows mailers do: ISO-2022-JP escapes around CP932 (NEC/IBM) characters."""
    out = bytearray()
    kanji = False
    for ch in text:
        encoded = ch.encode("cp932")
        if len(encoded) == 1:
            if kanji:
                out += b"\x1b(B"
                kanji = False
            out += encoded
            continue
        if not kanji:
            out += b"\x1b$B"
            kanji = True
        s1, s2 = encoded
        s1 -= 0xB0 if s1 >= 0xE0 else 0x70
        j1 = s1 * 2 - 1
        if s2 >= 0x9F:
            j1 += 1
            j2 = s2 - 0x7E
        else:
            j2 = s2 - (0x20 if s2 >= 0x80 else 0x1F)
        out += bytes((j1, j2))
    if kanji:
        out += b"\x1b(B"
    return bytes(out)


def encoded_word(text: str, charset: str) -> str:
    data = cp932_to_iso2022jp(text) if charset.upper() == "ISO-2022-JP" else text.encode(
        "cp932" if charset.lower() == "shift_jis" else charset)
    return f"=?{charset}?B?{base64.b64encode(data).decode()}?="


def headers(subject_word: str, *, sender="taro@example.com", message_id=None, extra=()) -> bytes:
    lines = [f"From: {sender}", "To: incident@example.com", f"Subject: {subject_word}",
             "Date: Thu, 26 Nov 2026 10:00:00 +0900", "MIME-Version: 1.0"]
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n").encode()


def iso2022jp_mail(subject: str, body: str, **kw) -> bytes:
    return headers(encoded_word(subject, "ISO-2022-JP"), **kw) + (
        b"Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
        + cp932_to_iso2022jp(body).replace(b"\n", b"\r\n") + b"\r\n")


def shift_jis_mail(subject: str, body: str, **kw) -> bytes:
    return headers(encoded_word(subject, "Shift_JIS"), **kw) + (
        b"Content-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body.encode("cp932").replace(b"\n", b"\r\n") + b"\r\n")


def no_charset_mail(subject: str, body: str, codec: str = "cp932", **kw) -> bytes:
    return headers(encoded_word(subject, "UTF-8"), **kw) + (
        b"Content-Type: text/plain\r\n\r\n" + body.encode(codec).replace(b"\n", b"\r\n") + b"\r\n")


def html_only_mail(subject: str, html: str, **kw) -> bytes:
    return headers(encoded_word(subject, "UTF-8"), **kw) + (
        b"Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(html.encode("utf-8")).replace(b"\n", b"\r\n"))


def forwarded_mail(subject: str, note: str, inner: bytes, **kw) -> bytes:
    boundary = "fwd-boundary-1"
    return headers(encoded_word(subject, "UTF-8"), **kw) + (
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=UTF-8\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n").encode() + base64.encodebytes(
        note.encode()).replace(b"\n", b"\r\n") + (
        f"\r\n--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n").encode() + inner + (
        f"\r\n--{boundary}--\r\n").encode()


def plain_mail(subject: str, body: str, **kw) -> bytes:
    return headers(encoded_word(subject, "UTF-8"), **kw) + (
        b"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(body.encode("utf-8")).replace(b"\n", b"\r\n"))
