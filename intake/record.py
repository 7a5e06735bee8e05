"""What is kept of a message in its case: the identity a duplicate shares, the caps on what
outsiders add, text that can be stored whatever the headers carried."""

from __future__ import annotations

import hashlib

from leakline.intake.parse import ParsedMessage
from leakline.intake.trust import Trust

MAX_UNTRUSTED_TEXT = 100_000  # characters of a follow-up from a sender not verified internal


def same_key(parsed: ParsedMessage, raw: bytes, body: str) -> str:
    """The identity a resend keeps: Message-ID, sender and body (else the legacy content key)."""
    if not parsed.message_id:
        return parsed.content_key(raw)
    triple = "\x00".join((parsed.message_id, parsed.from_addr, body))
    return "same:" + hashlib.sha256(triple.encode("utf-8", "surrogatepass")).hexdigest()


def same_message(message: dict, parsed: ParsedMessage, sha: str, body: str, same: str) -> bool:
    if message.get("sha256") == sha and message.get("direction", "in") == "in":
        return True
    if not parsed.message_id:
        return message.get("key") == same  # no Message-ID: sender, subject, date and body agree
    if message.get("message_id") != parsed.message_id or message.get("from") != parsed.from_addr:
        return False
    if message.get("body_sha256"):
        return message["body_sha256"] == body
    return message.get("direction", "in") == "in" and message.get("text") == parsed.text


def cap_untrusted(message: dict, trust: Trust) -> None:
    """A follow-up from a sender not verified internal: its text capped in the case."""
    if trust.internal:
        return
    budget = MAX_UNTRUSTED_TEXT
    if len(message["text"]) > budget:
        message["text"], message["text_truncated"] = message["text"][:budget], True
    budget -= len(message["text"])
    kept = []
    for fwd in message["forwarded"]:
        if budget <= 0:
            message["text_truncated"] = True
            break
        kept.append(dict(fwd, text=(fwd.get("text") or "")[:budget], forwarded=[]))
        budget -= len(kept[-1]["text"])
    message["forwarded"] = kept


def storable(value):
    """Header text as the parser leaves 8-bit bytes (surrogates) read as UTF-8, so it can be
    saved (JSON); what is not UTF-8 becomes U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if isinstance(value, list):
        return [storable(v) for v in value]
    if isinstance(value, dict):
        return {k: storable(v) for k, v in value.items()}
    return value
