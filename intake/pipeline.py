"""Drain the spool: each message through intake and then the responders, segment by segment.

A segment is removed only once every message in it has been stored and reacted to, so a crash
anywhere means the segment is processed again; intake and responders are idempotent, so nothing
is stored or sent twice. A message that keeps failing is shunted for a human, never dropped;
its attempts are counted on disk before each try (store.spool.Tries), so one that kills the
worker is shunted too instead of being retried forever. `leakline spool retry` brings it back.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

from intake.processor import Intake, IntakeResult
from store.spool import Spool, SpoolEntry, SpoolError, Tries

log = logging.getLogger("leakline.pipeline")

Reactor = Callable[[IntakeResult], None]
# The intake and reactors of each organisation a spooled message is for (leakline.app.App.route):
# a message sent to two organisations' addresses becomes a case in each.
Route = Callable[[SpoolEntry], list[tuple[Intake, list[Reactor]]]]
MAX_ATTEMPTS = 3


class Pipeline:
    def __init__(self, spool: Spool, intake: Intake | None, reactors: list[Reactor] | None = None,
                 route: Route | None = None):
        self.spool = spool
        self.intake = intake
        self.reactors = list(reactors or [])
        # `reactors` react to every message, after its organisation's own (those of `route`).
        self.route: Route = route or (lambda entry: [(self.intake, [])])
        self._drain_lock = threading.Lock()

    def drain(self) -> int:
        """Process everything spooled; return how many messages were handled."""
        with self._drain_lock:
            return sum(self._drain_segment(segment) for segment in self.spool.segments())

    def _drain_segment(self, segment: Path) -> int:
        tries = self.spool.tries(segment)
        done = failed = 0
        try:
            # One message in memory at a time: a segment may hold many large ones.
            for entry in self.spool.read(segment):
                if tries.done(entry.spool_id):
                    continue  # handled in an earlier pass, before another message failed
                ok = self._handle(entry, tries)
                done += ok
                failed += not ok
        except SpoolError as exc:
            # Cannot be read back: aside whole for a human (what came before it was processed).
            log.error("spool segment %s is damaged (%s): moved to %s", segment.name, exc,
                      self.spool.shunt)
            self.spool.shunt_damaged_segment(segment, str(exc))
            return done
        except OSError as exc:
            log.error("spool segment %s unreadable: %s; will retry", segment.name, exc)
            return done
        if not failed:
            self.spool.remove(segment)
        return done

    def _handle(self, entry: SpoolEntry, tries: Tries) -> bool:
        prior = tries.attempts(entry.spool_id)
        if prior >= MAX_ATTEMPTS:
            # Counted before each try: a message that killed the worker shows up here.
            reason = tries.last_error(entry.spool_id) or "the worker stopped while processing it"
            return self._shunt(entry, tries, reason, prior)
        try:
            attempt = tries.begin(entry.spool_id)
        except OSError as exc:
            log.error("cannot count the attempt on %s (%s): not trying it now", entry.spool_id, exc)
            return False
        try:
            for intake, reactors in self.route(entry):
                result = intake.process(entry)
                for react in [*reactors, *self.reactors]:
                    react(result)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.exception("processing %s failed (attempt %d)", entry.spool_id, attempt)
            tries.failed(entry.spool_id, error)
            return self._shunt(entry, tries, error, attempt) if attempt >= MAX_ATTEMPTS else False
        tries.finish(entry.spool_id)
        return True

    def _shunt(self, entry: SpoolEntry, tries: Tries, reason: str, attempts: int) -> bool:
        try:
            self.spool.shunt_entry(entry, reason, attempts)
        except OSError as exc:
            log.error("could not shunt %s (%s): it stays in the spool", entry.spool_id, exc)
            return False
        log.error("shunted %s after %d attempts to %s for a human (`leakline spool list`)",
                  entry.spool_id, attempts, self.spool.shunt)
        tries.finish(entry.spool_id)
        return True
