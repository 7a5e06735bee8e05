"""A spooled message -> a case: new report, follow-up, or a duplicate we already have."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from intake.parse import ParsedMessage, parse
from intake.thread import case_tags
from leakline.config import Config
from store.cases import Store
from store.spool import SpoolEntry

log = logging.getLogger("leakline.intake")


@dataclass
class IntakeResult:
    case: dict
    message: dict
    parsed: ParsedMessage
    entry: SpoolEntry
    is_new_case: bool
    duplicate: bool


def received_at(envelope: dict, tz) -> datetime:
    value = envelope.get("received_at")
    when = datetime.fromisoformat(value) if value else datetime.now(timezone.utc)
    return when.astimezone(tz)


class Intake:
    def __init__(self, store: Store, config: Config):
        self.store = store
        self.config = config

    def process(self, entry: SpoolEntry) -> IntakeResult:
        """Store one message. Idempotent: processing the same entry again changes nothing."""
        parsed = parse(entry.raw)
        key = parsed.content_key(entry.raw)
        when = received_at(entry.envelope, self.config.service.tz)
        with self.store.lock.hold():
            case_id = self.store.case_for_key(key)
            case = self.store.get(case_id) if case_id and self.store.exists(case_id) else None
            if case is not None:
                known = next((m for m in case["messages"] if m.get("key") == key), None)
                if known is not None:
                    # A crash may have come between the case write and its index row.
                    self.store.ensure_indexed(case)
                    return IntakeResult(case, known, parsed, entry, False, duplicate=True)
            if case_id is None:
                case_id = self._thread(parsed)
                case = self.store.get(case_id) if case_id else None
            if case_id is None:
                case_id = self.store.next_case_id(when.year)
            raw_rel = self.store.put_raw(entry.raw, when.year, when.month)
            # The claim comes before the case write: a crash in between resumes into this case.
            self.store.claim_key(key, case_id)
            message = self._message(parsed, entry, key, raw_rel, when, case)
            is_new = case is None
            if is_new:
                case = new_case(case_id, parsed, message, when)
            else:
                case["messages"].append(message)
            self.store.save(case, [intake_event(message, is_new)])
        log.info("stored message %s from %s in case %s%s", parsed.message_id or key[:20],
                 parsed.from_addr or "?", case_id, " (new case)" if is_new else "")
        return IntakeResult(case, message, parsed, entry, is_new, duplicate=False)

    def _thread(self, parsed: ParsedMessage) -> str | None:
        for case_id in case_tags(parsed.subject, self.config.service.case_prefix):
            if self.store.exists(case_id):
                return case_id
        candidates = [parsed.in_reply_to, *reversed(parsed.references), parsed.original_message_id]
        for message_id in filter(None, candidates):
            case_id = self.store.case_for_key(message_id)
            if case_id and self.store.exists(case_id):
                return case_id
        return None

    def _message(self, parsed: ParsedMessage, entry: SpoolEntry, key: str, raw_rel: str,
                 when: datetime, case: dict | None) -> dict:
        return {
            "key": key,
            "message_id": parsed.message_id,
            "from": parsed.from_addr or entry.envelope.get("mail_from", ""),
            "from_name": parsed.from_name,
            "to": parsed.to,
            "subject": parsed.subject,
            "date": parsed.date,
            "received_at": when.isoformat(timespec="seconds"),
            "direction": "in",
            "kind": self._kind(parsed, case),
            "text": parsed.text,
            "html": parsed.html,
            "in_reply_to": parsed.in_reply_to,
            "references": parsed.references,
            "attachments": parsed.attachments,
            "forwarded": parsed.forwarded,
            "unparsed": parsed.unparsed,
            "raw": raw_rel,
            "sha256": raw_rel.rsplit("/", 1)[-1].removesuffix(".eml"),
            "envelope": {k: entry.envelope.get(k) for k in ("mail_from", "rcpt_tos", "peer", "spool_id")},
        }

    def _kind(self, parsed: ParsedMessage, case: dict | None) -> str:
        if parsed.report_type == "delivery-status":
            return "bounce"
        if case is None:
            return "report"
        if self.config.manager(parsed.from_addr):
            return "manager_reply"
        return "followup"


def new_case(case_id: str, parsed: ParsedMessage, message: dict, when: datetime) -> dict:
    flags = []
    if parsed.unparsed:
        flags.append("unparsed")
    if message["kind"] == "bounce":
        flags.append("bounce")
    return {
        "id": case_id,
        "status": "open",
        "reporter": message["from"],
        "reporter_name": parsed.from_name,
        "subject": parsed.subject,
        "received_at": when.isoformat(timespec="seconds"),
        "flags": flags,
        "category": None,
        "facts": {},
        "acks": [],
        "sent": {},
        "closed_at": None,
        "messages": [message],
    }


def intake_event(message: dict, is_new: bool) -> dict:
    return {"action": "case_opened" if is_new else "message_received", "actor": "system",
            "details": {"message_id": message["message_id"], "from": message["from"],
                        "kind": message["kind"], "sha256": message["sha256"],
                        "raw": message["raw"], "spool_id": message["envelope"]["spool_id"]}}
