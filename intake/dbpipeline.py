"""Drain the spool of a shared database: what intake/pipeline.py does for the file spool, with
claims instead of a segment file, so that any number of nodes drain one spool.

A pass claims a batch (store/pg/spool.py: rows no other live node holds, the attempt counted
and committed), prepares its messages outside any transaction (parse, trust, DKIM), then
stores and reacts to all of them in ONE transaction that locks the rows again, holds each
organisation's row (in id order: two nodes never wait on each other in a circle), and deletes
the rows: every case, key, evidence, outbox entry and audit event of the batch commits
together with the removal of its messages from the spool, or none does. A message claimed by
a node that died is taken over by the next pass of any node; one that another node stored
meanwhile is found as a duplicate (the same raw bytes, or Message-ID, sender and body).

A batch that fails is tried again one message at a time; a message tried MAX_ATTEMPTS times
is shunted for a person (`leakline spool list|retry`). The database going away is not the
message's fault: the attempt is given back, and the pass waits for the next.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Callable

from leakline.intake.pipeline import BATCH_BYTES, BATCH_MESSAGES, MAX_ATTEMPTS, Route
from leakline.store.pg.db import Database, DatabaseUnavailable
from leakline.store.pg.spool import Claimed, PgSpool

log = logging.getLogger("leakline.pipeline")
QUIET_SECONDS = 30.0  # the database being away is said once in this long, not every second


class DbPipeline:
    def __init__(self, db: Database, spool: PgSpool, route: Route, node: Callable[[], str],
                 batch: int = BATCH_MESSAGES):
        self.db = db
        self.spool = spool
        self.route = route
        self.node = node
        self.batch = batch
        self._said = 0.0

    def drain(self) -> int:
        """Process everything claimable now; how many messages were stored."""
        handled = 0
        try:
            while True:
                claimed = self.spool.claim(self.node(), self.batch, BATCH_BYTES, MAX_ATTEMPTS)
                if not claimed:
                    return handled
                handled += self._process(claimed)
        except DatabaseUnavailable as exc:
            self._unavailable(exc)
            return handled

    def _process(self, claimed: list[Claimed]) -> int:
        ids = [c.entry.spool_id for c in claimed]
        node = self.node()
        try:
            done = self._commit(claimed, node)
        except DatabaseUnavailable as exc:
            with contextlib.suppress(DatabaseUnavailable):
                self.spool.give_back(ids, node)
            raise exc
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.exception("batch of %d message(s) failed; each is tried alone next", len(ids))
            if len(claimed) == 1 and claimed[0].attempts >= MAX_ATTEMPTS:
                self.spool.shunt_entry(ids[0], error)
                log.error("shunted %s after %d attempts for a human (`leakline spool list`)",
                          ids[0], claimed[0].attempts)
            else:
                self.spool.failed(ids, error, node)
            return 0
        return done

    def _commit(self, claimed: list[Claimed], node: str) -> int:
        work = []
        for item in claimed:
            parsed = None
            for intake, reactors in self.route(item.entry):
                prepared = intake.prepare(item.entry, parsed)
                parsed = prepared.parsed
                work.append((intake, reactors, prepared))
        with self.db.transaction() as tx, contextlib.ExitStack() as units:
            mine = self.spool.relock(tx, [c.entry.spool_id for c in claimed], node)
            stores = {intake.store.org: intake.store for intake, _, p in work
                      if p.entry.spool_id in mine}
            for org in sorted(stores):
                units.enter_context(stores[org].unit_of_work())
            for intake, reactors, prepared in work:
                if prepared.entry.spool_id in mine:
                    result = intake.record(prepared)
                    for react in reactors:
                        react(result)
            self.spool.finish(tx, sorted(mine))
        return len(mine)

    def _unavailable(self, exc: DatabaseUnavailable) -> None:
        now = time.monotonic()
        if now - self._said >= QUIET_SECONDS:
            self._said = now
            log.error("intake waits for the database: %s", exc)
