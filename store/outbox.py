"""The durable outbox: messages the responders queued, kept until delivered or dead-lettered.

One row a message in `<data_dir>/outbox/outbox.sqlite` (store/rows.py), keyed by a hash of its
Message-ID (`message_key`), in the group of its state (queued, sent, failed) and ordered by its
next attempt (or when it was sent or failed); the value is its record as JSON. The message
itself is kept once, as serialised (policy SMTP, CRLF): the record names the file of the case's
raw evidence holding those very bytes (`raw`, relative to data_dir), or, for mail of no case
evidence, the bytes are a row of their own (`<key>.eml`). It is never rewritten, so a resend
after a crash carries the same bytes and the same Message-ID. Every change is part of a unit of
work (store/unit.py): queueing a case's mail commits with the case, a batch of deliveries is
recorded in one commit, and no change makes a file. Records of an older outbox (a file each
under queue/, sent/<month>/, failed/) are taken in at the first start and their folders kept
aside under `outbox/files-imported-<time>/`.

Message ids are returned and stored with their angle brackets, as in the case documents
(`"<...@example.com>"`); every method also accepts them without.
"""

from __future__ import annotations

import contextlib
import copy
import email.policy
import email.utils
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator

from leakline.store.files import DataLock, dump_json
from leakline.store.outbox_files import import_files
from leakline.store.unit import UnitOfWork
from leakline.store.units import Units, in_unit

log = logging.getLogger(__name__)

QUEUED, SENT, FAILED = "queued", "sent", "failed"
TABLE = "outbox/outbox.sqlite"  # relative to data_dir
MESSAGE = "message"  # the group of rows that hold a message's bytes
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
    path: Path | None  # the file holding the message (its case's raw evidence), or None:
    org: str | None = None  # the organisation it was queued for (None: queued before issue 14)
    data: bytes | None = None  # the message itself, kept in the outbox (mail of no evidence)

    def message_bytes(self) -> bytes:
        return self.data if self.data is not None else self.path.read_bytes()


