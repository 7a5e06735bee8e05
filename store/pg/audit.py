"""The audit chain of one organisation in the database: the same events, lines and hashes as the
file backend's chain.jsonl (store/audit.py), so `audit verify` means the same on both and a
chain copied from one to the other verifies unchanged.

Events are chained at the commit of their unit of work, from the head kept in the
organisation's row of `orgs`, which the unit holds FOR UPDATE from its first operation: one
writer per organisation at a time, so the chain is one line whatever the number of nodes.
"""

from __future__ import annotations

import json
from typing import Iterator

from leakline.store.audit import GENESIS, VerifyResult, _check_line, canonical, event_hash
from leakline.store.pg.db import Database

PAGE = 5000


def chained_line(event: dict) -> str:
    """The event as one line of the chain: its canonical JSON with the hash last."""
    return (canonical(event)[:-1] + b',"hash":"' + event["hash"].encode() + b'"}').decode()


def chain(events: list[dict], head: dict) -> list[dict]:
    """`events` with seq, prev and hash after `head` ({"seq", "hash"}), which it moves on."""
    chained = []
    for event in events:
        event = dict(event, seq=head["seq"] + 1, prev=head["hash"])
        event["hash"] = event_hash(event)
        head["seq"], head["hash"] = event["seq"], event["hash"]
        chained.append(event)
    return chained


class PgAudit:
    def __init__(self, db: Database, org: str):
        self.db = db
        self.org = org

    def head(self) -> dict:
        row = self.db.one("SELECT head_seq, head_hash FROM orgs WHERE id = %s", (self.org,))
        return {"seq": row[0], "hash": row[1]} if row else {"seq": 0, "hash": GENESIS}

    def _lines(self, where: str = "", params: tuple = ()) -> Iterator[str]:
        after = 0
        while True:
            rows = self.db.query(f"SELECT seq, line FROM events WHERE org = %s{where} AND seq > %s "
                                 f"ORDER BY seq LIMIT {PAGE}", (self.org, *params, after))
            for _, line in rows:
                yield line
            if len(rows) < PAGE:
                return
            after = rows[-1][0]

    def events(self) -> Iterator[dict]:
        for line in self._lines():
            yield json.loads(line)

    def for_case(self, case_id: str) -> list[dict]:
        return [json.loads(line) for line in self._lines(" AND case_id = %s", (case_id,))]

    def verify(self) -> VerifyResult:
        prev, count = GENESIS, 0
        for number, line in enumerate(self._lines(), start=1):
            problem = _check_line(line.encode("utf-8"), prev, number)
            if problem:
                return VerifyResult(False, count, number, problem)
            prev, count = json.loads(line)["hash"], count + 1
        head = self.head()
        if head["seq"] > count:
            return VerifyResult(False, count, count + 1,
                                f"the log ends at event {count} but event {head['seq']} was written")
        if count and head["hash"] != prev:
            return VerifyResult(False, count, count, "the chain's head names another last event")
        return VerifyResult(True, count)

    def write(self, tx, events: list[dict], head: dict) -> list[dict]:
        """Chain `events` after `head` and insert them in the open transaction; the caller
        holds the organisation's row and stores the new head."""
        chained = chain(events, head)
        tx.executemany("INSERT INTO events (org, seq, id, case_id, line) VALUES (%s, %s, %s, %s, %s)",
                       [(self.org, e["seq"], e["id"], e.get("case"), chained_line(e))
                        for e in chained])
        return chained
