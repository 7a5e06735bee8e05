"""SIGKILL at random points of batches (issue 13): the new commit points lose and repeat nothing.

A worker drains spool segments (one unit of work a batch) and delivers the outbox (one unit a
batch of deliveries) and is killed again and again; then the work is finished. Every message
is in exactly one case, every mail queued is in the Maildir exactly once, the audit chain and
every case file verify. A message the kills kept landing on is shunted after three attempts
("the worker stopped while processing it", as for a message that kills the worker itself):
kept for a person, not lost; brought back with `spool retry`, it is stored once.
"""

from __future__ import annotations

import asyncio
import collections
import email
import email.policy
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from leakline.app import App
from leakline.casecheck import check_cases
from leakline.config import load
from mailbuilders import plain_mail

ROOT = Path(__file__).resolve().parent.parent
WORKER = """
import asyncio, sys
from leakline.app import App
from leakline.config import load
app = App(load(sys.argv[1]))
app.prepare()
for task in app.background_tasks(asyncio.Event()):
    task.close()
print("ready", flush=True)
while True:
    app.pipeline.drain()
    asyncio.run(app.sender.run_once())
"""
ROUNDS, SEGMENTS, PER_SEGMENT = 8, 3, 8
REPORTS = ROUNDS * SEGMENTS * PER_SEGMENT


def spool(app: App, first: int) -> set[str]:
    """SEGMENTS segments of PER_SEGMENT new reports, as the listener commits them."""
    ids = set()
    for start in range(first, first + SEGMENTS * PER_SEGMENT, PER_SEGMENT):
        batch = []
        for i in range(start, start + PER_SEGMENT):
            message_id = f"<unit-crash-{i}@example.com>"
            raw = plain_mail(f"誤送信 {i}", f"顧客名簿 {i} 件を誤送信しました",
                             sender=f"staff{i}@example.com", message_id=message_id)
            batch.append((raw, {"mail_from": f"staff{i}@example.com", "peer": "127.0.0.1",
                                "rcpt_tos": ["incident@example.com"],
                                "received_at": "2026-11-26T01:00:00+00:00"}))
            ids.add(message_id)
        app.spool.write(batch)
    return ids


def kill_at_random(config: Path, rng: random.Random) -> None:
    proc = subprocess.Popen([sys.executable, "-c", WORKER, str(config)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(rng.uniform(0.0, 0.5))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()


def delivered(maildir: Path) -> collections.Counter:
    ids = collections.Counter()
    for folder in ("new", "cur"):
        for path in (maildir / folder).iterdir() if (maildir / folder).is_dir() else []:
            parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            ids[parsed["Message-ID"]] += 1
    return ids


def test_sigkill_inside_batches_loses_and_duplicates_nothing(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\n')
    app = App(load(config))
    app.prepare()
    sent: set[str] = set()
    rng = random.Random(13)
    for number in range(ROUNDS):  # new work before each kill, so that each lands inside some
        sent |= spool(app, number * SEGMENTS * PER_SEGMENT)
        kill_at_random(config, rng)

    app = App(load(config))  # after the last kill, as serve would start again
    app.prepare()
    for coroutine in app.background_tasks(asyncio.Event()):
        coroutine.close()
    for _ in range(3):
        app.pipeline.drain()
        asyncio.run(app.sender.run_once())
    for row in app.spool.shunted():
        assert row["reason"] == "the worker stopped while processing it"
        app.spool.retry(row["id"])
    for _ in range(2):
        app.pipeline.drain()
        asyncio.run(app.sender.run_once())

    stored = collections.Counter(m["message_id"] for c in app.store.cases("all")
                                 for m in c["messages"] if m["direction"] == "in")
    assert set(stored) == sent and set(stored.values()) == {1}
    assert len(app.store.summaries("all")) == REPORTS
    assert app.store.audit.verify().ok
    checked = check_cases(app.data_dir, app.store.audit.events())
    assert checked.ok, checked.problems[:5]
    queued = [m for c in app.store.cases("all") for m in c["messages"] if m["direction"] == "out"]
    assert len(queued) == 2 * REPORTS and {m["status"] for m in queued} == {"sent"}
    copies = delivered(app.data_dir / "mail-out")
    assert set(copies) == {m["message_id"] for m in queued} and set(copies.values()) == {1}
    assert app.outbox.list() == [] and app.spool.segments() == []
