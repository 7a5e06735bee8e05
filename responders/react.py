"""What leakline does about a message once intake stored it: the reactor in the pipeline.

New report: flag the audience, extract facts, assess, reply with guidance (or a minimal receipt
to outsiders; responders.replies decides), escalate to the managers. Follow-up: read the fact
form and answer the reporter (responders.followup), or take a manager's reply as the
acknowledgement, each only when the reply is entitled to it (responders.capability); mail on a
closed case reaches the privacy officers. Bounce: mark the delivery failed, never answer.
Machine mail: nothing.
Nothing here parses mail: intake's parse, sender identity and trust come in the IntakeResult.
Every step is idempotent (markers in case["sent"], stable Message-IDs), because a message is
reacted to again when the spool is re-processed after a crash.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.message import Message
from typing import Callable

from intake.processor import IntakeResult
from intake.record import storable
from intake.trust import Trust
from leakline import process
from leakline.config import Config
from responders import escalation as esc
from responders.alerts import render_escalation
from responders.capability import may_acknowledge, may_change_facts
from responders.compose import ComposeError
from responders.duties import alert, alert_dropped, required_ids
from responders.factform import parse_fact_form, sent_form, strip_quoted
from responders.followup import answer, closed_notice
from responders.guards import bounce_details, no_auto_reply_reasons
from responders.guidance import render_guidance, render_receipt
from responders.language import reply_language
from responders.mailer import Mailer
from responders.replies import Ask, Decision, Ledger, report_reply
from store.cases import Store

log = logging.getLogger("leakline.responders")
# What a person writes about an incident fits in far less; a 10 MB pasted log need not be
# scanned whole for counts, keywords and the language (it cost seconds of CPU per report).
ANALYSED_CHARS = 50_000


def _head(message: dict) -> str:
    return (message.get("text") or "")[:ANALYSED_CHARS]
# Facts that travel with a form field: the reporter is told of the field they filled in.
FORM_FIELD = {"persons_estimated": "persons", "persons_over": "persons", "persons_max": "persons",
              "client": "entrusted"}


class Responder:
    analysed_chars = ANALYSED_CHARS

    def __init__(self, store: Store, mailer: Mailer, config: Config, now: Callable[[], datetime]):
        self.store = store
        self.mailer = mailer
        self.config = config
        self.now = now

    def ledger(self) -> Ledger:
        """What went to each sender lately, across cases (receipts, the guidance loop guard)."""
        return Ledger(self.store, timedelta(minutes=self.config.escalation.reply_window_minutes))

    def __call__(self, result: IntakeResult) -> None:
        if result.case is None or result.message.get("throttled"):
            return  # machine mail kept apart, or a follow-up past the limit: kept, not acted on
        msg = result.parsed.msg if result.parsed.msg is not None else Message()
        mail_from = result.entry.envelope.get("mail_from") or ""
        key = result.message["key"]

        def react(case: dict) -> list[dict]:
            message = next((m for m in case["messages"] if m.get("key") == key), None)
            if message is None or message.get("direction") == "out":
                return []  # one of ours come back (a forward, a loop): recorded already, not news
            kind = message.get("kind")
            if kind == "bounce":
                return storable(self._bounce(case, msg))
            if kind == "machine":
                return []
            if kind == "report":
                return storable(self._report(case, message, msg, mail_from, result.extracted))
            return storable(self._follow_up(case, message, msg, mail_from))

        self.store.update(result.case["id"], react)

    # -- new report -----------------------------------------------------------------------
    def _report(self, case: dict, message: dict, msg: Message, mail_from: str,
                extracted=None) -> list[dict]:
        audience = Trust.from_dict(message.get("trust"))
        if "assessed" in case.get("sent", {}):
            events: list[dict] = []
        else:
            events = self._classify(case, audience) + self._assess(case, message, extracted)
        events += self._reply_to_reporter(case, message, msg, mail_from, audience)
        events += self.escalate(case)
        return events

    def _classify(self, case: dict, audience: Trust) -> list[dict]:
        new_flags = [f for f in audience.flags if f not in case["flags"]]
        case["flags"].extend(new_flags)
        if not new_flags:
            return []
        return [{"action": "flagged", "details": {"flags": new_flags, "reasons": list(audience.reasons)}}]

    def _assess(self, case: dict, message: dict, extracted=None) -> list[dict]:
        """Facts from the report's text (as intake extracted them before the lock, when it did
        from this very text), then the assessment."""
        now = self.now()
        text, subject = _head(message), message.get("subject") or ""
        found = extracted.extraction if extracted is not None and \
            extracted.matches(subject, text, case.get("received_at")) else None
        updated, changes = process.apply_extraction(case, text, subject, now.isoformat(), found)
        updated, notes = process.reassess(updated, org=self.config.organization,
                                          tz=self.config.service.tz, now=now)
        case.update(updated)
        case["sent"]["assessed"] = now.isoformat()
        return [
            {"action": "facts_changed", "details": {"source": "extracted",
                                                    "changes": [c.to_dict() for c in changes]}},
            {"action": "assessed", "details": {"assessment": case["assessment"], "notes": notes}},
        ]

    def _reply_to_reporter(self, case: dict, message: dict, msg: Message,
                           mail_from: str, audience: Trust) -> list[dict]:
        """Guidance (or a receipt) for the report that opened the case, once; what was held back
        and why is kept in case["reporter_reply"], for the escalation to say."""
        marker = f"reply:{message['key']}"
        if marker in case["sent"]:
            return []
        now = self.now()
        case["sent"][marker] = now.isoformat()
        decision = report_reply(Ask(case, message, audience, msg, mail_from, self.config,
                                    self.ledger(), now))
        if decision.kind is not None:
            try:
                event = self._send_reply(case, message, decision.kind, marker)
            except ComposeError as exc:  # an address we cannot write: no reply, the case goes on
                decision = Decision(None, "address", str(exc))
        case["reporter_reply"] = decision.record()
        if decision.kind is None:
            return [{"action": "reply_suppressed",
                     "details": {"held": decision.held, "reasons": [decision.detail]}}]
        # After the queueing: should the case save fail, the message is reacted to again and
        # this same reply (the outbox keeps one copy) is still allowed for this case.
        self.ledger().note(decision.kind, message["from"], case["id"], now)
        return [event]

    def _send_reply(self, case: dict, message: dict, kind: str, step: str) -> dict:
        language = self.language(case, message)
        org = self.config.organization
        rendered = (render_guidance(case, language=language, org_name=org.name, tz=self.config.service.tz,
                                    recipients=esc.initial_recipients(case, self.config),
                                    contact=org.contact, templates=org.templates_dir)
                    if kind == "guidance" else
                    render_receipt(language=language, org_name=org.name, contact=org.contact,
                                   templates=org.templates_dir))
        return self.mailer.send(case, kind=kind, to=[message["from"]], rendered=rendered,
                                step=step, reply_to=message)

    def language(self, case: dict, message: dict) -> str:
        """The reporter's language: that of their report, with this message's own words; a short
        "Persons: 40" answer alone would not tell, and the ack must follow the guidance."""
        report = next((m for m in case["messages"] if m.get("kind") == "report"), message)
        words = [report.get("subject") or "", strip_quoted(_head(report))]
        if message is not report:
            words.append(strip_quoted(_head(message)))
        return reply_language("\n".join(words), self.config.organization.language)

    # -- escalation (also called by the scheduler) ------------------------------------------
    def escalate(self, case: dict) -> list[dict]:
        if "bounce" in case.get("flags", []):
            return []  # a bounce we could not match to a case: kept, shown, not escalated
        now = self.now()
        events = []
        for action in esc.due_escalations(case, self.config, now):
            notified = esc.notified_so_far(case, self.config)
            notified += [r for r in action.recipients if r not in notified]
            for recipient in action.recipients:
                rendered = render_escalation(case, self.config, action=action, recipient=recipient,
                                             notified=notified, now=now)
                events.append(self.mailer.send(case, kind="escalation" if action.stage != "reminder"
                                               else "reminder", to=[recipient.manager.email],
                                               rendered=rendered, step=action.key))
            case["sent"][action.key] = now.isoformat()
        return events

    # -- follow-ups ---------------------------------------------------------------------------
    def _follow_up(self, case: dict, message: dict, msg: Message, mail_from: str) -> list[dict]:
        if self.config.manager(message.get("from") or ""):
            return self._manager_reply(case, message, msg, mail_from) + closed_notice(self, case, message)
        events, recorded = self._read_fact_form(case, message)
        events += closed_notice(self, case, message)
        return events + answer(self, case, message, msg, mail_from, recorded)

    def _manager_reply(self, case: dict, message: dict, msg: Message, mail_from: str) -> list[dict]:
        refused = may_acknowledge(case, message, self.mailer.ids(), self.config)
        if refused is None and not self._machine_written(msg, mail_from):
            return self._acknowledge(case, message["from"], "mail")
        if refused and (message.get("in_reply_to") or message.get("references")):
            # A reply that would have been an acknowledgement, were it entitled: on record.
            return [{"action": "ack_not_taken", "actor": message["from"],
                     "details": {"message_id": message.get("message_id"), "reason": refused}}]
        return []

    def _machine_written(self, msg: Message, mail_from: str) -> list[str]:
        """Why a message was written by a program (an out-of-office reply, a bounce): such a reply
        from a manager is no acknowledgement. X-Auto-Response-Suppress only asks us not to answer."""
        return [r for r in no_auto_reply_reasons(msg, mail_from, self.config)
                if not r.startswith("auto_response_suppress:")]

    def acknowledge(self, case: dict, by: str, via: str) -> list[dict]:
        return self._acknowledge(case, by, via)

    def _acknowledge(self, case: dict, by: str, via: str) -> list[dict]:
        if any(a["by"] == by for a in case["acks"]):
            return []
        now = self.now()
        case["acks"].append({"by": by, "at": now.isoformat(), "via": via})
        events = [{"action": "acknowledged", "actor": by, "details": {"via": via}}]
        phase = next((p for p in case.get("phases", []) if p["id"] == "report"), None)
        if phase and phase["status"] == "open":
            case.update(process.close(case, "report", by=by, at=now.isoformat(),
                                      note=f"acknowledged ({via})", org=self.config.organization,
                                      tz=self.config.service.tz, now=now))
            events.append({"action": "phase_closed", "actor": by, "details": {"phase": "report"}})
        return events

    def _read_fact_form(self, case: dict, message: dict) -> tuple[list[dict], list[str]]:
        """The facts a follow-up's form changed, if it may change them: the audit events and the
        form fields that changed ([] when nothing was recognised, taken or new)."""
        now = self.now()
        values = parse_fact_form(_head(message), tz=self.config.service.tz,
                                 today=now.astimezone(self.config.service.tz).date(),
                                 known=process.current(case.get("facts") or {}),
                                 sent=sent_form(case, message))
        if not values:
            return [], []
        refused = may_change_facts(case, message, self.mailer.ids(), self.config)
        if refused:  # stored on the case, read by no rule: say so in the audit trail
            return [{"action": "facts_not_taken", "actor": message.get("from") or "unknown",
                     "details": {"message_id": message.get("message_id"), "reason": refused,
                                 "fields": sorted(values)}}], []
        before = case.get("assessment")
        updated, changes = process.apply_facts(case, values, "reply", by=message["from"],
                                               at=now.isoformat())
        if not changes:
            return [], []
        updated, notes = process.reassess(updated, org=self.config.organization,
                                          tz=self.config.service.tz, now=now)
        case.update(updated)
        events = [{"action": "facts_changed", "actor": message["from"],
                   "details": {"source": "reply", "changes": [c.to_dict() for c in changes]}},
                  {"action": "assessed", "details": {"assessment": case["assessment"], "notes": notes}}]
        events += self.alert_no_longer_required(case, before, changes, message["from"],
                                                step=message["key"])
        events += self.alert_newly_required(case, notes)
        return events, sorted({FORM_FIELD.get(c.field, c.field) for c in changes})

    def alert_newly_required(self, case: dict, notes: list[str]) -> list[dict]:
        """A fact change made a report newly required: tell the privacy officers at once."""
        if not notes:
            return []
        return alert(self.mailer, case, self.config, self.now(), stage="required",
                     key="required:" + "|".join(notes), notes=notes, duties=required_ids(notes))

    def alert_no_longer_required(self, case: dict, before: dict | None, changes: list, by: str,
                                 step: str) -> list[dict]:
        """A fact change made a required report no longer required: tell the privacy officers
        at once, who changed what (mail and audit). `before` is the assessment before it."""
        return alert_dropped(self.mailer, case, before, changes, self.config, self.now, by, step)

    # -- bounces --------------------------------------------------------------------------------
    def _bounce(self, case: dict, msg: Message) -> list[dict]:
        details = bounce_details(msg)
        original = details.get("original_message_id")
        for message in case["messages"]:
            if message.get("direction") == "out" and message.get("message_id") == original:
                if message.get("status") == "bounced":
                    return []
                message["status"] = "bounced"
                message["error"] = storable(str(details.get("diagnostic") or details.get("status") or ""))[:500]
        if "delivery_failed" not in case["flags"]:
            case["flags"].append("delivery_failed")
        return [{"action": "mail_bounced", "details": {k: details.get(k) for k in
                ("original_message_id", "final_recipient", "status", "diagnostic")}}]

