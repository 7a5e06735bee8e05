"""Who may see case data: what the reporter may be told, from the trust intake assessed.

The trust model itself (internal only when our domain AND verified) lives in intake.trust and is
assessed once per message, in intake; the responders read it from the message record. This
module keeps the responders' side: which reply a sender may get.
"""

from __future__ import annotations

from email.message import Message

from leakline.intake.identity import read_sender
from leakline.intake.trust import (AuthResult, Trust, assess_trust, parse_authentication_results,
                          spoof_reasons)
from leakline.config import Config

Audience = Trust  # the name the responders used before the trust model moved to intake
__all__ = ["Audience", "AuthResult", "Trust", "classify_sender", "parse_authentication_results",
           "reply_kind", "spoof_reasons"]


def classify_sender(msg: Message, config: Config, envelope: dict | None = None) -> Trust:
    """The trust of `msg`'s sender as intake assesses it (no DKIM check here); for tools and
    tests. `envelope` gives the peer: without one nothing verifies the sender."""
    return assess_trust(read_sender(msg), msg, b"", envelope or {}, config, None)


def reply_kind(audience: Trust, config: Config) -> str | None:
    """What the reporter may get: 'guidance' (case details), 'receipt' (none) or None (nothing)."""
    if audience.internal:
        return "guidance"
    return "receipt" if config.escalation.external_receipt else None
