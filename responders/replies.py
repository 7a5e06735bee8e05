"""What the reporter is answered, as ordered tables of small named rules: guidance, receipt, ack,
or nothing and why.

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
from typing import Callable

from leakline.intake.trust import Trust
from leakline.config import Config
from leakline.responders.audience import reply_kind

REPORTER_KINDS = ("guidance", "receipt", "ack")  # what we send the reporter
GUIDANCE_BURST = 5  # new cases from one sender within a window that still get guidance
ANSWERS_PER_CASE = 5  # follow-up answers on one case within a window
# Markers in case["sent"]: a follow-up answered (by its key), and the words it was answered for.
ANSWERED, ANSWERED_TEXT = "answered:", "answered-text:"
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


@dataclass(frozen=True)
class Ask:
    """Everything a reply rule may look at: the message as intake stored it, its trust and the
    loop guards' verdicts (the request's), the case, the per-sender ledger, the time; for a
    follow-up its own words (quotes cut) and the facts it recorded."""

    case: dict
    message: dict
    trust: Trust
    guards: tuple[str, ...]
    config: Config
    ledger: Ledger
    now: datetime
    own: str = ""
    recorded: tuple[str, ...] = ()

    @property
    def sender(self) -> str:
        return self.message.get("from") or ""

    @property
    def kind(self) -> str | None:
        """What the trust model allows this sender: 'guidance' (case details), 'receipt', None."""
        return reply_kind(self.trust, self.config)

    def minutes(self) -> int:
        return int(self.ledger.window.total_seconds() // 60)


Rule = Callable[[Ask], "Decision | None"]


def no_sender(ask: Ask) -> Decision | None:
    if not ask.sender:
        return Decision(None, "no_sender", ask.message.get("from_problem") or "no sender address")
    return None


def machine(ask: Ask) -> Decision | None:
    """A loop guard forbids any automatic answer (responders.guards, worked out in intake)."""
    return Decision(None, "machine", "; ".join(ask.guards)) if ask.guards else None


def nobody_outside(ask: Ask) -> Decision | None:
    if ask.kind is None:
        return Decision(None, "not_internal", "not verified internal, and receipts are off")
    return None


def same_case_again(ask: Ask) -> Decision | None:
    """This very case, reacted to again after a crash: the same reply is still allowed."""
    if any(c == ask.case["id"] for _, c in ask.ledger.recent(ask.kind, ask.sender, ask.now)):
        return Decision(ask.kind, None if ask.kind == "guidance" else "not_internal")
    return None


def receipt_window(ask: Ask) -> Decision | None:
    """An unverified address gets one receipt per window, whatever it writes (backscatter)."""
    if ask.kind != "receipt":
        return None
    sent = ask.ledger.recent("receipt", ask.sender, ask.now)
    if sent:
        return Decision(None, "window", f"a receipt went to {ask.sender} at {sent[-1][0]}")
    return Decision("receipt", "not_internal", "not verified internal: a receipt only")


def loop_guard(ask: Ask) -> Decision | None:
    sent = ask.ledger.recent("guidance", ask.sender, ask.now)
    if len(sent) >= GUIDANCE_BURST:
        return Decision(None, "loop_guard", f"{len(sent)} guidance replies to {ask.sender} "
                        f"within {ask.minutes()} minutes")
    return None


def not_the_reporter(ask: Ask) -> Decision | None:
    if not is_reporter(ask.case, ask.sender):
        return Decision(None, "not_reporter", f"{ask.sender} is not the reporter and got no mail of ours")
    return None


def repeat(ask: Ask) -> Decision | None:
    said = f"{ANSWERED_TEXT}{ask.sender.lower()}:{own_text_digest(ask.own)}"
    if said in (ask.case.get("sent") or {}):
        return Decision(None, "repeat", "the same text as a follow-up already answered")
    if not ask.recorded and echoes_us(ask.case, ask.own):
        return Decision(None, "repeat", "an unquoted copy of our own mail")
    return None


def case_window(ask: Ask) -> Decision | None:
    recent = [at for key, at in (ask.case.get("sent") or {}).items()
              if key.startswith(ANSWERED) and ask.now - datetime.fromisoformat(at) < ask.ledger.window]
    if len(recent) >= ANSWERS_PER_CASE:
        return Decision(None, "case_window", f"{len(recent)} answers on this case within "
                        f"{ask.minutes()} minutes")
    return None


# The tables: the first rule that decides, decides; past them all, the full reply.
REPORT_RULES: tuple[Rule, ...] = (no_sender, machine, nobody_outside, same_case_again,
                                  receipt_window, loop_guard)
FOLLOWUP_RULES: tuple[Rule, ...] = (no_sender, machine, not_the_reporter, nobody_outside, repeat,
                                    receipt_window, case_window)


def decide(rules: tuple[Rule, ...], ask: Ask, otherwise: Decision) -> Decision:
    for rule in rules:
        decision = rule(ask)
        if decision is not None:
            return decision
    return otherwise


def report_reply(ask: Ask) -> Decision:
    """The reply to the report that opened the case: guidance, a receipt, or nothing and why."""
    return decide(REPORT_RULES, ask, Decision("guidance"))


def followup_answer(ask: Ask) -> Decision:
    """The short answer to a follow-up: an 'ack' to an internal reporter (what was recorded, or
    that a person will review it), a receipt to an outside one, or nothing and why."""
    return decide(FOLLOWUP_RULES, ask, Decision("ack"))


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