class Outbox:
    """The queue; its changes join the open unit of work, or commit one of their own."""

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
        self._imported = False

    @contextlib.contextmanager
    def _unit(self, org: str | None = None) -> Iterator[UnitOfWork]:
        self.prepare()
        if org and self.unit_for_org is not None:
            with self.unit_for_org(org), self.units.unit() as uow:
                yield uow
        else:
            with self.units.unit() as uow:
                yield uow

    def prepare(self) -> None:
        """Take in the records of an older outbox (a file each), once; a unit of its own."""
        if self._imported or in_unit():
            return  # inside another unit: at the next one of the outbox's own
        self._imported = True
        if any((self.root / name).is_dir() for name in ("queue", "sent", "failed")) or \
                any(not (f / ".done").exists() for f in self.root.glob("files-imported-*")):
            count = import_files(self.units.unit, self.root, TABLE, self._put)
            log.warning("outbox: %d records taken in from %s (the files kept aside)", count,
                        self.root)

    def _org_of(self, key: str) -> str | None:
        """The organisation of a message, read before its unit is opened (it never changes)."""
        if self.unit_for_org is None:
            return None
        with contextlib.suppress(ValueError, OSError):
            row = self._table().get(key)
            return None if row is None else json.loads(row[2]).get("org")
        return None

    def _table(self):
        from leakline.store.rows import RowTable

        return RowTable.at(self.data_dir / TABLE)

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

        `same_as`: the file holding these very bytes (the message's raw evidence; absolute, or
        relative to data_dir), which the record names instead of keeping a copy. `org`: the
        organisation it is queued for.
        """
        if not envelope_to:
            raise ValueError("envelope_to: at least one recipient is needed")
        message_id = normalize_id(message_id)
        key = message_key(message_id)
        with self._unit(org) as uow:
            if uow.get_row(TABLE, key) is not None:
                return message_id
            now = self.now().isoformat()
            record = {
                "id": message_id, "case_id": case_id, "kind": kind,
                "envelope_from": envelope_from, "to": list(envelope_to),
                "pending_to": list(envelope_to), "subject": subject,
                "state": QUEUED, "attempts": 0, "created_at": now, "queued_at": now,
                "next_attempt_at": now, "last_error": None, "org": org,
            }
            if same_as is not None:
                # `same_as` is a path as the caller names it (absolute, or relative to the working
                # folder like a relative data_dir): relative to data_dir once both are absolute.
                record["raw"] = os.path.relpath(os.path.abspath(same_as), os.path.abspath(self.data_dir))
            else:
                uow.put_row(TABLE, f"{key}.eml", (MESSAGE, "", data))
            self._put(uow, key, record)
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
        upto = _order(now)
        with self._unit() as uow:
            rows = uow.group(TABLE, QUEUED)
            due = [self._item(uow, _loads(value)) for _, order, value in rows if order <= upto]
        later = next((order for _, order, _ in rows if order > upto), None)
        return sorted(due, key=lambda item: (item.next_attempt_at, item.created_at)), \
            None if later is None else _from_order(later)

    def next_attempt_at(self) -> datetime | None:
        """When the earliest queued item is due, or None with an empty queue."""
        with self._unit() as uow:
            rows = uow.group(TABLE, QUEUED)
        return _from_order(rows[0][1]) if rows else None

    def pending_alerts(self) -> list[Item]:
        """Dead letters whose on_dead_letter callback has not completed (after a crash)."""
        with self._unit() as uow:
            return [self._item(uow, rec) for rec in self._records(uow, FAILED)
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
            self._put(uow, key, record)

    def mark_retry(self, message_id: str, error: str, next_at: datetime, *,
                   recipients: list[str] | None = None) -> None:
        """Count a failed attempt and set the next one; `recipients` narrows who is still due."""
        with self._changing(message_id) as uow:
            key, record = self._load_queued(uow, message_id)
            record.update(attempts=record["attempts"] + 1, last_error=error,
                          next_attempt_at=next_at.isoformat())
            if recipients:
                record["pending_to"] = list(recipients)
            self._put(uow, key, record)

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
            self._put(uow, key, record)

    def mark_alerted(self, message_id: str) -> None:
        with self._changing(message_id) as uow:
            key = message_key(normalize_id(message_id))
            record = self._record(uow, key)
            if record is not None and record["state"] == FAILED and record.get("alert_pending"):
                record["alert_pending"] = False
                self._put(uow, key, record)

    def retry(self, message_id: str) -> dict:
        """Put a dead letter (or a queued message waiting for its next attempt) in line now.

        The retry window starts again from now. Raises UnknownMessage for an id the outbox does
        not hold, and OutboxError for one already sent (a resend is not made by accident).
        """
        message_id = normalize_id(message_id)
        key = message_key(message_id)
        with self._unit(self._org_of(key)) as uow:
            record = self._record(uow, key)
            if record is None:
                raise UnknownMessage(f"{message_id}: no such message in the outbox")
            if record["state"] == SENT:
                raise OutboxError(f"{message_id}: already sent at {record.get('sent_at')}")
            now = self.now().isoformat()
            if record["state"] == FAILED:
                record.update(queued_at=now, retried_at=now)
                record.pop("failed_at", None)
            record.update(state=QUEUED, next_attempt_at=now, alert_pending=False)
            self._put(uow, key, record)
        return self._summary(record)

    # -- reading for people ----------------------------------------------------------------------

    def list(self, failed: bool = False) -> list[dict]:
        """The queue (default) or the dead letters, oldest first, as plain dicts."""
        with self._unit() as uow:
            records = self._records(uow, FAILED if failed else QUEUED)
        return [self._summary(rec) for rec in sorted(records, key=lambda r: r["created_at"])]

    def list_sent(self) -> list[dict]:
        """Delivered messages, oldest delivery first."""
        with self._unit() as uow:
            records = self._records(uow, SENT)
        return [self._summary(rec) for rec in sorted(records, key=lambda r: r.get("sent_at") or "")]

    def get(self, message_id: str) -> dict | None:
        """One message in any state (queued, sent or failed), or None."""
        with self._unit() as uow:
            record = self._record(uow, message_key(normalize_id(message_id)))
        return None if record is None else self._summary(record)

    @staticmethod
    def _summary(record: dict) -> dict:
        summary = {name: record.get(name) for name in LIST_FIELDS}
        for extra in ("pending_to", "sent_at", "failed_at", "org"):
            if record.get(extra):
                summary[extra] = record[extra]
        return summary

    # -- forgetting --------------------------------------------------------------------------------

    def forget_sent(self, message_id: str) -> bool:
        """Remove the record of a sent message (retention purge); True if there was one."""
        key = message_key(normalize_id(message_id))
        with self._unit(self._org_of(key)) as uow:
            record = self._record(uow, key)
            if record is None or record["state"] != SENT:
                return False
            uow.put_row(TABLE, key, None)
            uow.put_row(TABLE, f"{key}.eml", None)
        return True

    def forget(self, message_id: str) -> bool:
        """Remove a message in any state, queued ones included (an organisation purged whole)."""
        key = message_key(normalize_id(message_id))
        with self._unit(self._org_of(key)) as uow:
            if self._record(uow, key) is None:
                return False
            uow.put_row(TABLE, key, None)
            uow.put_row(TABLE, f"{key}.eml", None)
        return True

    # -- rows ------------------------------------------------------------------------------------

    def _records(self, uow: UnitOfWork, state: str) -> list[dict]:
        out = []
        for key, _, value in uow.group(TABLE, state):
            try:
                out.append(_loads(value))
            except ValueError:  # a hand edit: skipped rather than stall the whole queue
                log.error("outbox: unreadable record %s skipped", key)
        return out

    def _record(self, uow: UnitOfWork, key: str) -> dict | None:
        row = uow.get_row(TABLE, key)
        return None if row is None or row[0] == MESSAGE else _loads(row[2])

    def _load_queued(self, uow: UnitOfWork, message_id: str) -> tuple[str, dict]:
        message_id = normalize_id(message_id)
        key = message_key(message_id)
        record = self._record(uow, key)
        if record is None or record["state"] != QUEUED:
            raise UnknownMessage(f"{message_id}: not in the outbox queue")
        return key, record

    @staticmethod
    def _put(uow: UnitOfWork, key: str, record: dict) -> None:
        when = {QUEUED: "next_attempt_at", SENT: "sent_at", FAILED: "failed_at"}[record["state"]]
        uow.put_row(TABLE, key, (record["state"], _order(record.get(when) or record["created_at"]),
                                 dump_json(record)))

    def _item(self, uow: UnitOfWork, record: dict[str, Any]) -> Item:
        data = None
        if not record.get("raw"):
            row = uow.get_row(TABLE, f"{message_key(record['id'])}.eml")
            data = b"" if row is None else row[2]
        return Item(
            id=record["id"], envelope_from=record["envelope_from"],
            recipients=tuple(record.get("pending_to") or record["to"]),
            case_id=record.get("case_id"), kind=record["kind"], subject=record.get("subject", ""),
            attempts=record["attempts"],
            created_at=datetime.fromisoformat(record["created_at"]),
            queued_at=datetime.fromisoformat(record.get("queued_at") or record["created_at"]),
            next_attempt_at=datetime.fromisoformat(
                record.get("next_attempt_at") or record["created_at"]),
            last_error=record.get("last_error"),
            path=self.data_dir / record["raw"] if record.get("raw") else None,
            org=record.get("org"), data=data,
        )


def _order(when: datetime | str) -> str:
    """A time as a row's order: UTC, fixed width, so that text order is time order."""
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _from_order(order: str) -> datetime:
    return datetime.strptime(order, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)


def _loads(data: bytes | None) -> dict | None:
    return None if data is None else json.loads(data.decode("utf-8"))
