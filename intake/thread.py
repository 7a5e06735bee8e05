"""Which case a message belongs to: a case id in the subject, or the reply headers; a bounce
that names no Message-ID of ours, by the recipient of our latest mail to the address that failed."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime, timedelta

# Reply and forward prefixes as Japanese and English mailers write them, repeated or numbered.
_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|tr|返信|転送|回答)\s*(?:\[\d+\]|\(\d+\)|\d+)?\s*[:：>＞]\s*)+",
    re.IGNORECASE,
)
# Hyphens as IMEs and word processors type them; NFKC leaves these alone.
_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−"})


def strip_reply_prefixes(subject: str) -> str:
    return _PREFIX.sub("", subject).strip()


def _pattern(prefix: str) -> re.Pattern:
    # A case id as staff write it: [INC-2026-0001], 【INC-2026-0001】, (INC-2026-0001), （…） or
    # bare, anywhere in the subject, in any case. Not inside a longer token (XINC-2026-0001,
    # INC-2026-0001-2, INC-2026-00012a): only non-ASCII-word characters may touch it, so
    # 「INC-2026-0001の件」 is found. Brackets need no rule of their own: they are not word characters.
    return re.compile(rf"(?<![A-Za-z0-9_\-]){re.escape(prefix)}\s?-\s?(\d{{4}})\s?-\s?(\d{{4,9}})"
                      rf"(?!-?[A-Za-z0-9_])", re.IGNORECASE)


def case_tags(subject: str, prefix: str) -> list[str]:
    """Case ids named in `subject`, canonical (`INC-2026-0001`), first mention first, each once.

    Full-width letters, digits and brackets are read as their ASCII forms. Whether the case
    exists is the caller's question: an id of no case threads nothing.
    """
    text = unicodedata.normalize("NFKC", subject or "").translate(_DASHES)
    found = [f"{prefix}-{year}-{int(seq):04d}" for year, seq in _pattern(prefix).findall(text)]
    return list(dict.fromkeys(found))


# A bounce may come days after the mail (a delayed DSN gives up after about five).
MAILED_WINDOW = timedelta(days=7)


def note_mailed(store, address: str, case_id: str, message_id: str, now: datetime) -> None:
    """Our latest mail to `address` (a message key `mailed:<address>`): for a bounce that names
    no Message-ID of ours, only the address that failed (Domino, AOL, au)."""
    store.put_key(f"mailed:{address.lower()}", json.dumps([now.isoformat(), case_id, message_id]))


def mailed_case(store, recipients, now: datetime) -> str | None:
    """The case of our latest mail, within MAILED_WINDOW, to any of `recipients`."""
    latest: tuple[datetime, str] | None = None
    for address in recipients:
        try:
            at, case_id, _ = json.loads(store.case_for_key(f"mailed:{address.lower()}") or "null")
            when = datetime.fromisoformat(at)
        except (TypeError, ValueError):
            continue
        if timedelta(0) <= now - when < MAILED_WINDOW and (latest is None or when > latest[0]):
            latest = (when, case_id)
    return latest[1] if latest else None
