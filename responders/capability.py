"""What a reply may do: acknowledge an escalation, or change a case's facts.

A reply is a capability only when it answers a Message-ID we signed (leakline.msgid) and sent to
that very sender, and the sender is verified internal (intake.trust). Everything else that
references a case is stored on it and changes nothing.
- acknowledge: a manager, replying to an escalation or reminder that was sent to them;
- change facts: the reporter, or another verified internal sender, replying to a guidance or
  ack that was sent to them (not a manager: their word goes through the CLI).
"""

from __future__ import annotations

from leakline.config import Config
from leakline.msgid import MessageIds

ESCALATION_KINDS = ("escalation", "reminder")
FACT_FORM_KINDS = ("guidance", "ack")


def answered(case: dict, message: dict, ids: MessageIds, kinds: tuple[str, ...]) -> list[dict]:
    """Our outgoing messages of `kinds` that `message` replies to (In-Reply-To or References),
    that carry our signature and were sent to its sender."""
    thread = {i for i in [message.get("in_reply_to"), *(message.get("references") or [])] if i}
    sender = (message.get("from") or "").lower()
    return [m for m in case.get("messages") or []
            if m.get("direction") == "out" and m.get("kind") in kinds
            and m.get("message_id") in thread and ids.is_ours(m.get("message_id"))
            and sender in [t.lower() for t in m.get("to") or []]]


def may_acknowledge(case: dict, message: dict, ids: MessageIds, config: Config) -> str | None:
    """None if `message` acknowledges the case; else why not (for the audit trail)."""
    sender = message.get("from") or ""
    if config.manager(sender) is None:
        return f"{sender or 'the sender'} is not a manager"
    if not (message.get("trust") or {}).get("internal"):
        return f"{sender} is not verified internal"
    if not answered(case, message, ids, ESCALATION_KINDS):
        return f"not a reply to an escalation of this case sent to {sender}"
    return None


def may_change_facts(case: dict, message: dict, ids: MessageIds, config: Config) -> str | None:
    """None if the fact form in `message` may change the case; else why not."""
    sender = message.get("from") or ""
    if not (message.get("trust") or {}).get("internal"):
        return f"{sender or 'the sender'} is not verified internal"
    if config.manager(sender) is not None:
        return f"{sender} is a manager: facts from managers go through `leakline cases assess`"
    if not answered(case, message, ids, FACT_FORM_KINDS):
        return f"not a reply to a message of this case sent to {sender}"
    return None
