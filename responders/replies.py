"""What the reporter is answered, as one ordered table of rules: guidance, receipt, ack, or nothing.

A new case always gets its reply (guidance to a verified internal sender, a receipt to anyone
else): the window of `escalation.reply_window_minutes` is counted per case, never per sender,
for what a person writes. Only what protects others bounds it:
- receipts go to addresses nobody verified: one per sender per window, so a flood of forged
  mail cannot make us send mail to a victim (backscatter);
- a loop guard: more than GUIDANCE_BURST new cases from one sender within a window is a program
  (an auto-responder that drops our headers), not a person; the sixth case is escalated as
  usual and says that its guidance was held.
Follow-ups: one answer per message, to the reporter only (a colleague or an outsider writing on
the case is stored, not answered; an outside reporter gets at most the receipt), none to a
repeat of a follow-up already answered or to an unquoted copy of our own mail (a mail-loop
echo), at most ANSWERS_PER_CASE per case within a window.
Every rule returns the code of what it held back; the caller records it in the case
(`reporter_reply`) and the escalation says it in the organisation's language.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message

from intake.trust import Trust
from leakline.config import Config
from responders.audience import reply_kind
from responders.guards import no_auto_reply_reasons

REPORTER_KINDS = ("guidance", "receipt", "ack")  # what we send the reporter
GUIDANCE_BURST = 5  # new cases from one sender within a window that still get guidance
ANSWERS_PER_CASE = 5  # follow-up answers on one case within a window
# Why a reply was held back; templates/<lang>/labels.j2 `held` words each code.
HELD = ("no_sender", "machine", "not_internal", "window", "loop_guard", "repeat", "case_window",
        "not_reporter", "address")


@dataclass(frozen=True)
class Decision:
    """kind: the mail to send ('guidance', 'receipt', 'ack') or None; held: why the full
    reply (or any reply) was held back, a code of HELD; detail: the rule's own words (audit)."""

    kind: str | None
    held: str | None = None
    detail: str = ""

    def record(self) -> dict:
        return {"kind": self.kind, "held": self.held, "detail": self.detail}


class Ledger:
    """Per-sender memory across cases (the store's key files): receipts and guidance sent."""

    def __init__(self, store, window: timedelta):
        self.store = store
        self.window = window

    def _read(self, key: str) -> list[list[str]]:
        raw = self.store.case_for_key(key) or ""
        if raw and not raw.startswith("["):  # the old "ISO case:marker" form
            at, _, where = raw.partition(" ")
            return [[at, where.partition(":")[0]]]
        try:
            return [e for e in json.loads(raw or "[]") if isinstance(e, list) and len(e) == 2]
        except ValueError:
            return []

    def recent(self, kind: str, sender: str, now: datetime) -> list[list[str]]:
        """[[ISO time, case id], ...] of `kind` mail to `sender` within the window before `now`."""
        found = []
        for at, case_id in self._read(f"{kind}-sent:{sender.lower()}"):
            try:
                if now - datetime.fromisoformat(at) < self.window:
                    found.append([at, case_id])
            except (TypeError, ValueError):
                continue
        return found

    def note(self, kind: str, sender: str, case_id: str, now: datetime) -> None:
        entries = self.recent(kind, sender, now)
        if not any(c == case_id for _, c in entries):
            entries.append([now.isoformat(), case_id])
        self.store.put_key(f"{kind}-sent:{sender.lower()}", json.dumps(entries))


def _machine(msg: Message, mail_from: str, config: Config) -> str:
    return "; ".join(no_auto_reply_reasons(msg, mail_from, config))


