"""Decode Japanese mail text the way Japanese mailers actually write it.

Python's codecs are strict where mailers are not: "Shift_JIS" labels usually mean Windows-31J
(CP932, with ①, ～, ㈱, 髙), and ISO-2022-JP from Windows carries the same NEC/IBM extensions
that the strict iso2022_jp codec rejects. We decode ISO-2022-JP by re-encoding its JIS pairs as
CP932 bytes, which is what Microsoft's CP50220 does.
"""

from __future__ import annotations

import base64
import binascii
import re

# Labels seen in the wild mapped to the codec that decodes what those mailers really send.
_ALIASES = {
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "ms_kanji": "cp932", "csshiftjis": "cp932", "windows-31j": "cp932", "cp932": "cp932",
    "iso-2022-jp": "iso-2022-jp", "iso2022jp": "iso-2022-jp", "csiso2022jp": "iso-2022-jp",
    "iso-2022-jp-ms": "iso-2022-jp", "iso-2022-jp-1": "iso-2022-jp", "iso-2022-jp-2": "iso-2022-jp",
    "euc-jp": "euc_jis_2004", "x-euc-jp": "euc_jis_2004", "eucjp": "euc_jis_2004",
    "us-ascii": "utf-8", "ascii": "utf-8", "utf8": "utf-8", "unicode-1-1-utf-7": "utf-7",
}
_ESC = b"\x1b"


