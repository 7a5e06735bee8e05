"""Drain the spool: each message through intake and then the responders, segment by segment.

A segment is removed only once every message in it has been stored and reacted to, so a crash
anywhere means the segment is processed again; intake and responders are idempotent, so nothing
is stored or sent twice. A message that keeps failing is shunted for a human, never dropped.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from intake.processor import Intake, IntakeResult
from store.spool import Spool, SpoolEntry, SpoolError

log = logging.getLogger("leakline.pipeline")

Reactor = Callable[[IntakeResult], None]
MAX_ATTEMPTS = 3


class Pipeline:
    def __init__(self, spool: Spool, intake: Intake, reactors: list[Reactor] | None = None):
        self.spool = spool
        self.intake = intake
        self.reactors = list(reactors or [])
        self._failures: dict[str, int] = {}
        self._drain_lock = threading.Lock()

    def drain(self) -> int:
        """Process everything spooled; return how many messages were handled."""
        handled = 0
        with self._drain_lock:
            for segment in self.spool.segments():
                done = failed = 0
                try:
                    # One message in memory at a time: a segment may hold many large ones.
                    for entry in self.spool.read(segment):
                        ok = self._handle(entry)
                        done += ok
                        failed += not ok
                except (SpoolError, OSError, ValueError) as exc:
                    log.error("spool segment %s unreadable: %s", segment.name, exc)
                    continue
                handled += done
                if not failed:
                    self.spool.remove(segment)
        return handled

    def _handle(self, entry: SpoolEntry) -> bool:
        try:
            result = self.intake.process(entry)
            for react in self.reactors:
                react(result)
        except Exception as exc:
            attempts = self._failures.get(entry.spool_id, 0) + 1
            self._failures[entry.spool_id] = attempts
            log.exception("processing %s failed (attempt %d)", entry.spool_id, attempts)
            if attempts < MAX_ATTEMPTS:
                return False
            self.spool.shunt_entry(entry, f"{type(exc).__name__}: {exc}")
            log.error("shunted %s to %s for a human", entry.spool_id, self.spool.shunt)
        self._failures.pop(entry.spool_id, None)
        return True