def report_reply(case: dict, message: dict, trust: Trust, msg: Message, mail_from: str,
                 config: Config, ledger: Ledger, now: datetime) -> Decision:
    """The reply to the report that opened `case`, by the first rule that holds it back."""
    sender = message.get("from") or ""
    if not sender:
        return Decision(None, "no_sender", message.get("from_problem") or "no sender address")
    machine = _machine(msg, mail_from, config)
    if machine:
        return Decision(None, "machine", machine)
    kind = reply_kind(trust, config)
    if kind is None:
        return Decision(None, "not_internal", "not verified internal, and receipts are off")
    sent = ledger.recent(kind, sender, now)
    if any(c == case["id"] for _, c in sent):  # this very case, reacted to again after a crash
        return Decision(kind, None if kind == "guidance" else "not_internal")
    if kind == "receipt":
        if sent:
            return Decision(None, "window", f"a receipt went to {sender} at {sent[-1][0]}")
        return Decision("receipt", "not_internal", "not verified internal: a receipt only")
    if len(sent) >= GUIDANCE_BURST:
        return Decision(None, "loop_guard", f"{len(sent)} guidance replies to {sender} within "
                        f"{int(ledger.window.total_seconds() // 60)} minutes")
    return Decision("guidance")


def _squeezed(text: str) -> str:
    return "".join((text or "").split())


def own_text_digest(own: str) -> str:
    """What a follow-up says itself (quotes already cut, spaces folded): the same twice is an echo."""
    return hashlib.sha256(_squeezed(own).encode("utf-8", "replace")).hexdigest()


def echoes_us(case: dict, own: str) -> bool:
    """The follow-up's own words carry one of our mails to the reporter, unquoted: a program
    that echoes what it gets (a ticket system, a broken auto-responder), not a person."""
    said = _squeezed(own)
    return any(len(body) > 40 and body in said
               for body in (_squeezed(m.get("text") or "") for m in case.get("messages") or []
                            if m.get("direction") == "out" and m.get("kind") in REPORTER_KINDS))


def is_reporter(case: dict, sender: str) -> bool:
    """The case's reporter, or someone our guidance, receipt or answer went to: the people we
    answer on a case."""
    sender = sender.lower()
    if sender == (case.get("reporter") or "").lower():
        return True
    return any(m.get("direction") == "out" and m.get("kind") in REPORTER_KINDS
               and sender in [t.lower() for t in m.get("to") or []] for m in case.get("messages") or [])


def followup_answer(case: dict, message: dict, trust: Trust, msg: Message, mail_from: str,
                    config: Config, ledger: Ledger, now: datetime, own: str,
                    recorded: list[str]) -> Decision:
    """The short answer to a follow-up whose own words are `own` and that recorded the facts
    `recorded`: an 'ack' to an internal reporter, a receipt to an outside one, else nothing."""
    sender = message.get("from") or ""
    if not sender:
        return Decision(None, "no_sender", message.get("from_problem") or "no sender address")
    machine = _machine(msg, mail_from, config)
    if machine:
        return Decision(None, "machine", machine)
    if not is_reporter(case, sender):
        return Decision(None, "not_reporter", f"{sender} is not the reporter and got no mail of ours")
    kind = reply_kind(trust, config)
    if kind is None:
        return Decision(None, "not_internal", "not verified internal, and receipts are off")
    answered = case.get("answers") or []
    digest = own_text_digest(own)
    if any(a.get("digest") == digest and a.get("from") == sender.lower() for a in answered):
        return Decision(None, "repeat", "the same text as a follow-up already answered")
    if not recorded and echoes_us(case, own):
        return Decision(None, "repeat", "an unquoted copy of our own mail")
    if kind == "receipt":
        sent = ledger.recent("receipt", sender, now)
        if sent:
            return Decision(None, "window", f"a receipt went to {sender} at {sent[-1][0]}")
        return Decision("receipt", "not_internal", "not verified internal: a receipt only")
    recent = [a for a in answered if now - datetime.fromisoformat(a["at"]) < ledger.window]
    if len(recent) >= ANSWERS_PER_CASE:
        return Decision(None, "case_window", f"{len(recent)} answers on this case within "
                        f"{int(ledger.window.total_seconds() // 60)} minutes")
    return Decision("ack")
