"""Drain the spool: each segment's messages through intake and the responders, one commit a batch.

A segment (what the listener committed together) is the unit of work: its messages are parsed
and judged outside the data lock, then stored and reacted to in one unit (store/unit.py), which
also removes the segment; so all their cases, keys, evidence, outbox entries and audit events
are committed with one fsync, or none of them is. A segment larger than a batch (BATCH_BYTES,
BATCH_MESSAGES) is done in several units, the last one removing it. Where each organisation
has a store of its own (`route`), a batch is one unit per organisation it has messages for, the
last one removing the segment: a crash between them means the batch is processed again, and
what was committed is found as a duplicate.

A crash anywhere means the uncommitted part is processed again; intake and responders are
idempotent, so nothing is stored or sent twice. Attempts are counted on disk before each batch
(store.spool.Tries): a batch that failed or killed the worker is tried again one message per
unit, so the message at fault is found; one that keeps failing is shunted for a human, never
dropped. `leakline spool retry` brings it back.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Callable, Iterator

from leakline.intake.processor import Intake, IntakeResult
from leakline.store.cases import Store
from leakline.store.spool import Spool, SpoolEntry, SpoolError, Tries

log = logging.getLogger("leakline.pipeline")

Reactor = Callable[[IntakeResult], None]
# The intake and reactors of each organisation a spooled message is for (leakline.app.App.route):
# a message sent to two organisations' addresses becomes a case in each.
Route = Callable[[SpoolEntry], list[tuple[Intake, list[Reactor]]]]
MAX_ATTEMPTS = 3
BATCH_MESSAGES = 200
BATCH_BYTES = 4 << 20  # raw bytes of one batch: bounds what a batch holds in memory


class Pipeline:
    def __init__(self, spool: Spool, intake: Intake | None, reactors: list[Reactor] | None = None,
                 route: Route | None = None, checkpoint: Callable[[], None] | None = None):
        self.spool = spool
        self.intake = intake
        self.reactors = list(reactors or [])
        # `reactors` react to every message, after its organisation's own (those of `route`).
        self.route: Route = route or (lambda entry: [(self.intake, [])])
        # When the spool is empty: flush what units wrote behind their journals.
        self.checkpoint = checkpoint or (lambda: self.intake.store.checkpoint())
        self._drain_lock = threading.Lock()

    def drain(self) -> int:
        """Process everything spooled; return how many messages were handled."""
        with self._drain_lock:
            handled = sum(self._drain_segment(segment) for segment in self.spool.segments())
            if not self.spool.segments():
                try:
                    self.checkpoint()  # idle: flush what was written behind the journal
                except OSError as exc:
                    log.error("store checkpoint failed (%s); the journal keeps its units", exc)
            return handled

    def _drain_segment(self, segment: Path) -> int:
        tries = self.spool.tries(segment)
        try:
            if tries.tried():
                return self._one_by_one(segment, tries)
            return self._batches(segment, tries)
        except SpoolError as exc:
            # Cannot be read back: aside whole for a human (what came before it was processed).
            log.error("spool segment %s is damaged (%s): moved to %s", segment.name, exc,
                      self.spool.shunt)
            self.spool.shunt_damaged_segment(segment, str(exc))
            return 0
        except OSError as exc:
            log.error("spool segment %s unreadable: %s; will retry", segment.name, exc)
            return 0

    # -- batches ------------------------------------------------------------------------------
    def _batches(self, segment: Path, tries: Tries) -> int:
        done = 0
        for batch, last in _batched(self.spool.read(segment)):
            ids = [entry.spool_id for entry in batch]
            try:
                tries.begin_all(ids)
            except OSError as exc:
                log.error("cannot count the attempts on %s (%s): not trying it now",
                          segment.name, exc)
                return done
            try:
                self._commit(batch, segment if last else None)
            except Exception as exc:
                log.exception("batch of %d message(s) of %s failed; each is tried alone next",
                              len(batch), segment.name)
                tries.failed_all(ids, f"{type(exc).__name__}: {exc}")
                return done
            done += len(batch)
            if not last:
                for spool_id in ids:
                    tries.finish(spool_id)
        return done

    def _commit(self, batch: list[SpoolEntry], segment: Path | None) -> None:
        """Prepare every message outside the lock (each parsed once, whatever the number of
        organisations it is for), then store and react in one unit per organisation's store."""
        units: dict[int, tuple[Store, list]] = {}
        for entry in batch:
            parsed = None
            for intake, reactors in self.route(entry):
                prepared = intake.prepare(entry, parsed)
                parsed = prepared.parsed
                units.setdefault(id(intake.store), (intake.store, []))[1].append(
                    (intake, reactors, prepared))
        if not units and segment is not None:
            self.spool.remove(segment)
        for number, (store, work) in enumerate(units.values(), 1):
            with store.unit_of_work() as uow:
                for intake, reactors, prepared in work:
                    result = intake.record(prepared)
                    for react in [*reactors, *self.reactors]:
                        react(result)
                if segment is not None and number == len(units):
                    # The segment leaves with what its messages made, or not at all.
                    for path in self.spool.files_of(segment):
                        uow.delete(os.path.relpath(path, store.data_dir))

    # -- one message per unit, after a batch failed --------------------------------------------
    def _one_by_one(self, segment: Path, tries: Tries) -> int:
        done = failed = 0
        # One message in memory at a time: a segment may hold many large ones.
        for entry in self.spool.read(segment):
            if tries.done(entry.spool_id):
                continue  # handled in an earlier pass, before another message failed
            ok = self._handle(entry, tries)
            done += ok
            failed += not ok
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
            self._commit([entry], None)
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


def _batched(entries: Iterator[SpoolEntry]) -> Iterator[tuple[list[SpoolEntry], bool]]:
    """Batches of at most BATCH_MESSAGES and about BATCH_BYTES; `last` marks the final one."""
    batch: list[SpoolEntry] = []
    size = 0
    for entry in entries:
        if batch and (len(batch) >= BATCH_MESSAGES or size + len(entry.raw) > BATCH_BYTES):
            yield batch, False
            batch, size = [], 0
        batch.append(entry)
        size += len(entry.raw)
    yield batch, True
