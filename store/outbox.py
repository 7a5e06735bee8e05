"""The durable outbox: messages the responders queued, kept on disk until delivered or dead-lettered.

Layout under `<data_dir>/outbox/` (folders 0700, files 0600):

    queue/<key>.json + <key>.eml      waiting for (re)delivery
    sent/YYYY-MM/<key>.json + .eml    delivered, by month of delivery
    failed/<key>.json + .eml          dead letters, until `retry` puts them back in the queue

`<key>` is a hash of the Message-ID (Message-IDs may hold `/` and other characters a file name
must not). The `.eml` is the message as serialized once at enqueue time (policy SMTP, CRLF) and is
never rewritten, so a resend after a crash carries the same bytes and the same Message-ID. The
`.json` is the commit record: a message is queued while `queue/<key>.json` exists. Moving to sent
or failed writes the new record first and removes the queue record last, so a crash in between
leaves the message queued (it may be sent twice, never lost).

Message ids are returned and stored with their angle brackets, as in the case documents
(`"<...@example.com>"`); every method also accepts them without.
"""

from __future__ import annotations

import copy
import email.policy
import email.utils
import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Callable, Iterator

from store.files import DataLock, atomic_write, atomic_write_json, ensure_dir, fsync_dir, read_json

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


def _key(message_id: str) -> str:
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
    """File-backed queue; every change is an atomic, fsynced write of one small file."""

    def __init__(self, data_dir: Path, lock: DataLock, now: Callable[[], datetime]):
        self.root = Path(data_dir) / "outbox"
        self.lock = lock
        self.now = now
        self.queue_dir = self.root / "queue"
        self.sent_dir = self.root / "sent"
        self.failed_dir = self.root / "failed"

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
        key = _key(message_id)
        with self.lock.hold():
            if self._find(key) is not None:
                return message_id
            now = self.now().isoformat()
            record = {
                "id": message_id, "case_id": case_id, "kind": kind,
                "envelope_from": envelope_from, "to": list(envelope_to),
                "pending_to": list(envelope_to), "subject": str(message.get("Subject", "")),
                "state": QUEUED, "attempts": 0, "created_at": now, "queued_at": now,
                "next_attempt_at": now, "last_error": None, "org": org,
            }
            self._ensure(self.queue_dir)
            atomic_write(self.queue_dir / f"{key}.eml", data)
            atomic_write_json(self.queue_dir / f"{key}.json", record)
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
        with self.lock.hold():
            items = [self._item(path, rec) for path, rec in self._records(self.queue_dir)]
        due = [item for item in items if item.next_attempt_at <= now]
        return sorted(due, key=lambda item: (item.next_attempt_at, item.created_at))

    def next_attempt_at(self) -> datetime | None:
        """When the earliest queued item is due, or None with an empty queue."""
        with self.lock.hold():
            times = [datetime.fromisoformat(rec["next_attempt_at"])
                     for _, rec in self._records(self.queue_dir)]
        return min(times, default=None)

    def pending_alerts(self) -> list[Item]:
        """Dead letters whose on_dead_letter callback has not completed (after a crash)."""
        with self.lock.hold():
            return [self._item(path, rec) for path, rec in self._records(self.failed_dir)
                    if rec.get("alert_pending")]

    # -- state changes ---------------------------------------------------------------------------

    def mark_sent(self, message_id: str) -> None:
        with self.lock.hold():
            key, record = self._load_queued(message_id)
            record.update(state=SENT, sent_at=self.now().isoformat(), pending_to=[],
                          next_attempt_at=None)
            month = datetime.fromisoformat(record["sent_at"]).strftime("%Y-%m")
            self._move(key, record, self.queue_dir, self.sent_dir / month)

    def mark_retry(self, message_id: str, error: str, next_at: datetime, *,
                   recipients: list[str] | None = None) -> None:
        """Count a failed attempt and set the next one; `recipients` narrows who is still due."""
        with self.lock.hold():
            key, record = self._load_queued(message_id)
            record.update(attempts=record["attempts"] + 1, last_error=error,
                          next_attempt_at=next_at.isoformat())
            if recipients:
                record["pending_to"] = list(recipients)
            atomic_write_json(self.queue_dir / f"{key}.json", record)

    def mark_failed(self, message_id: str, error: str, *, recipients: list[str] | None = None,
                    alert: bool = False) -> None:
        """Dead-letter a queued message. `alert` records that on_dead_letter is still owed."""
        with self.lock.hold():
            key, record = self._load_queued(message_id)
            record.update(state=FAILED, attempts=record["attempts"] + 1, last_error=error,
                          failed_at=self.now().isoformat(), next_attempt_at=None,
                          alert_pending=alert)
            if recipients:
                record["pending_to"] = list(recipients)
            self._move(key, record, self.queue_dir, self.failed_dir)

    def mark_alerted(self, message_id: str) -> None:
        with self.lock.hold():
            key = _key(normalize_id(message_id))
            path = self.failed_dir / f"{key}.json"
            record = read_json(path)
            if record is not None and record.get("alert_pending"):
                record["alert_pending"] = False
                atomic_write_json(path, record)

    def retry(self, message_id: str) -> dict:
        """Put a dead letter (or a queued message waiting for its next attempt) in line now.

        The retry window starts again from now. Raises UnknownMessage for an id the outbox does
        not hold, and OutboxError for one already sent (a resend is not made by accident).
        """
        message_id = normalize_id(message_id)
        key = _key(message_id)
        with self.lock.hold():
            found = self._find(key)
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
                self._move(key, record, self.failed_dir, self.queue_dir)
            else:
                atomic_write_json(self.queue_dir / f"{key}.json", record)
        return self._summary(record)

    # -- reading for people ----------------------------------------------------------------------

    def list(self, failed: bool = False) -> list[dict]:
        """The queue (default) or the dead letters, oldest first, as plain dicts."""
        folder = self.failed_dir if failed else self.queue_dir
        with self.lock.hold():
            records = [rec for _, rec in self._records(folder)]
        return [self._summary(rec) for rec in sorted(records, key=lambda r: r["created_at"])]

    def list_sent(self) -> list[dict]:
        """Delivered messages (all months kept under sent/), oldest delivery first."""
        with self.lock.hold():
            months = sorted(self.sent_dir.iterdir()) if self.sent_dir.is_dir() else []
            records = [rec for month in months for _, rec in self._records(month)]
        return [self._summary(rec) for rec in sorted(records, key=lambda r: r.get("sent_at") or "")]

    def get(self, message_id: str) -> dict | None:
        """One message in any state (queued, sent or failed), or None."""
        with self.lock.hold():
            found = self._find(_key(normalize_id(message_id)))
        return None if found is None else self._summary(found[1])

    @staticmethod
    def _summary(record: dict) -> dict:
        summary = {name: record.get(name) for name in LIST_FIELDS}
        for extra in ("pending_to", "sent_at", "failed_at", "org"):
            if record.get(extra):
                summary[extra] = record[extra]
        return summary

    # -- files -----------------------------------------------------------------------------------

    def _records(self, folder: Path) -> Iterator[tuple[Path, dict]]:
        if not folder.is_dir():
            return
        for path in sorted(folder.glob("*.json")):
            try:
                record = read_json(path)
            except ValueError:
                # Atomic writes make this a hand edit; skip it rather than stall the whole queue.
                log.error("outbox: unreadable record %s skipped", path)
                continue
            if record is not None:
                yield path, record

    def forget_sent(self, message_id: str) -> bool:
        """Remove the stored copy of a sent message (retention purge); True if there was one."""
        key = _key(normalize_id(message_id))
        with self.lock.hold():
            found = self._find(key)
            if found is None or not found[0].is_relative_to(self.sent_dir):
                return False
            for suffix in (".eml", ".json"):
                (found[0] / f"{key}{suffix}").unlink(missing_ok=True)
        return True

    def forget(self, message_id: str) -> bool:
        """Remove a message in any state, queued ones included (an organisation purged whole)."""
        key = _key(normalize_id(message_id))
        with self.lock.hold():
            removed = False
            while (found := self._find(key)) is not None:
                for suffix in (".json", ".eml"):
                    (found[0] / f"{key}{suffix}").unlink(missing_ok=True)
                fsync_dir(found[0])
                removed = True
        return removed

    def _find(self, key: str) -> tuple[Path, dict] | None:
        # The queue first: after a crash mid-move a record may also exist in sent/ or failed/,
        # and the queue record is the one that counts.
        candidates = [self.queue_dir, self.failed_dir]
        if self.sent_dir.is_dir():
            candidates += sorted(self.sent_dir.iterdir(), reverse=True)
        for folder in candidates:
            record = read_json(folder / f"{key}.json")
            if record is not None:
                return folder, record
        return None

    def _load_queued(self, message_id: str) -> tuple[str, dict]:
        message_id = normalize_id(message_id)
        key = _key(message_id)
        record = read_json(self.queue_dir / f"{key}.json")
        if record is None:
            raise UnknownMessage(f"{message_id}: not in the outbox queue")
        return key, record

    def _ensure(self, folder: Path) -> None:
        # One level at a time: mkdir(parents=True) leaves the parents at default permissions.
        path = ensure_dir(ensure_dir(self.root.parent) / self.root.name)
        for part in folder.relative_to(self.root).parts:
            path = ensure_dir(path / part)

    def _move(self, key: str, record: dict, source: Path, target: Path) -> None:
        """Write the record in `target`, then drop it from `source` (the commit point)."""
        self._ensure(target)
        eml = target / f"{key}.eml"
        if not eml.exists():
            os.link(source / f"{key}.eml", eml)
        atomic_write_json(target / f"{key}.json", record)
        (source / f"{key}.json").unlink()
        (source / f"{key}.eml").unlink(missing_ok=True)
        fsync_dir(source)

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
