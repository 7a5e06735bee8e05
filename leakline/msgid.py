"""Message-IDs that carry a secret, so that a reply to one is a capability.

Every Message-ID leakline sends is `<D.T.leakline@domain>` (base32): D is an HMAC of what the message is
(case, step, recipients) under the installation's key, so a step retried after a crash gets the
same id and the outbox sends it once, while nobody without the key can compute it; T is an HMAC
of D, so any id can be checked as ours without knowing what it was for. Two installations have
different keys and never produce the same id. The key is created once per installation and
kept by the store (`Store.message_id_key()`); it is never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

TAG = "leakline"
_ID = re.compile(r"^<([a-z2-7]{20})\.([a-z2-7]{13})\." + TAG + r"@([^<>\s@]+)>$")
DIGEST_BYTES, CHECK_BYTES = 12, 8  # 96 bits nobody can guess, 64 bits that say "ours"


class MessageIds:
    def __init__(self, key: bytes, domain: str):
        if len(key) < 16:
            raise ValueError("a Message-ID key needs at least 16 bytes")
        self._key = key
        self.domain = domain.lower()

    def __repr__(self) -> str:  # never show the key
        return f"MessageIds(domain={self.domain!r})"

    def _mac(self, purpose: str, data: str, length: int) -> str:
        mac = hmac.new(self._key, f"{purpose}\x00{data}".encode("utf-8", "surrogatepass"), hashlib.sha256)
        return _text(mac.digest()[:length])

    def _make(self, digest: str) -> str:
        return f"<{digest}.{self._mac('check', digest, CHECK_BYTES)}.{TAG}@{self.domain}>"

    def stable(self, *parts: str) -> str:
        """The Message-ID of one step (e.g. case id, action key, recipients): the same every time."""
        return self._make(self._mac("id", "\x00".join(parts), DIGEST_BYTES))

    def fresh(self) -> str:
        """A new Message-ID, for a message that is never retried under the same id."""
        return self._make(_text(secrets.token_bytes(DIGEST_BYTES)))

    def is_ours(self, message_id: str | None) -> bool:
        """Whether `message_id` was made with this installation's key (domain not considered:
        mail.from may have changed since)."""
        match = _ID.match((message_id or "").strip())
        return bool(match) and hmac.compare_digest(
            match.group(2), self._mac("check", match.group(1), CHECK_BYTES))


def _text(data: bytes) -> str:
    """Lower-case base32, no padding: short enough that the Message-ID header is not folded."""
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()
