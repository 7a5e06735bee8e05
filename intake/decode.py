"""Decode Japanese mail text the way Japanese mailers actually write it.

Python's codecs are strict where mailers are not: "Shift_JIS" labels usually mean Windows-31J
(CP932, with ①, ～, ㈱, 髙), and ISO-2022-JP from Windows carries the same NEC/IBM extensions
that the strict iso2022_jp codec rejects. We decode ISO-2022-JP by re-encoding its JIS pairs as
CP932 bytes, which is what Microsoft's CP50220 does.
"""

from __future__ import annotations

import re
from email.header import decode_header

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


def iso2022jp_to_cp932_bytes(data: bytes) -> bytes:
    """Translate ISO-2022-JP (with Windows extensions) into CP932 bytes."""
    out = bytearray()
    mode = "ascii"
    pos = 0
    for match in _ISO2022_SEQ.finditer(data):
        out += _convert_run(data[pos:match.start()], mode)
        seq = match.group(1)
        mode = "kanji" if seq.startswith(b"$") else ("kana" if seq == b"(I" else "ascii")
        pos = match.end()
    out += _convert_run(data[pos:], mode)
    return bytes(out)


def _convert_run(run: bytes, mode: str) -> bytes:
    if mode == "ascii":
        return run
    if mode == "kana":
        return bytes(b + 0x80 if 0x21 <= b <= 0x5F else b for b in run)
    out = bytearray()
    i = 0
    while i < len(run):
        b = run[i]
        if b in (0x0A, 0x0D) or i + 1 >= len(run):
            out.append(b)  # a line break inside a kanji run: lenient mailers do this
            i += 1
            continue
        out += _jis_pair_to_sjis(b, run[i + 1])
        i += 2
    return bytes(out)


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode a text part. Unknown or missing charsets are detected, never guessed as ASCII."""
    codec = normalize_charset(charset)
    if codec == "iso-2022-jp" or (codec in (None, "utf-8") and _ESC + b"$" in data):
        return iso2022jp_to_cp932_bytes(data).decode("cp932", errors="replace")
    if codec:
        try:
            return data.decode(codec)
        except LookupError:
            pass  # an unknown label: fall through to detection
        except UnicodeDecodeError:
            if codec not in ("utf-8", "cp932", "euc_jis_2004"):
                return data.decode(codec, errors="replace")
    return _detect(data)


def _detect(data: bytes) -> str:
    try:
        return data.decode("utf-8")
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
        return data.decode("utf-8", errors="replace")
    return max(readings, key=_japanese_score)


def _japanese_score(text: str) -> int:
    score = 0
    for ch in text:
        code = ord(ch)
        if 0x3040 <= code <= 0x30FF or 0x4E00 <= code <= 0x9FFF or 0x3000 <= code <= 0x303F:
            score += 2
        elif 0xFF61 <= code <= 0xFF9F:
            score -= 1  # half-width katakana: what EUC-JP looks like when misread as CP932
    return score


def decode_header_value(value: object) -> str:
    """Decode an RFC 2047 header (encoded words in any Japanese charset, or raw 8-bit)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    parts = []
    for chunk, charset in decode_header(value):
        if isinstance(chunk, str):
            # No encoded words: raw 8-bit or ISO-2022-JP escapes arrive surrogate-escaped.
            if "\x1b" in chunk or any(0xDC80 <= ord(c) <= 0xDCFF for c in chunk):
                chunk = decode_bytes(chunk.encode("utf-8", "surrogateescape"), None)
            parts.append(chunk)
        else:
            parts.append(decode_bytes(chunk, charset))
    text = "".join(parts)
    return re.sub(r"[\r\n]+[ \t]*", " ", text).strip()
