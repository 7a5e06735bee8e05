"""Which case a message belongs to: the case tag in the subject, or the reply headers."""

from __future__ import annotations

import re

# Reply and forward prefixes as Japanese and English mailers write them, repeated or numbered.
_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|tr|返信|転送|回答)\s*(?:\[\d+\]|\(\d+\)|\d+)?\s*[:：>＞]\s*)+",
    re.IGNORECASE,
)


def strip_reply_prefixes(subject: str) -> str:
    return _PREFIX.sub("", subject).strip()


def case_tags(subject: str, prefix: str) -> list[str]:
    """Case ids in `[PREFIX-YYYY-NNNN]` tags anywhere in the subject (full-width brackets too)."""
    pattern = re.compile(rf"[\[［]\s*{re.escape(prefix)}-(\d{{4}}-\d{{4,}})\s*[\]］]", re.IGNORECASE)
    return [f"{prefix}-{m.group(1)}" for m in pattern.finditer(subject)]
