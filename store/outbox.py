"""The durable outbox: messages the responders queued, kept on disk until delivered or dead-lettered.

Layout under `<data_dir>/outbox/` (folders 0700, files 0600):

    queue/<key>.json + <key>.eml      waiting for (re)delivery
    sent/YYYY-MM/<key>.json + .eml    delivered, by month of delivery
    failed/<key>.json + .eml          dead letters, until `retry` puts them back in the queue

`<key>` is a hash of the Message-ID (Message-IDs may hold `/` and other characters a file name
must not). The `.eml` is the message as serialized once (policy SMTP, CRLF), a hard link to its
raw evidence under raw/ when the case keeps one, and is never rewritten, so a resend after a
crash carries the same bytes and the same Message-ID. A message is queued while
`queue/<key>.json` exists. Every change is part of a unit of work (store/unit.py): queueing a
case's mail commits with the case, and a batch of deliveries is recorded in one commit; a move to
sent or failed is one unit, so it happens whole or not at all.

Message ids are returned and stored with their angle brackets, as in the case documents
(`"<...@example.com>"`); every method also accepts them without.
"""

from __future__ import annotations

import contextlib
import copy
import email.policy
import os
import email.utils
import hashlib
import logging
import json
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator

from store.files import DataLock, dump_json
from store.unit import UnitOfWork
from store.units import Units

log = logging.getLogger(__name__)

QUEUED, SENT, FAILED = "queued", "sent", "failed"
LIST_FIELDS = ("id", "case_id", "kind", "to", "subject", "state", "attempts",
               "next_attempt_at", "last_error", "created_at")


class OutboxError(Exception):
    """An outbox operation that cannot be done; the message says why."""


class UnknownMessage(OutboxError, LookupError):
    """No message with that Message-ID in the outbox."""


def normalize_id(message_id: str) -> str:
    """`abc@host`, `<abc@host>` and ` <abc@host> ` are the same id: `<abc@host>`."""
    bare = message_id.strip().removeprefix("<").removesuffix(">").strip()
    if not bare or any(c in bare for c in "<>\r\n \t"):
        raise ValueError(f"not a Message-ID: {message_id!r}")
    return f"<{bare}>"


def _without_bcc(message: EmailMessage) -> EmailMessage:
    if "Bcc" not in message and "Resent-Bcc" not in message:
        return message
    stripped = copy.copy(message)  # __delitem__ rebinds the header list: the original keeps it
    del stripped["Bcc"], stripped["Resent-Bcc"]
    return stripped


def message_key(message_id: str) -> str:
    return hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Item:
    """One queued message, as the sender worker and the transports see it."""

    id: str  # Message-ID with <>
    envelope_from: str  # '' is the null sender <>
    recipients: tuple[str, ...]  # envelope recipients still to deliver to
    case_id: str | None
    kind: str
    subject: str
    attempts: int
    created_at: datetime
    queued_at: datetime  # enqueue or the last manual retry; the retry window counts from here
    next_attempt_at: datetime
    last_error: str | None
    path: Path  # the .eml
    org: str | None = None  # the organisation it was queued for (None: queued before issue 14)

    def message_bytes(self) -> bytes:
        return self.path.read_bytes()


