"""What leakline does about a message once intake stored it: the reactor in the pipeline.

What a message is, and so which of these is done, is decided once by leakline.disposition's
table, in intake; here each action of the table is carried out:
- report: flag the audience, assess (assess_report), reply with guidance or a minimal receipt
  (responders.replies decides), escalate to the managers;
- followup: read the fact form (its facts taken only when the table said the reply may change
  them) and answer the reporter (responders.followup);
- acknowledge: a manager's entitled reply is the acknowledgement (leakline.casework);
  refuse_ack: why it was not is put on record;
- bounce: a permanent failure marks the delivery failed, a delay is recorded; never answered;
- closed: mail on a closed case reaches the privacy officers; keep, throttle: nothing.
Nothing here parses mail or judges a sender: the IntakeResult brings the request (parse, trust,
guard verdicts, bounce) and the disposition. Every step is idempotent (markers in case["sent"],
stable Message-IDs), because a message is reacted to again when the spool is re-processed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

from leakline.intake.processor import IntakeResult
from leakline.intake.record import storable
from leakline.intake.request import Request
from leakline.intake.trust import Trust
from leakline import casework, process
from leakline.config import Config
from leakline.disposition import QUIET_ACTIONS, Disposition
from leakline.responders import escalation as esc
from leakline.responders.alerts import render_escalation
from leakline.delivery.compose import ComposeError
from leakline.responders.factform import parse_fact_form, sent_form, strip_quoted
from leakline.responders.followup import answer, closed_notice
from leakline.responders.guidance import render_guidance, render_receipt
from leakline.responders.language import reply_language
from leakline.delivery.mailer import Mailer
from leakline.responders.replies import Ask, Decision, Ledger, report_reply
from leakline.store.cases import Store

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
        disposition = result.disposition
        if result.case is None or disposition is None or \
                (disposition.action in QUIET_ACTIONS and not disposition.also):
            return  # kept (machine mail, our own, a follow-up past the limit): not acted on
        key = result.message["key"]

        def react(case: dict) -> list[dict]:
            message = next((m for m in case["messages"] if m.get("key") == key), None)
            if message is None:
                return []
            events = []
            for action in (disposition.action, *disposition.also):
                events += self.act(action, case, message, result.request, disposition)
            return storable(events)

        self.store.update(result.case["id"], react)

    def act(self, action: str, case: dict, message: dict, request: Request,
            disposition: Disposition) -> list[dict]:
        """Carry out one action of the table on the case (under the lock); its audit events."""
        if action == "report":
            return self._report(case, message, request)
        if action == "bounce":
            return self._bounce(case, message, request)
        if action == "acknowledge":
            return self.acknowledge(case, message["from"], "mail")
        if action == "refuse_ack":
            return self._ack_refused(message, disposition.reason)
        if action in ("followup", "followup_no_facts"):
            refused = disposition.reason if action == "followup_no_facts" else None
            events, recorded = self._read_fact_form(case, message, refused)
            return events + answer(self, case, message, request, recorded)
        if action == "closed":
            return closed_notice(self, case, message)
        return []  # keep, throttle

    # -- new report -----------------------------------------------------------------------
    def _report(self, case: dict, message: dict, request: Request) -> list[dict]:
        audience = Trust.from_dict(message.get("trust"))
        if "assessed" in case.get("sent", {}):
            events: list[dict] = []
        else:
            events = self._classify(case, audience) + self.assess_report(case, message,
                                                                         request.extracted)
        events += self._reply_to_reporter(case, message, request, audience)
        events += self.escalate(case)
        return events

    def _classify(self, case: dict, audience: Trust) -> list[dict]:
        new_flags = [f for f in audience.flags if f not in case["flags"]]
        case["flags"].extend(new_flags)
        if not new_flags:
            return []
        return [{"action": "flagged", "details": {"flags": new_flags, "reasons": list(audience.reasons)}}]

    def assess_report(self, case: dict, message: dict, extracted=None) -> list[dict]:
        """Extract the facts of a new report and assess them: the one place a new report is
        assessed (as intake extracted them before the lock, when it did from this very text)."""
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

    def _reply_to_reporter(self, case: dict, message: dict, request: Request,
                           audience: Trust) -> list[dict]:
        """Guidance (or a receipt) for the report that opened the case, once; what was held back
        and why is kept in case["reporter_reply"], for the escalation to say."""
        marker = f"reply:{message['key']}"
        if marker in case["sent"]:
            return []
        now = self.now()
        case["sent"][marker] = now.isoformat()
        decision = report_reply(Ask(case, message, audience, request.guards, self.config,
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
    def acknowledge(self, case: dict, by: str, via: str) -> list[dict]:
        """leakline.casework.acknowledge at this responder's clock and organisation."""
        return casework.acknowledge(case, by, via, now=self.now(), config=self.config)

    def _ack_refused(self, message: dict, reason: str) -> list[dict]:
        """A manager's reply that would have been an acknowledgement, were it entitled: on record."""
        if not (message.get("in_reply_to") or message.get("references")):
            return []
        return [{"action": "ack_not_taken", "actor": message["from"],
                 "details": {"message_id": message.get("message_id"), "reason": reason}}]

    def _read_fact_form(self, case: dict, message: dict,
                        refused: str | None) -> tuple[list[dict], list[str]]:
        """The facts a follow-up's form changed, unless the table `refused` them: the audit
        events and the form fields that changed ([] when nothing was recognised, taken or new)."""
        now = self.now()
        values = parse_fact_form(_head(message), tz=self.config.service.tz,
                                 today=now.astimezone(self.config.service.tz).date(),
                                 known=process.current(case.get("facts") or {}),
                                 sent=sent_form(case, message))
        if not values:
            return [], []
        if refused:  # stored on the case, read by no rule: say so in the audit trail
            return [{"action": "facts_not_taken", "actor": message.get("from") or "unknown",
                     "details": {"message_id": message.get("message_id"), "reason": refused,
                                 "fields": sorted(values)}}], []
        events, changes = casework.record_facts(case, values, "reply", by=message["from"], now=now,
                                                config=self.config, mailer=self.mailer,
                                                step=message["key"])
        if not changes:
            return [], []
        return events, sorted({FORM_FIELD.get(c.field, c.field) for c in changes})

    # -- bounces --------------------------------------------------------------------------------
    def _bounce(self, case: dict, message: dict, request: Request) -> list[dict]:
        """A permanent failure marks what bounced (by its Message-ID, else our latest mail of the
        case to the failed address) and the case delivery_failed; a delay is recorded only."""
        bounce = request.bounce
        if bounce is None:  # stored as a bounce by an older version, no longer read as one
            return []
        details = bounce.details()
        if not bounce.permanent:
            marker = f"delayed:{message['key']}"
            if marker in case["sent"]:
                return []
            case["sent"][marker] = self.now().isoformat()
            return [{"action": "mail_delayed", "details": details}]
        out = [m for m in case["messages"] if m.get("direction") == "out"]
        bounced = [m for m in out if m.get("message_id") in bounce.message_ids] or \
            [m for m in out[::-1] if set(bounce.failed) & {t.lower() for t in m.get("to") or []}][:1]
        if bounced and all(m.get("status") == "bounced" for m in bounced):
            return []
        for record in bounced:
            record["status"] = "bounced"
            record["error"] = storable(str(bounce.diagnostic or bounce.status or ""))[:500]
        if "delivery_failed" not in case["flags"]:
            case["flags"].append("delivery_failed")
        details["bounced"] = [m.get("message_id") for m in bounced]
        return [{"action": "mail_bounced", "details": details}]
