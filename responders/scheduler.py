"""Timers of `leakline serve`: escalation until acknowledged, reminders before each deadline.

Each pass looks at the open cases at `now`; what is due is queued once (keys in case["sent"]),
so a restart neither repeats nor forgets a reminder.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import date, datetime, timedelta
from typing import Callable, Iterable

from leakline.config import Config
from leakline.process.reminders import due_reminders
from leakline.responders.alerts import render_deadline_reminder
from leakline.responders.react import Responder
from leakline.store.cases import CaseNotFound, Store, StoreDamaged

log = logging.getLogger("leakline.scheduler")
PASS_SECONDS = 20.0
INTAKE_GRACE = timedelta(minutes=10)
CLOSE_COMMAND = 'leakline phase close {case_id} {phase} --step {step} --note "..." --by YOUR_EMAIL'


CHUNK = 50  # cases a unit of work: one commit for them, the data lock held for no longer


class Scheduler:
    def __init__(self, store: Store, responder: Responder, config: Config,
                 now: Callable[[], datetime]):
        self.store = store
        self.responder = responder
        self.config = config
        self.now = now
        self._said: dict[str, tuple] = {}  # case id -> what was logged of its trouble, and when

    def run_once(self) -> int:
        """Queue whatever is due now; returns how many cases changed."""
        rows = self.store.summaries("open")
        changed = 0
        for start in range(0, len(rows), CHUNK):
            with self.store.unit_of_work():
                changed += sum(self._pass(row["id"]) for row in rows[start:start + CHUNK])
        return changed

    def _pass(self, case_id: str) -> bool:
        events: list[dict] = []

        def tick(case: dict) -> list[dict]:
            events.extend(self._tick(case))
            return events
        try:
            self.store.update(case_id, tick)
        except CaseNotFound:
            return False
        except Exception as exc:  # one broken case must not hold up the escalation of the others
            self._trouble(case_id, exc)
            return False
        self._said.pop(case_id, None)
        return bool(events)

    def _trouble(self, case_id: str, exc: Exception) -> None:
        """Said once, in one line, until it changes: a damaged case every 20 s is noise."""
        path = getattr(exc, "path", None)
        try:
            stamp = os.stat(path).st_mtime_ns if path else None
        except OSError:
            stamp = None
        seen = (type(exc).__name__, str(exc), stamp)
        if self._said.get(case_id) == seen:
            return
        self._said[case_id] = seen
        if isinstance(exc, (StoreDamaged, OSError)):
            log.error("scheduler: case %s skipped until it changes: %s", case_id, exc)
        else:  # a bug: its traceback, once
            log.exception("scheduler: case %s skipped until it changes", case_id)

    def _tick(self, case: dict) -> list[dict]:
        if case.get("status") != "open" or self._awaiting_intake(case):
            return []
        return self.responder.escalate(case) + self._deadline_reminders(case)

    def _awaiting_intake(self, case: dict) -> bool:
        """Stored but not reacted to yet: the pipeline escalates it with its flags and category.

        Only if that never happens (a reaction that keeps failing) does the scheduler step in.
        """
        if "assessed" in (case.get("sent") or {}):
            return False
        received = datetime.fromisoformat(case["received_at"])
        return self.now() - received < INTAKE_GRACE

    def _deadline_reminders(self, case: dict) -> list[dict]:
        if not case.get("deadlines"):
            return []
        now = self.now()
        tz = self.config.service.tz
        events = []
        officers = self.config.officer_addresses()
        for reminder in due_reminders(case["id"], case["deadlines"], now=now, tz=tz, sent=case["sent"]):
            deadline = next(d for d in case["deadlines"] if d["kind"] == reminder.kind)
            phase, _, step = (deadline.get("step") or "").partition(".")
            rendered = render_deadline_reminder(
                case, self.config, step=reminder.kind, due=date.fromisoformat(reminder.due[:10]),
                today=now.astimezone(tz).date(), now=now,
                command=CLOSE_COMMAND.format(case_id=case["id"], phase=phase, step=step))
            events.append(self.responder.mailer.send(case, kind="deadline", to=officers,
                                                     rendered=rendered, step=reminder.key))
            case["sent"][reminder.key] = now.isoformat()
        return events

    async def run(self, stop: asyncio.Event) -> None:
        await every_pass(self.run_once, stop)


class ServiceScheduler:
    """The passes of `leakline serve`: each organisation's Scheduler in turn (`schedulers` gives
    those that have data), one failing organisation never holding up the others."""

    def __init__(self, schedulers: Callable[[], Iterable[Scheduler]]):
        self.schedulers = schedulers

    def run_once(self) -> int:
        changed = 0
        for scheduler in self.schedulers():
            try:
                changed += scheduler.run_once()
            except Exception:
                log.exception("scheduler: organisation %s skipped", scheduler.config.org.id)
        return changed

    async def run(self, stop: asyncio.Event) -> None:
        await every_pass(self.run_once, stop)


async def every_pass(run_once: Callable[[], int], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            await loop.run_in_executor(None, run_once)
        except Exception:
            log.exception("scheduler pass failed; trying again")
        try:
            await asyncio.wait_for(stop.wait(), PASS_SECONDS)
        except asyncio.TimeoutError:
            pass