class Outbox:
    """File-backed queue; its changes join the open unit of work, or commit one of their own."""

    def __init__(self, data_dir: Path, lock: DataLock, now: Callable[[], datetime],
                 units: Units | None = None,
                 unit_for_org: Callable[[str], ContextManager] | None = None):
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "outbox"
        self.lock = lock
        self.now = now
        self.units = units if units is not None else Units(self.data_dir, lock)
        # Where each organisation has a store of its own: the unit every change of one of its
        # messages is made in (that store's, which the outbox's joins), so one journal orders
        # all of a message's changes. None: the outbox's own units.
        self.unit_for_org = unit_for_org
        self.queue_dir = self.root / "queue"
        self.sent_dir = self.root / "sent"
        self.failed_dir = self.root / "failed"

    @contextlib.contextmanager
    def _unit(self, org: str | None) -> Iterator[UnitOfWork]:
        if org and self.unit_for_org is not None:
            with self.unit_for_org(org), self.units.unit() as uow:
                yield uow
        else:
            with self.units.unit() as uow:
                yield uow

    def _org_of(self, key: str) -> str | None:
        """The organisation of a message, read before its unit is opened (it never changes)."""
        if self.unit_for_org is None:
            return None
        for folder in [self.queue_dir, self.failed_dir, *sorted(self.sent_dir.glob("*"))]:
            with contextlib.suppress(OSError, ValueError):
                return (_loads((folder / f"{key}.json").read_bytes()) or {}).get("org")
        return None

    def _rel(self, folder: Path, name: str = "") -> str:
        rel = str(folder.relative_to(self.data_dir))
        return f"{rel}/{name}" if name else rel

    # -- enqueue -------------------------------------------------------------------------------

    def enqueue(self, message: EmailMessage, *, envelope_from: str, envelope_to: list[str],
                case_id: str | None, kind: str, org: str | None = None) -> str:
        """Store `message` for delivery and return its Message-ID (with <>).

        A message without a Message-ID gets one (set on `message` too). Bcc headers are not
        stored (the envelope carries those recipients). Enqueueing a Message-ID that is already
        queued, sent or failed changes nothing and returns the same id.
        """
        if not envelope_to:
            raise ValueError("envelope_to: at least one recipient is needed")
        message_id = self._ensure_message_id(message, envelope_from)
        data = _without_bcc(message).as_bytes(policy=email.policy.SMTP)
        return self.enqueue_bytes(data, message_id=message_id, envelope_from=envelope_from,
                                  envelope_to=envelope_to, case_id=case_id, kind=kind,
                                  subject=str(message.get("Subject", "")), org=org)

    def enqueue_bytes(self, data: bytes, *, message_id: str, envelope_from: str,
                      envelope_to: list[str], case_id: str | None, kind: str, subject: str,
                      same_as: Path | str | None = None, org: str | None = None) -> str:
        """Queue a message already serialised (policy SMTP, no Bcc): each mail is serialised once.

        `same_as`: a file holding these very bytes (the message's raw evidence, an absolute path
        or one relative to data_dir), of which the queue's copy is made a hard link. `org`: the
        organisation it is queued for.
        """
        if not envelope_to:
            raise ValueError("envelope_to: at least one recipient is needed")
        message_id = normalize_id(message_id)
        key = message_key(message_id)
        with self._unit(org) as uow:
            if self._find(uow, key) is not None:
                return message_id
            now = self.now().isoformat()
            record = {
                "id": message_id, "case_id": case_id, "kind": kind,
                "envelope_from": envelope_from, "to": list(envelope_to),
                "pending_to": list(envelope_to), "subject": subject,
                "state": QUEUED, "attempts": 0, "created_at": now, "queued_at": now,
                "next_attempt_at": now, "last_error": None, "org": org,
            }
            eml = self._rel(self.queue_dir, f"{key}.eml")
            if same_as is not None:
                uow.link(os.path.relpath(self.data_dir / same_as, self.data_dir), eml)
            else:
                uow.write(eml, data)
            uow.write(self._rel(self.queue_dir, f"{key}.json"), dump_json(record))
        return message_id

    @staticmethod
    def _ensure_message_id(message: EmailMessage, envelope_from: str) -> str:
        if message.get("Message-ID"):
            return normalize_id(str(message["Message-ID"]))
        sender = email.utils.parseaddr(str(message.get("From", "")))[1] or envelope_from
        domain = sender.rpartition("@")[2] or None
        message["Message-ID"] = email.utils.make_msgid(domain=domain)
        return normalize_id(message["Message-ID"])

    # -- what the worker reads -------------------------------------------------------------------

    def due(self, now: datetime) -> list[Item]:
        """Queued items whose next attempt is at or before `now`, oldest first."""
        return self.due_and_next(now)[0]

    def due_and_next(self, now: datetime) -> tuple[list[Item], datetime | None]:
        """due(now), and when the earliest item not due yet will be: one read of the queue."""
        with self.units.unit() as uow:
            items = [self._item(path, rec) for path, rec in self._records(uow, self.queue_dir)]
        due = [item for item in items if item.next_attempt_at <= now]
        later = min((i.next_attempt_at for i in items if i.next_attempt_at > now), default=None)
        return sorted(due, key=lambda item: (item.next_attempt_at, item.created_at)), later

    def next_attempt_at(self) -> datetime | None:
        """When the earliest queued item is due, or None with an empty queue."""
        with self.units.unit() as uow:
            times = [datetime.fromisoformat(rec["next_attempt_at"])
                     for _, rec in self._records(uow, self.queue_dir)]
        return min(times, default=None)

    def pending_alerts(self) -> list[Item]:
        """Dead letters whose on_dead_letter callback has not completed (after a crash)."""
        with self.units.unit() as uow:
            return [self._item(path, rec) for path, rec in self._records(uow, self.failed_dir)
                    if rec.get("alert_pending")]

    # -- state changes ---------------------------------------------------------------------------

    def _changing(self, message_id: str):
        """The unit a change of one message is made in (its organisation's, joined)."""
        return self._unit(self._org_of(message_key(normalize_id(message_id))))

    def mark_sent(self, message_id: str) -> None:
        with self._changing(message_id) as uow:
            key, record = self._load_queued(uow, message_id)
            record.update(state=SENT, sent_at=self.now().isoformat(), pending_to=[],
                          next_attempt_at=None)
            month = datetime.fromisoformat(record["sent_at"]).strftime("%Y-%m")
            self._move(uow, key, record, self.queue_dir, self.sent_dir / month)

    def mark_retry(self, message_id: str, error: str, next_at: datetime, *,
                   recipients: list[str] | None = None) -> None:
        """Count a failed attempt and set the next one; `recipients` narrows who is still due."""
        with self._changing(message_id) as uow:
            key, record = self._load_queued(uow, message_id)
            record.update(attempts=record["attempts"] + 1, last_error=error,
                          next_attempt_at=next_at.isoformat())
            if recipients:
                record["pending_to"] = list(recipients)
            self._rewrite(uow, self.queue_dir, key, record)

    def mark_failed(self, message_id: str, error: str, *, recipients: list[str] | None = None,
                    alert: bool = False) -> None:
        """Dead-letter a queued message. `alert` records that on_dead_letter is still owed."""
        with self._changing(message_id) as uow:
            key, record = self._load_queued(uow, message_id)
            record.update(state=FAILED, attempts=record["attempts"] + 1, last_error=error,
                          failed_at=self.now().isoformat(), next_attempt_at=None,
                          alert_pending=alert)
            if recipients:
                record["pending_to"] = list(recipients)
            self._move(uow, key, record, self.queue_dir, self.failed_dir)

    def mark_alerted(self, message_id: str) -> None:
        with self._changing(message_id) as uow:
            rel = self._rel(self.failed_dir, f"{message_key(normalize_id(message_id))}.json")
            record = _loads(uow.read(rel))
            if record is not None and record.get("alert_pending"):
                record["alert_pending"] = False
                self._rewrite(uow, self.failed_dir, message_key(normalize_id(message_id)), record)

    def retry(self, message_id: str) -> dict:
        """Put a dead letter (or a queued message waiting for its next attempt) in line now.

        The retry window starts again from now. Raises UnknownMessage for an id the outbox does
        not hold, and OutboxError for one already sent (a resend is not made by accident).
        """
        message_id = normalize_id(message_id)
        key = message_key(message_id)
        with self._unit(self._org_of(key)) as uow:
            found = self._find(uow, key)
            if found is None:
                raise UnknownMessage(f"{message_id}: no such message in the outbox")
            folder, record = found
            if record["state"] == SENT:
                raise OutboxError(f"{message_id}: already sent at {record.get('sent_at')}")
            now = self.now().isoformat()
            record.update(state=QUEUED, next_attempt_at=now, alert_pending=False)
            if folder == self.failed_dir:
                record.update(queued_at=now, retried_at=now)
                record.pop("failed_at", None)
                self._move(uow, key, record, self.failed_dir, self.queue_dir)
            else:
                self._rewrite(uow, self.queue_dir, key, record)
        return self._summary(record)

    # -- reading for people ----------------------------------------------------------------------

    def list(self, failed: bool = False) -> list[dict]:
        """The queue (default) or the dead letters, oldest first, as plain dicts."""
        folder = self.failed_dir if failed else self.queue_dir
        with self.units.unit() as uow:
            records = [rec for _, rec in self._records(uow, folder)]
        return [self._summary(rec) for rec in sorted(records, key=lambda r: r["created_at"])]

    def list_sent(self) -> list[dict]:
        """Delivered messages (all months kept under sent/), oldest delivery first."""
        with self.units.unit() as uow:
            months = uow.listdir(self._rel(self.sent_dir))
            records = [rec for month in months
                       for _, rec in self._records(uow, self.sent_dir / month)]
        return [self._summary(rec) for rec in sorted(records, key=lambda r: r.get("sent_at") or "")]

    def get(self, message_id: str) -> dict | None:
        """One message in any state (queued, sent or failed), or None."""
        with self.units.unit() as uow:
            found = self._find(uow, message_key(normalize_id(message_id)))
        return None if found is None else self._summary(found[1])

    @staticmethod
    def _summary(record: dict) -> dict:
        summary = {name: record.get(name) for name in LIST_FIELDS}
        for extra in ("pending_to", "sent_at", "failed_at", "org"):
            if record.get(extra):
                summary[extra] = record[extra]
        return summary

    # -- files -----------------------------------------------------------------------------------

    def _records(self, uow: UnitOfWork, folder: Path) -> Iterator[tuple[Path, dict]]:
        rel = self._rel(folder)
        for name in uow.listdir(rel):
            if not name.endswith(".json") or name.startswith("."):
                continue
            try:
                record = _loads(uow.read(f"{rel}/{name}"))
            except ValueError:
                # Atomic writes make this a hand edit; skip it rather than stall the whole queue.
                log.error("outbox: unreadable record %s skipped", folder / name)
                continue
            if record is not None:
                yield folder / name, record

    def forget_sent(self, message_id: str) -> bool:
        """Remove the stored copy of a sent message (retention purge); True if there was one."""
        key = message_key(normalize_id(message_id))
        with self._unit(self._org_of(key)) as uow:
            found = self._find(uow, key)
            if found is None or not found[0].is_relative_to(self.sent_dir):
                return False
            for suffix in (".eml", ".json"):
                uow.delete(self._rel(found[0], f"{key}{suffix}"))
        return True

    def forget(self, message_id: str) -> bool:
        """Remove a message in any state, queued ones included (an organisation purged whole)."""
        key = message_key(normalize_id(message_id))
        with self._unit(self._org_of(key)) as uow:
            removed = False
            while (found := self._find(uow, key)) is not None:
                for suffix in (".json", ".eml"):
                    uow.delete(self._rel(found[0], f"{key}{suffix}"))
                removed = True
        return removed

    def _find(self, uow: UnitOfWork, key: str) -> tuple[Path, dict] | None:
        # The queue first: a record found there is the one that counts.
        candidates = [self.queue_dir, self.failed_dir]
        candidates += [self.sent_dir / m for m in reversed(uow.listdir(self._rel(self.sent_dir)))]
        for folder in candidates:
            record = _loads(uow.read(self._rel(folder, f"{key}.json")))
            if record is not None:
                return folder, record
        return None

    def _load_queued(self, uow: UnitOfWork, message_id: str) -> tuple[str, dict]:
        message_id = normalize_id(message_id)
        key = message_key(message_id)
        record = _loads(uow.read(self._rel(self.queue_dir, f"{key}.json")))
        if record is None:
            raise UnknownMessage(f"{message_id}: not in the outbox queue")
        return key, record

    def _move(self, uow: UnitOfWork, key: str, record: dict, source: Path, target: Path) -> None:
        """The record and the message renamed from `source` to `target`, the record rewritten
        there: one unit, and no new file (outbox records are read only under the data lock)."""
        for suffix, data in ((".eml", None), (".json", dump_json(record))):
            uow.move(self._rel(source, f"{key}{suffix}"), self._rel(target, f"{key}{suffix}"), data)

    def _rewrite(self, uow: UnitOfWork, folder: Path, key: str, record: dict) -> None:
        rel = self._rel(folder, f"{key}.json")
        uow.move(rel, rel, dump_json(record))  # in place: a new file costs about an fsync here

    def _item(self, path: Path, record: dict[str, Any]) -> Item:
        return Item(
            id=record["id"], envelope_from=record["envelope_from"],
            recipients=tuple(record.get("pending_to") or record["to"]),
            case_id=record.get("case_id"), kind=record["kind"], subject=record.get("subject", ""),
            attempts=record["attempts"],
            created_at=datetime.fromisoformat(record["created_at"]),
            queued_at=datetime.fromisoformat(record.get("queued_at") or record["created_at"]),
            next_attempt_at=datetime.fromisoformat(
                record.get("next_attempt_at") or record["created_at"]),
            last_error=record.get("last_error"), path=path.with_suffix(".eml"),
            org=record.get("org"),
        )


def _loads(data: bytes | None) -> dict | None:
    return None if data is None else json.loads(data.decode("utf-8"))
