"""Queue outgoing mail for a case: the outbox gets the message, the case gets its record.

Responders never send. `Mailer.queue` puts the message in the durable outbox, records it in the
case (direction "out", status "queued"), and makes its Message-ID lead back to the case, so a
reply to it threads in. It returns the audit event; the caller saves the case with it.
Message-IDs are stable per step and signed with the installation's key (leakline.msgid), so a
step repeated after a crash is the same message and the outbox keeps one copy, and a reply to
one of them can be checked as a reply to what we really sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from leakline.intake.parse import body_digest
from leakline.intake.thread import note_mailed
from leakline.config import Config
from leakline.msgid import MessageIds
from leakline.delivery.compose import Outgoing, compose
from leakline.store.cases import Store
from leakline.store.outbox import Outbox


class Mailer:
    def __init__(self, store: Store, outbox: Outbox, config: Config,
                 now: Callable[[], datetime], wake: Callable[[], None] = lambda: None):
        self.store = store
        self.outbox = outbox
        self.config = config
        self.now = now
        self.wake = wake
        self._ids: MessageIds | None = None

    def ids(self) -> MessageIds:
        """The installation's Message-ID signer (its key is read from the store once)."""
        if self._ids is None:
            self._ids = MessageIds(self.store.message_id_key(),
                                   self.config.from_address.rpartition("@")[2])
        return self._ids

    def send(self, case: dict, *, kind: str, to: list[str], rendered, step: str,
             reply_to: dict | None = None) -> dict:
        """Compose `rendered` (subject, text, html) as `kind` for `step` of the case and queue it."""
        parent = reply_to or {}
        out = compose(
            kind=kind, to=to, subject=rendered.subject, text=rendered.text, html=rendered.html,
            config=self.config, case_id=case["id"], now=self.now(),
            in_reply_to=parent.get("message_id"), references=parent.get("references") or [],
            message_id=self.ids().stable(case["id"], step, *sorted(to)))
        return self.queue(case, out, rendered.text)

    def queue(self, case: dict, out: Outgoing, text: str) -> dict:
        """Serialised once: the same bytes are the case's evidence (raw/) and, as a hard link to
        it, the outbox's copy; all of it joins the open unit of work."""
        when = self.now().astimezone(self.config.service.tz)
        raw = out.data
        raw_rel = self.store.put_raw(raw, when.year, when.month)
        with self.store.unit_of_work() as uow:
            self.outbox.enqueue_bytes(raw, message_id=out.message_id,
                                      envelope_from=out.envelope_from,
                                      envelope_to=list(out.envelope_to), case_id=case["id"],
                                      kind=out.kind, subject=out.subject,
                                      same_as=self.store.data_dir / raw_rel,
                                      org=self.config.org.id)
            self.store.claim_key(out.message_id, case["id"])
            for address in out.envelope_to:
                note_mailed(self.store, address, case["id"], out.message_id, self.now())
            uow.after_commit(self.wake)
        if not any(m.get("message_id") == out.message_id for m in case["messages"]):
            case["messages"].append(self._record(out, text, raw, raw_rel, when))
        return {"action": "mail_queued", "actor": "system",
                "details": {"message_id": out.message_id, "kind": out.kind,
                            "to": list(out.envelope_to)}}

    def _record(self, out: Outgoing, text: str, raw: bytes, raw_rel: str, when) -> dict:
        return {
            "key": out.message_id, "message_id": out.message_id,
            "from": self.config.from_address, "from_name": self.config.organization.name,
            "to": list(out.envelope_to), "subject": out.subject,
            "date": out.date, "received_at": when.isoformat(timespec="seconds"),
            "direction": "out", "kind": out.kind, "status": "queued", "text": text,
            "html": True, "in_reply_to": out.in_reply_to,
            "references": list(out.references),
            "attachments": [], "forwarded": [], "raw": raw_rel,
            "sha256": raw_rel.rsplit("/", 1)[-1].removesuffix(".eml"),
            "body_sha256": body_digest(raw),
        }


def record_delivery(store: Store, case_id: str, message_id: str, status: str,
                    error: str | None = None) -> None:
    """Mark an outgoing message of a case sent or failed, with its audit event."""
    def mark(case: dict) -> list[dict] | None:
        for message in case["messages"]:
            if message.get("message_id") == message_id and message.get("direction") == "out":
                if message.get("status") == status:
                    return None
                message["status"] = status
                if error:
                    message["error"] = error[:500]
                details = {"message_id": message_id, "kind": message.get("kind"), "to": message["to"]}
                if error:
                    details["error"] = error[:500]
                return [{"action": f"mail_{status}", "actor": "system", "details": details}]
        return None
    store.update(case_id, mark)
