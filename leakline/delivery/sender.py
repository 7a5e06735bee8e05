"""The sender worker of `leakline serve`: takes due messages from the outbox and delivers them.

Retry policy: a temporary failure waits 30 s × 2^(n-1) (n = failures so far), capped at 1 h,
±20 % jitter so a recovering relay is not hit by the whole queue at once; the last attempt is at
5 days after the message was queued (or manually retried), after which it is dead-lettered. A
permanent failure is dead-lettered at once.

Deliveries are recorded in batches: the due items are handed to the transport one by one, the
transport makes them durable at once (`flush()`, e.g. one syncfs for a Maildir), and then one
unit of work records every outcome (the outbox moves and, through `on_sent(item)`, each case's
`mail_sent`), so a batch costs one commit, not one per mail. `on_sent` is bookkeeping: if it
raises, the mail has still gone and is marked sent. Where organisations have stores of their
own, `units_for(item)` names the store whose unit records an item (its organisation's, which the
outbox's joins): one commit per batch and organisation.

`on_dead_letter(item)` is called once per dead-lettered item, with `item.kind`, `item.id`,
`item.case_id`, `item.subject` and `item.last_error`. The caller queues the alert to the privacy
officer, and must skip `item.kind == "deadletter_alert"` (never alert about an alert). Should the
process die between dead-lettering and the end of the callback, the callback runs again at the
next start; give the alert a Message-ID derived from `item.id` and enqueue's dedup keeps it single.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from leakline.delivery.transport import PermanentFailure, TemporaryFailure, Transport
from leakline.store.outbox import Item, Outbox, UnknownMessage
from leakline.store.units import Units

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    first: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    jitter: float = 0.2
    give_up_after: timedelta = timedelta(days=5)

    def delay(self, failures: int, rng: random.Random) -> timedelta:
        doublings = min(max(failures - 1, 0), 32)  # past the cap anyway; keeps timedelta in range
        base = min(self.first * 2 ** doublings, self.cap)
        return base * rng.uniform(1 - self.jitter, 1 + self.jitter)


@dataclass
class RunCounts:
    sent: int = 0
    retried: int = 0
    failed: int = 0


BATCH = 200  # deliveries recorded per unit of work (an SMTP relay's at most BATCH resends)


class SenderWorker:
    def __init__(self, outbox: Outbox, transport: Transport, now: Callable[[], datetime],
                 on_dead_letter: Callable[[Item], None] | None = None,
                 rng: random.Random | None = None, *, policy: RetryPolicy = RetryPolicy(),
                 max_idle: float = 30.0, on_sent: Callable[[Item], None] | None = None,
                 batch: int = BATCH, units_for: Callable[[Item], Units] | None = None):
        self.outbox = outbox
        self.transport = transport
        self.now = now
        self.on_dead_letter = on_dead_letter
        self.on_sent = on_sent
        self.units_for = units_for or (lambda item: outbox.units)
        self.batch = batch
        self.rng = rng if rng is not None else random.Random()
        self.policy = policy
        self.max_idle = max_idle  # also how soon a CLI `outbox retry` in another process is seen
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._owner: threading.Thread | None = None
        self._alerts_recovered = False
        self._upcoming: list[datetime | None] | None = None  # next attempts the last pass saw

    async def run_once(self, now: datetime | None = None) -> RunCounts:
        """Deliver everything due at `now` (default: the clock), one attempt each."""
        now = self.now() if now is None else now
        counts = RunCounts()
        self._recover_alerts()
        due, later = self.outbox.due_and_next(now)
        self._upcoming = [later]
        for start in range(0, len(due), self.batch):
            outcomes = [(item, await self._attempt(item)) for item in due[start:start + self.batch]]
            flush = getattr(self.transport, "flush", None)
            if flush is not None:
                try:
                    flush()
                except OSError as exc:  # not durable: every mail of the batch is tried again
                    log.error("outbox: delivered mail could not be flushed (%s)", exc)
                    outcomes = [(item, TemporaryFailure(f"flush: {exc}")) for item, _ in outcomes]
            dead = self._record(outcomes, now, counts)
            for item in dead:
                self._alert(item)
        return counts

    async def _attempt(self, item: Item) -> Exception | None:
        """Hand one item to the transport: None when it went, else the failure."""
        try:
            await self.transport.deliver(item)
        except (PermanentFailure, TemporaryFailure) as exc:
            return exc
        except Exception as exc:  # a bug, not the relay: keep the message and the worker alive
            log.exception("outbox: delivering %s raised", item.id)
            return TemporaryFailure(f"internal error: {exc!r}")
        return None

    def _record(self, outcomes: list[tuple[Item, Exception | None]], now: datetime,
                counts: RunCounts) -> list[Item]:
        """Every outcome of a batch in one unit of work (one per store: `units_for`); returns
        the items to alert about."""
        dead: list[Item] = []
        groups: dict[int, tuple[Units, list]] = {}
        for item, failure in outcomes:
            units = self.units_for(item)
            groups.setdefault(id(units), (units, []))[1].append((item, failure))
        for units, group in groups.values():
            with units.unit():
                for item, failure in group:
                    if failure is None:
                        self._sent(item)
                        counts.sent += 1
                    elif isinstance(failure, PermanentFailure):
                        dead += self._dead_letter(item, str(failure), failure.recipients)
                        counts.failed += 1
                    else:
                        outcome = self._retry_later(item, now, str(failure), failure.recipients,
                                                    dead)
                        setattr(counts, outcome, getattr(counts, outcome) + 1)
        return dead

    def _sent(self, item: Item) -> None:
        try:
            self.outbox.mark_sent(item.id)
        except UnknownMessage:
            log.warning("outbox: %s left the queue while it was being sent", item.id)
            return
        log.info("outbox: sent %s (%s, case %s)", item.id, item.kind, item.case_id)
        if self.on_sent is not None:
            try:
                self.on_sent(item)
            except Exception:
                # The mail has gone: a failure here must not make it go again.
                log.exception("outbox: %s sent, but its case could not record it", item.id)

    def _retry_later(self, item: Item, now: datetime, error: str,
                     recipients: tuple[str, ...], dead: list[Item]) -> str:
        deadline = item.queued_at + self.policy.give_up_after
        if now >= deadline:
            dead += self._dead_letter(item, f"gave up after {self.policy.give_up_after.days} "
                                            f"days: {error}", recipients)
            return "failed"
        next_at = min(now + self.policy.delay(item.attempts + 1, self.rng), deadline)
        if self._upcoming is not None:
            self._upcoming.append(next_at)
        self.outbox.mark_retry(item.id, error, next_at, recipients=list(recipients) or None)
        log.warning("outbox: %s not delivered (%s); next attempt %s", item.id, error,
                    next_at.isoformat())
        return "retried"

    def _dead_letter(self, item: Item, error: str, recipients: tuple[str, ...]) -> list[Item]:
        """Dead-letter it (alert owed, on record); the alert itself comes after the commit."""
        alert = self.on_dead_letter is not None
        self.outbox.mark_failed(item.id, error, recipients=list(recipients) or None, alert=alert)
        log.error("outbox: %s dead-lettered: %s", item.id, error)
        if not alert:
            return []
        return [dataclasses.replace(item, last_error=error,
                                    recipients=recipients or item.recipients)]

    def _alert(self, item: Item) -> None:
        try:
            self.on_dead_letter(item)
        except Exception:
            log.exception("outbox: dead-letter callback for %s raised; retried at next start",
                          item.id)
            return
        self.outbox.mark_alerted(item.id)

    def _recover_alerts(self) -> None:
        if self._alerts_recovered or self.on_dead_letter is None:
            return
        self._alerts_recovered = True
        for item in self.outbox.pending_alerts():
            self._alert(item)

    # -- the long-running loop -----------------------------------------------------------------

    def wake(self) -> None:
        """Deliver newly queued mail now; callable from any thread (the SMTP server's included)."""
        loop = self._loop
        if loop is None or threading.current_thread() is self._owner:
            self._wake.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop_event: asyncio.Event) -> None:
        """Deliver until `stop_event` is set; sleeps until the next due item, a wake() or max_idle."""
        self._loop = asyncio.get_running_loop()
        self._owner = threading.current_thread()
        try:
            while not stop_event.is_set():
                self._wake.clear()
                try:
                    await self.run_once()
                    idle = self._idle_seconds()
                except Exception:  # the worker must outlive a bad disk or a hand-edited record
                    log.exception("outbox: sender pass failed; trying again")
                    idle = self.max_idle
                await self._sleep(stop_event, idle)
        finally:
            self._loop = self._owner = None

    def _idle_seconds(self) -> float:
        # What the pass saw (not a second read of the whole queue); what was queued meanwhile
        # woke the sender anyway.
        seen = [t for t in self._upcoming or [] if t is not None]
        upcoming = min(seen, default=None) if self._upcoming is not None \
            else self.outbox.next_attempt_at()
        if upcoming is None:
            return self.max_idle
        # A small floor so an item that cannot leave the queue does not spin the loop.
        return min(max((upcoming - self.now()).total_seconds(), 0.05), self.max_idle)

    async def _sleep(self, stop_event: asyncio.Event, seconds: float) -> None:
        waiters = [asyncio.ensure_future(stop_event.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