def normalize_charset(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().strip('"').lower()
    return _ALIASES.get(label, label)


def _jis_pair_to_sjis(j1: int, j2: int) -> bytes:
    s1 = (j1 + 1) // 2 + (0x70 if j1 <= 0x5E else 0xB0)
    if j1 % 2:
        s2 = j2 + 0x1F
        if s2 >= 0x7F:
            s2 += 1
    else:
        s2 = j2 + 0x7E
    return bytes((s1, s2))


_ISO2022_SEQ = re.compile(rb"\x1b(\$@|\$B|\$\(B|\$\(Q|\$\(O|\(B|\(J|\(I)")


def _jis_pair_ok(b1: int, b2: int) -> bool:
    return 0x21 <= b1 <= 0x7E and 0x21 <= b2 <= 0x7E


class _Text:
    """Decoded pieces of one ISO-2022-JP text, and whether any byte had to be replaced."""

    def __init__(self):
        self.pieces: list[str] = []
        self.sjis = bytearray()
        self.errors = False

    def flush(self) -> None:
        if self.sjis:
            text, bad = _decode_strictly(bytes(self.sjis), "cp932")
            self.pieces.append(text)
            self.errors |= bad
            self.sjis.clear()

    def add(self, text: str, bad: bool = False) -> None:
        self.flush()
        self.pieces.append(text)
        self.errors |= bad


def _decode_strictly(data: bytes, codec: str) -> tuple[str, bool]:
    try:
        return data.decode(codec), False
    except UnicodeDecodeError:
        return data.decode(codec, errors="replace"), True


def _kanji_run(run: bytes, out: _Text) -> None:
    i = 0
    while i < len(run):
        b = run[i]
        if b in (0x0A, 0x0D):
            out.sjis.append(b)  # a line break inside a kanji run: lenient mailers do this
            i += 1
        elif i + 1 < len(run) and _jis_pair_ok(b, run[i + 1]):
            out.sjis += _jis_pair_to_sjis(b, run[i + 1])
            i += 2
        else:
            out.add("\ufffd", bad=True)  # a byte no JIS pair has (8-bit, or a lone one): replaced
            i += 1


def _plain_run(run: bytes, mode: str, out: _Text) -> None:
    if mode == "kanji":
        _kanji_run(run, out)
    elif mode == "kana":
        for b in run:
            if 0x21 <= b <= 0x5F:
                out.sjis.append(b + 0x80)
            elif b < 0x80:
                out.sjis.append(b)
            else:
                out.add("\ufffd", bad=True)
    elif run.isascii():
        out.sjis += run
    else:  # 8-bit text between escapes: what the mailer really wrote, detected, never raised on
        text, bad = _detect(run)
        out.add(text, bad)


def decode_iso2022jp(data: bytes) -> tuple[str, bool]:
    """ISO-2022-JP (with the Windows extensions) as text, and whether any byte was replaced.

    JIS pairs are re-encoded as CP932 (what Microsoft's CP50220 does); a byte that belongs to no
    pair (an 8-bit byte inside a kanji run, a broken gateway) becomes U+FFFD, never an error.
    """
    out = _Text()
    mode = "ascii"
    pos = 0
    for match in _ISO2022_SEQ.finditer(data):
        _plain_run(data[pos:match.start()], mode, out)
        seq = match.group(1)
        mode = "kanji" if seq.startswith(b"$") else ("kana" if seq == b"(I" else "ascii")
        pos = match.end()
    _plain_run(data[pos:], mode, out)
    out.flush()
    return "".join(out.pieces), out.errors


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode a text part. Unknown or missing charsets are detected, never guessed as ASCII."""
    return decode_bytes_checked(data, charset)[0]


def decode_bytes_checked(data: bytes, charset: str | None) -> tuple[str, bool]:
    """decode_bytes, and whether bytes had to be replaced (the message is then flagged)."""
    codec = normalize_charset(charset)
    if codec == "iso-2022-jp" or (codec in (None, "utf-8") and _ESC + b"$" in data):
        return decode_iso2022jp(data)
    if codec:
        try:
            return data.decode(codec), False
        except LookupError:
            pass  # an unknown label: fall through to detection
        except UnicodeDecodeError:
            if codec not in ("utf-8", "cp932", "euc_jis_2004"):
                return data.decode(codec, errors="replace"), True
    return _detect(data)


def _detect(data: bytes) -> tuple[str, bool]:
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        pass
    # CP932 and EUC-JP both decode many byte strings; keep the reading that looks like Japanese.
    readings = []
    for codec in ("cp932", "euc_jis_2004"):
        try:
            readings.append(data.decode(codec))
        except UnicodeDecodeError:
            continue
    if not readings:
        return data.decode("utf-8", errors="replace"), True
    return max(readings, key=_japanese_score), False


def _japanese_score(text: str) -> int:
    score = 0
    for ch in text:
        code = ord(ch)
        if 0x3040 <= code <= 0x30FF or 0x4E00 <= code <= 0x9FFF or 0x3000 <= code <= 0x303F:
            score += 2
        elif 0xFF61 <= code <= 0xFF9F:
            score -= 1  # half-width katakana: what EUC-JP looks like when misread as CP932
    return score


# An RFC 2047 encoded word; a language tag (RFC 2231, "charset*lang") is dropped.
_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([BbQq])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def _word_bytes(encoding: str, text: str) -> bytes | None:
    """The bytes of one encoded word's text; None when they cannot be read (kept literally)."""
    data = text.encode("ascii", "surrogateescape")
    try:
        if encoding in "Bb":
            return base64.b64decode(data + b"=" * (-len(data) % 4))
        return binascii.a2b_qp(data, header=True)
    except (binascii.Error, ValueError):
        return None


def _plain(text: str) -> tuple[str, bool]:
    """Header text outside encoded words: raw 8-bit or ISO-2022-JP escapes arrive surrogate-escaped."""
    if "\x1b" in text or any(0xDC80 <= ord(c) <= 0xDCFF for c in text):
        return decode_bytes_checked(text.encode("utf-8", "surrogateescape"), None)
    return text, False


class _Words:
    """Decoded header pieces; consecutive encoded words of one charset are decoded together, so a
    character split over two words (RFC 2047 6.2 allows no such thing, mailers do it) survives."""

    def __init__(self):
        self.pieces: list[str] = []
        self.charset: str | None = None
        self.data = bytearray()
        self.errors = False

    def add_text(self, text: str) -> None:
        self.flush()
        decoded, bad = _plain(text)
        self.pieces.append(decoded)
        self.errors |= bad

    def add_word(self, charset: str, data: bytes) -> None:
        if charset != self.charset:
            self.flush()
        self.charset = charset
        self.data += data

    def flush(self) -> None:
        if self.charset is not None:
            decoded, bad = decode_bytes_checked(bytes(self.data), self.charset)
            self.pieces.append(decoded)
            self.errors |= bad
        self.charset, self.data = None, bytearray()


def decode_header_checked(value: object) -> tuple[str, bool]:
    """An RFC 2047 header value as text, and whether bytes had to be replaced.

    Linear in the length of the value (email.header.decode_header is quadratic in the number of
    encoded words). White space between adjacent encoded words is dropped (RFC 2047 6.2); all
    other text is kept as written: no prefix, tag or bracket is touched. Line breaks that survive
    unfolding (inside an encoded word) become spaces, so a value stays one line.
    """
    if value is None:
        return "", False
    text = _FOLD.sub("", value if isinstance(value, str) else str(value))
    words = _Words()
    pos = 0
    for match in _ENCODED_WORD.finditer(text):
        gap = text[pos:match.start()]
        data = _word_bytes(match.group(2), match.group(3))
        if data is None:  # not decodable: the word stays as it was written
            words.add_text(text[pos:match.end()])
            words.errors = True
        else:
            if gap and not (words.charset is not None and gap.isspace()):
                words.add_text(gap)
            words.add_word(match.group(1).lower(), data)
        pos = match.end()
    if pos < len(text):
        words.add_text(text[pos:])
    words.flush()
    return re.sub(r"[\r\n]+[ \t]*", " ", "".join(words.pieces)).strip(), words.errors


def decode_header_value(value: object) -> str:
    """Decode an RFC 2047 header (encoded words in any Japanese charset, or raw 8-bit)."""
    return decode_header_checked(value)[0]
