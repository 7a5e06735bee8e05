"""The language of a reply to the reporter: the organisation's, unless the report is plainly in the other."""

from __future__ import annotations

import re

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# A few English words are not a report in English: "PC", "USB", an address or a product name
# appear in Japanese reports too. Below these sizes the organisation's language stands.
MIN_ENGLISH_WORDS = 12
MIN_JAPANESE_CHARS = 10
# One Japanese character carries about as much as two or three Latin letters.
JAPANESE_WEIGHT = 2.5


def reply_language(text: str, org_language: str) -> str:
    """'ja' or 'en': `org_language`, switched only when `text` is plainly in the other language.

    Pass the subject and the reporter's own words (quoted text stripped, see factform.strip_quoted).
    """
    japanese = len(_JAPANESE.findall(text))
    words = _LATIN_WORD.findall(text)
    if org_language == "ja":
        return "en" if japanese == 0 and len(words) >= MIN_ENGLISH_WORDS else "ja"
    latin_chars = sum(len(w) for w in words)
    mostly_japanese = japanese >= MIN_JAPANESE_CHARS and japanese * JAPANESE_WEIGHT > latin_chars
    return "ja" if mostly_japanese else org_language
