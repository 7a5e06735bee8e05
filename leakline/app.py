"""Wiring: the store, spool, intake and responders built from one Config (no globals)."""

from __future__ import annotations

import logging
import os
import stat
from datetime import datetime, timezone
from typing import Callable

from functools import cached_property

from leakline.config import Config
from leakline.listing import listing_fields
from store.cases import Store
from store.files import ensure_dir
from store.outbox import Outbox
from store.spool import Spool

Clock = Callable[[], datetime]
log = logging.getLogger("leakline.app")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class DataDirError(Exception):
    """data_dir is missing, unwritable or open to other users."""


def check_data_dir(path) -> None:
    """Refuse a data_dir that other users can read: it holds the very data that leaked."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(mode):
        raise DataDirError(f"data_dir {path} is not a directory")
    if mode & 0o077:
        raise DataDirError(
            f"data_dir {path} is open to other users (mode {stat.S_IMODE(mode):o}); "
            f"fix it with: chmod -R go-rwx {path}")


class App:
    def __init__(self, config: Config, now: Clock = utc_now):
        self.config = config
        self.now = now
        self.data_dir = config.service.data_dir
        self.store = Store(self.data_dir, config.service.case_prefix, now=now,
                           summarize=listing_fields)
        self.spool = Spool(self.data_dir)
        self.outbox = Outbox(self.data_dir, self.store.lock, now, self.store.units)
        self.sender = None  # built by background_tasks, in the process that delivers
        # Where the sender runs in another process (serve): how to tell it mail was queued.
        self.on_mail_queued: Callable[[], None] | None = None

    # Built when first used: a command that only reads (`cases list`) imports none of it.
    @cached_property
    def intake(self):
        from intake.processor import Intake

        return Intake(self.store, self.config)

    @cached_property
    def mailer(self):
        from responders.mailer import Mailer

        return Mailer(self.store, self.outbox, self.config, self.now, wake=self._wake_sender)

    @cached_property
    def responder(self):
        from responders.react import Responder

        return Responder(self.store, self.mailer, self.config, self.now)

    @cached_property
    def scheduler(self):
        from responders.scheduler import Scheduler

        return Scheduler(self.store, self.responder, self.config, self.now)

    @cached_property
    def pipeline(self):
        from intake.pipeline import Pipeline

        return Pipeline(self.spool, self.intake, reactors=[self.responder])

    def _wake_sender(self) -> None:
        if self.sender is not None:
            self.sender.wake()
        elif self.on_mail_queued is not None:
            self.on_mail_queued()

    def transport(self):
        """The configured transport; ConfigError (e.g. the password variable unset) is clear."""
        from responders.transport import transport_for

        return transport_for(self.config)

    def on_dead_letter(self, item) -> None:
        """Alert the privacy officers, once, and record the failure in its case.

        The alert first: should the case not save, the sender calls this again at the next
        start, and the alert's stable Message-ID keeps it single.
        """
        from responders.mailer import record_delivery

        if item.kind != "deadletter_alert":  # never alert about an alert
            self._alert_dead_letter(item)
        if item.case_id and self.store.exists(item.case_id):
            record_delivery(self.store, item.case_id, item.id, "failed", item.last_error)

    def _alert_dead_letter(self, item) -> None:
        from responders.alerts import render_deadletter_alert
        from responders.compose import compose

        officers = [m.email for m in self.config.managers_with("privacy_officer")]
        if not officers:
            return
        # The item may predate mark_failed, which counted the last attempt: the record has it.
        attempts = (self.outbox.get(item.id) or {}).get("attempts", item.attempts)
        rendered = render_deadletter_alert(self.config, message_id=item.id, to=list(item.recipients),
                                           subject=item.subject, error=item.last_error or "",
                                           attempts=attempts, case_id=item.case_id,
                                           first_tried=item.created_at)
        out = compose(kind="deadletter_alert", to=officers, subject=rendered.subject,
                      text=rendered.text, html=rendered.html, config=self.config,
                      case_id=item.case_id, now=self.now(),
                      message_id=self.mailer.ids().stable("deadletter", item.id))
        self.outbox.enqueue_bytes(out.data, message_id=out.message_id,
                                  envelope_from=out.envelope_from,
                                  envelope_to=list(out.envelope_to), case_id=item.case_id,
                                  kind=out.kind, subject=out.subject)

    def prepare(self) -> None:
        check_data_dir(self.data_dir)
        ensure_dir(self.data_dir)
        self.store.prepare()
        self.store.message_id_key()  # made at the first start, before any mail is signed
        self.spool.prepare()

    def background_tasks(self, stop) -> list:
        """Coroutines the worker process runs beside intake: the outbox sender, the scheduler."""
        from responders.sender import SenderWorker

        self.sender = SenderWorker(self.outbox, self.transport(), self.now,
                                   on_dead_letter=self.on_dead_letter, on_sent=self.record_sent)
        return [self.sender.run(stop), self.scheduler.run(stop)]

    def record_sent(self, item) -> None:
        """`sent` in the message's case, with its event (in the sender's unit of work)."""
        from responders.mailer import record_delivery

        if item.case_id and self.store.exists(item.case_id):
            record_delivery(self.store, item.case_id, item.id, "sent")
