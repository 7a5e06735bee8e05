"""A spooled message -> a case: new report, follow-up, machine mail, or a duplicate we already have.

Parsed once, the sender identity and trust, the machine-mail and loop-guard verdicts and the
bounce reading worked out once (the Request, intake/request.py); what the message is and what
is done with it is leakline.disposition's table, decided here once the case it joins is known.
The IntakeResult carries all of it to the responders. Every accepted message is kept: as a new
case, as a message on a case, or (machine mail that belongs to no case) in the machine-mail box.
A duplicate is only the same raw bytes, or the same Message-ID from the same sender with the
same body; anything else that reuses a Message-ID is a message of its own.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from leakline.intake.bounce import read_bounce
from leakline.intake.dkimcheck import DkimChecker
from leakline.intake.machine import machine_reasons
from leakline.intake.parse import ParsedMessage, parse
from leakline.intake.record import MAX_UNTRUSTED_TEXT, cap_untrusted, same_key, same_message, storable  # noqa: F401
from leakline.intake.request import Extracted, Request
from leakline.intake.thread import case_tags, mailed_case
from leakline.intake.trust import Trust, assess_trust
from leakline.config import Config
from leakline.disposition import UNTRUSTED_PER_HOUR, Disposition, Mail, case_before, decide
from leakline.msgid import MessageIds
from leakline.responders.guards import no_auto_reply_reasons
from leakline.store.cases import CaseNotFound, Store, StoreDamaged, split_case_id
from leakline.store.spool import SpoolEntry

log = logging.getLogger("leakline.intake")
MAX_TEXT = 1_000_000  # characters of a message's text kept in the case (the raw keeps all)
MAX_ATTACHMENTS = 200


@dataclass
class IntakeResult:
    """What intake hands the responders: the stored case and message, the request (parse,
    trust, guard verdicts, bounce) and the disposition the table decided.

    `case` is None for machine mail kept apart (it belongs to no case). `trust` is the one
    assessed when the message was first stored (read back from its record on a duplicate),
    whose disposition is decided again as it was first decided.
    """

    case: dict | None
    message: dict
    parsed: ParsedMessage
    entry: SpoolEntry
    is_new_case: bool
    duplicate: bool
    trust: Trust = Trust(False, None, ("external",))
    request: Request | None = None
    disposition: Disposition | None = None
    extracted: Extracted | None = None  # the facts its text states, read before the lock


Prepared = Request  # a message parsed and judged outside the data lock (Intake.prepare)


def received_at(envelope: dict, tz) -> datetime:
    value = envelope.get("received_at")
    when = datetime.fromisoformat(value) if value else datetime.now(timezone.utc)
    return when.astimezone(tz)


class Intake:
    def __init__(self, store: Store, config: Config, dkim: DkimChecker | None = None):
        self.store = store
        self.config = config
        # leakline's own DKIM check, only when configured; tests hand in one with their resolver.
        self.dkim = (dkim or DkimChecker()) if config.mail.verify_dkim else None
        self._ids: MessageIds | None = None

    def message_ids(self) -> MessageIds:
        if self._ids is None:
            self._ids = MessageIds(self.store.message_id_key(),
                                   self.config.from_address.rpartition("@")[2])
        return self._ids

    def process(self, entry: SpoolEntry) -> IntakeResult:
        """Store one message. Idempotent: processing the same entry again changes nothing."""
        return self.record(self.prepare(entry))

    def prepare(self, entry: SpoolEntry, parsed: ParsedMessage | None = None) -> Request:
        """Parse and judge a message; no lock is held (a batch prepares all its messages first).
        `parsed`: the message as already parsed for another organisation it is for."""
        raw = entry.raw
        parsed = parsed if parsed is not None else parse(raw)
        prepared = Request(entry, parsed, hashlib.sha256(raw).hexdigest(),
                           received_at(entry.envelope, self.config.service.tz))
        mail_from = prepared.mail_from
        # Header reads only (no DNS): done for duplicates too, whose disposition is decided again.
        prepared.guards = tuple(no_auto_reply_reasons(prepared.msg, mail_from, self.config))
        prepared.bounce = read_bounce(parsed.msg, mail_from)
        if self._duplicate(parsed, raw, prepared.sha, mend=False) is None:
            self._judge(prepared)
            if not prepared.machine:
                prepared.extracted = extracted(parsed, prepared.when)
        return prepared

    def _judge(self, prepared: Request) -> None:
        entry, parsed = prepared.entry, prepared.parsed
        # The DKIM check may wait up to its DNS budget: prepare() runs it outside the lock.
        prepared.trust = assess_trust(
            parsed.sender, parsed.msg, entry.raw, entry.envelope, self.config,
            None if self.config.service.is_trusted_relay(entry.envelope.get("peer")) else self.dkim)
        prepared.machine = machine_reasons(parsed.msg, self.config, self.message_ids().is_ours)

    def record(self, prepared: Request) -> IntakeResult:
        """Store a prepared message: in the open unit of work (a batch), else in one of its own."""
        entry, parsed, sha = prepared.entry, prepared.parsed, prepared.sha
        with self.store.unit_of_work():
            found = self._duplicate(parsed, entry.raw, sha)
            if found is not None:
                case, message = found
                before = case_before(case, message)
                return IntakeResult(case, message, parsed, entry, False, True,
                                    Trust.from_dict(message.get("trust")), prepared,
                                    self.decide(prepared, before, message))
            if prepared.trust is None:
                self._judge(prepared)  # looked like a duplicate when prepared, and is not
            result = self._store(prepared)
            result.extracted = prepared.extracted
            return result

    def decide(self, request: Request, case: dict | None, message: dict) -> Disposition:
        """What the message is and what is done with it: leakline.disposition's table."""
        return decide(Mail(request, case, message, self.config, self.message_ids()))

    def _store(self, request: Request) -> IntakeResult:
        entry, parsed, sha, when, trust = (request.entry, request.parsed, request.sha,
                                           request.when, request.trust)
        # Stores written before units of work: a crash between the claims and the case write
        # left a claim; resume into that case, if it is one that exists and can be read.
        resumed = self._readable_case(self.store.case_for_key(f"raw:{sha}"))
        case_id = resumed or self._thread(request)
        case = self.store.get(case_id) if case_id and self.store.exists(case_id) else None
        raw_rel = self.store.put_raw(entry.raw, when.year, when.month)
        message = self._message(request, raw_rel, case)
        disposition = self.decide(request, case, message)
        message["kind"] = disposition.kind
        result = IntakeResult(case, message, parsed, entry, False, False, trust, request, disposition)
        if case is None and disposition.kind == "machine":
            # No case, so no audit event: the record itself says which rules fired.
            self.store.machine_mail().put({**message, **disposition.record()})
            log.info("kept machine mail %s (%s)", parsed.message_id or sha[:20], disposition.reason)
            return result
        if disposition.action == "throttle":
            return self._throttle(result)
        if case is None:
            case_id = self.store.next_case_id(when.year)
        for key in (f"raw:{sha}", same_key(parsed, entry.raw, message["body_sha256"]),
                    message["key"], parsed.message_id):
            if key:
                self._claim(key, case_id)
        is_new = case is None
        if is_new:
            case = new_case(case_id, parsed, message, when)
        else:
            cap_untrusted(message, trust)
            case["messages"].append(message)
        self.store.save(case, [intake_event(message, is_new, disposition)])
        log.info("stored message %s from %s in case %s%s", parsed.message_id or sha[:20],
                 parsed.from_addr or "?", case_id, " (new case)" if is_new else "")
        result.case, result.is_new_case = case, is_new
        return result

    def _claim(self, key: str, case_id: str) -> None:
        """Claim `key` for the case; a claim naming a case that is gone or unreadable is taken
        over (else every later copy of the message would be looked for there)."""
        held = self.store.case_for_key(key)
        if held and held != case_id and self._readable_case(held) is None:
            self.store.put_key(key, case_id)
        else:
            self.store.claim_key(key, case_id)

    # -- identity of a message -----------------------------------------------------------
    def _readable_case(self, case_id: str | None) -> str | None:
        """`case_id` if it names a case that exists and can be read, else None: a key naming a
        quarantined case or holding junk must never hand out that id again."""
        if not case_id:
            return None
        try:
            split_case_id(case_id)
            self.store.get(case_id)
        except (CaseNotFound, StoreDamaged):
            return None
        return case_id

    def _duplicate(self, parsed: ParsedMessage, raw: bytes, sha: str,
                   mend: bool = True) -> tuple[dict | None, dict] | None:
        """The case and stored message this one duplicates: same raw bytes, or same Message-ID
        from the same sender with the same body (another relay, other trace headers).
        `mend`: write a missing index row (a crash of an older version could leave one out)."""
        throttled = self._readable_case(self.store.case_for_key(f"throttled:{sha}"))
        if throttled:
            return self.store.get(throttled), {"key": f"throttled:{sha}", "throttled": True,
                                               "sha256": sha, "direction": "in", "kind": "throttled"}
        body = parsed.body_digest(raw)
        same = same_key(parsed, raw, body)
        # parsed.message_id: how messages were claimed before same-keys (and our outgoing ones).
        for key in (f"raw:{sha}", same, parsed.message_id):
            case_id = self.store.case_for_key(key) if key else None
            if not case_id or not self.store.exists(case_id):
                continue
            try:
                case = self.store.get(case_id)
            except StoreDamaged as exc:  # a damaged case: not where this message can be found
                self.store.report(f"case {case_id} skipped while looking for duplicates: {exc}")
                continue
            for message in case["messages"]:
                if same_message(message, parsed, sha, body, same):
                    if mend:
                        self.store.ensure_indexed(case)
                    return case, message
        return None

    def _thread(self, request: Request) -> str | None:
        """The case a message names: by a case id in its subject, else by the Message-IDs it
        refers to; a bounce also by what bounced, else by the failed recipient of a recent mail."""
        parsed, bounce = request.parsed, request.bounce
        for case_id in case_tags(parsed.subject, self.config.service.case_prefix):
            if self.store.exists(case_id):
                return self._merged_target(case_id)
        candidates = [parsed.in_reply_to, *reversed(parsed.references), parsed.original_message_id]
        if request.machine:  # machine mail: our own message come back names its case by its id
            candidates.append(parsed.message_id)
        if bounce is not None:
            candidates += bounce.message_ids
        for message_id in filter(None, candidates):
            case_id = self.store.case_for_key(message_id)
            if case_id and self.store.exists(case_id):
                return self._merged_target(case_id)
        if bounce is not None:
            case_id = mailed_case(self.store, bounce.recipients, request.when)
            if case_id and self.store.exists(case_id):
                return self._merged_target(case_id)
        return None

    def _merged_target(self, case_id: str) -> str:
        """The case a merged case now lives in (`cases merge` leaves `merged_into`): a reply
        that still names the old id, in its subject or headers, lands where its messages went."""
        seen = {case_id}
        target = self.store.get(case_id).get("merged_into")
        while target and target not in seen and self.store.exists(target):
            case_id = target
            seen.add(case_id)
            target = self.store.get(case_id).get("merged_into")
        return case_id

    # -- limits on what outsiders may add ---------------------------------------------------
    def _throttle(self, result: IntakeResult) -> IntakeResult:
        """Past the limit (the table's over_limit): the raw is kept and counted
        (case["throttled"], an audit event naming the raw file), the text is not added."""
        case, message = result.case, result.message
        counter = case.setdefault("throttled", {"count": 0, "first": message["received_at"]})
        counter["count"] += 1
        counter["last"] = message["received_at"]
        if "throttled" not in case["flags"]:
            case["flags"].append("throttled")
        self.store.save(case, [{"action": "message_throttled", "actor": "system", "details": {
            "message_id": message["message_id"], "from": message["from"], "sha256": message["sha256"],
            "raw": message["raw"], "spool_id": message["envelope"]["spool_id"],
            "limit": f"{UNTRUSTED_PER_HOUR} messages an hour from unverified senders",
            **result.disposition.record()}}])
        # After the save: a crash before it counts the message again, never loses it.
        self.store.put_key(f"throttled:{message['sha256']}", case["id"])
        log.warning("case %s: follow-up %s throttled", case["id"], message["sha256"][:16])
        result.message = dict(message, throttled=True, kind="throttled")
        return result

    # -- the stored record --------------------------------------------------------------------
    def _message(self, request: Request, raw_rel: str, case: dict | None) -> dict:
        """The record kept of the message; its `kind` is the table's, set once decided."""
        parsed, entry, sha, when = request.parsed, request.entry, request.sha, request.when
        trust, machine = request.trust, request.machine
        text = parsed.text
        message = {
            "key": self._key(parsed, entry.raw, sha, case),
            "message_id": parsed.message_id,
            "from": parsed.from_addr,
            "from_name": parsed.from_name,
            "to": parsed.to,
            "subject": parsed.subject,
            "date": parsed.date,
            "received_at": when.isoformat(timespec="seconds"),
            "direction": "in",
            "kind": None,
            "text": text[:MAX_TEXT],
            "html": parsed.html,
            "in_reply_to": parsed.in_reply_to,
            "references": parsed.references,
            "attachments": parsed.attachments[:MAX_ATTACHMENTS],
            "forwarded": parsed.forwarded,
            "unparsed": parsed.unparsed,
            "raw": raw_rel,
            "sha256": sha,
            "body_sha256": parsed.body_digest(entry.raw),
            "trust": trust.to_dict(),
            "envelope": {k: entry.envelope.get(k) for k in ("mail_from", "rcpt_tos", "peer", "spool_id")},
        }
        extras = {"text_truncated": len(text) > MAX_TEXT or parsed.truncated, "machine": machine,
                  "unparsed_notes": parsed.notes, "from_problem": parsed.sender.problem,
                  "from_readings": list(parsed.sender.readings),
                  "message_id_reused": bool(parsed.message_id and message["key"] != parsed.message_id)}
        message.update({k: v for k, v in extras.items() if v})
        return storable(message)

    def _key(self, parsed: ParsedMessage, raw: bytes, sha: str, case: dict | None) -> str:
        """Unique within the case: the Message-ID, unless another stored message already has it
        (a claim alone may be this very message's, from an attempt a crash cut short)."""
        if not parsed.message_id:
            return parsed.content_key(raw)
        claimed = self.store.case_for_key(parsed.message_id)
        holders = [case] if case else []
        if claimed and claimed != (case or {}).get("id") and self.store.exists(claimed):
            holders.append(self.store.get(claimed))
        used = any(m.get("message_id") == parsed.message_id or m.get("key") == parsed.message_id
                   for holder in holders for m in holder["messages"])
        return f"{parsed.message_id}#{sha[:16]}" if used else parsed.message_id

def extracted(parsed: ParsedMessage, when: datetime) -> Extracted:
    """The facts the message states if it opens a case (the text as the case will keep it,
    received at `when`): the most CPU a report costs, here done before the data lock."""
    from leakline.process.extract import ANALYSED_CHARS, extract

    subject, text = parsed.subject or "", parsed.text[:MAX_TEXT][:ANALYSED_CHARS]
    received = when.isoformat(timespec="seconds")
    return Extracted(subject, text, received, extract(subject, text, received_at=received))


def new_case(case_id: str, parsed: ParsedMessage, message: dict, when: datetime) -> dict:
    flags = []
    if parsed.unparsed:
        flags.append("unparsed")
    if message["kind"] == "bounce":
        flags.append("bounce")
    if message.get("message_id_reused"):
        flags.append("message_id_reused")
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


def intake_event(message: dict, is_new: bool, disposition: Disposition) -> dict:
    """The message's audit event, with the rules of the table that fired."""
    return {"action": "case_opened" if is_new else "message_received", "actor": "system",
            "details": {"message_id": message["message_id"], "from": message["from"],
                        "kind": message["kind"], "sha256": message["sha256"],
                        "raw": message["raw"], "spool_id": message["envelope"]["spool_id"],
                        **disposition.record()}}
