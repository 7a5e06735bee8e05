"""Follow-ups: a short answer to each, and news of a closed case for the privacy officers.

The answer says what was recorded, or that a person will review it; who gets which (or none) is
responders.replies' table. Each is once per message: markers in case["sent"] survive the
re-processing of a message, and its Message-ID is stable, so the outbox keeps one copy.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from leakline.intake.request import Request
from leakline.intake.trust import Trust
from leakline.listing import mark_updated
from leakline.delivery.compose import ComposeError
from leakline.responders.duties import alert, officers_or_managers
from leakline.responders.factform import strip_quoted
from leakline.responders.guidance import render_ack, render_receipt
from leakline.responders.replies import ANSWERED, ANSWERED_TEXT, Ask, followup_answer, own_text_digest

CLOSED_REASON = "follow-up on a closed case"


def _suppressed(message: dict, held: str | None, detail: str) -> dict:
    return {"action": "reply_suppressed", "details": {"message_id": message.get("message_id"),
                                                      "held": held, "reasons": [detail]}}


def answer(responder, case: dict, message: dict, request: Request,
           recorded: list[str]) -> list[dict]:
    """The short answer to one follow-up: `recorded` are the fact keys it changed ([] when
    nothing was recognised or taken: then "a person in charge will review it")."""
    marker = f"answer:{message['key']}"
    if marker in case["sent"]:
        return []
    now = responder.now()
    case["sent"][marker] = now.isoformat()
    own = strip_quoted((message.get("text") or "")[:responder.analysed_chars])
    decision = followup_answer(Ask(case, message, Trust.from_dict(message.get("trust")),
                                   request.guards, responder.config, responder.ledger(), now, own,
                                   tuple(recorded)))
    if decision.kind is None:
        return [_suppressed(message, decision.held, decision.detail)]
    org = responder.config.organization
    sender = message["from"]
    if decision.kind == "ack":
        rendered = render_ack(case, language=responder.language(case, message), org_name=org.name,
                              changed=recorded, contact=org.contact, templates=org.templates_dir)
    else:
        rendered = render_receipt(language=responder.language(case, message), org_name=org.name,
                                  contact=org.contact, templates=org.templates_dir)
    try:
        event = responder.mailer.send(case, kind=decision.kind, to=[sender], rendered=rendered,
                                      step=f"{decision.kind}:{message['key']}", reply_to=message)
    except ComposeError as exc:  # an address we cannot write: no answer, the case goes on
        return [_suppressed(message, "address", str(exc))]
    if decision.kind == "receipt":
        responder.ledger().note("receipt", sender, case["id"], now)
    # Bookkeeping in case["sent"] (not case data): what was answered, and its words (repeats).
    case["sent"][f"{ANSWERED}{message['key']}"] = now.isoformat()
    case["sent"][f"{ANSWERED_TEXT}{sender.lower()}:{own_text_digest(own)}"] = now.isoformat()
    return [event]


def closed_notice(responder, case: dict, message: dict) -> list[dict]:
    """Mail on a closed case: the case is marked updated, and the privacy officers are told (one
    mail per case per reply window; each message is on the audit trail)."""
    if case.get("status") != "closed":
        return []
    marker = f"closed-followup:{message['key']}"
    if marker in case["sent"]:
        return []
    now = responder.now()
    case["sent"][marker] = now.isoformat()
    mark_updated(case, CLOSED_REASON, now.isoformat())
    event = {"action": "marked_updated", "actor": "system",
             "details": {"reason": CLOSED_REASON, "message_id": message.get("message_id"),
                         "from": message.get("from")}}
    last = case["sent"].get("closed-alert")
    window = timedelta(minutes=responder.config.escalation.reply_window_minutes)
    if last and now - datetime.fromisoformat(last) < window:
        event["details"]["alerted_at"] = last  # told already: the marker and this event say more
        return [event]
    case["sent"]["closed-alert"] = now.isoformat()
    return [event] + alert(responder.mailer, case, responder.config, now, stage="closed",
                           key=f"closed:{message['key']}", notes=[], message=message,
                           recipients=officers_or_managers(case, responder.config))
