"""SIGKILL inside batches with two organisations (issues 13 and 14): a batch is one unit of work
per organisation, each holding the outbox's part with its own (one commit point), and the spool
segment leaves with the last. Whatever the kill interrupts, every message is one case in each
organisation it was sent to, every mail goes exactly once, and every audit chain verifies."""

from __future__ import annotations

import asyncio
import collections
import random

from leakline.app import App
from leakline.casecheck import check_cases
from leakline.config import load
from mailbuilders import plain_mail
from leakline.store.hosts import Hosts
from test_crash_units import delivered, kill_at_random

ROUNDS, SEGMENTS, PER_SEGMENT = 6, 3, 6
ADDRESS = {"acme": "incident@acme.example.jp", "globex": "incident@globex.example.com"}
CONFIG = """
[service]
data_dir = "{data}"

[[organizations]]
id = "acme"
name = "株式会社アクメ"
incident_address = "incident@acme.example.jp"
domains = ["acme.example.jp"]
case_prefix = "ACME"
[[organizations.managers]]
email = "privacy@acme.example.jp"
role = "privacy_officer"

[[organizations]]
id = "globex"
name = "Globex"
incident_address = "incident@globex.example.com"
domains = ["globex.example.com"]
case_prefix = "GLX"
language = "en"
[[organizations.managers]]
email = "dpo@globex.example.com"
role = "privacy_officer"
"""


def spool(app: App, first: int, rng: random.Random) -> dict[str, set[str]]:
    """SEGMENTS segments of reports to one organisation or to both, as the listener commits them."""
    sent: dict[str, set[str]] = {"acme": set(), "globex": set()}
    for start in range(first, first + SEGMENTS * PER_SEGMENT, PER_SEGMENT):
        batch = []
        for i in range(start, start + PER_SEGMENT):
            orgs = rng.choice([["acme"], ["globex"], ["acme", "globex"]])
            message_id = f"<org-crash-{i}@example.net>"
            raw = plain_mail(f"誤送信 {i}", f"顧客名簿 {i} 件を誤送信しました",
                             sender=f"staff{i}@example.net", message_id=message_id)
            batch.append((raw, {"mail_from": f"staff{i}@example.net", "peer": "127.0.0.1",
                                "rcpt_tos": [ADDRESS[o] for o in orgs], "orgs": orgs,
                                "received_at": "2026-11-26T01:00:00+00:00"}))
            for org in orgs:
                sent[org].add(message_id)
        app.spool.write(batch)
    return sent


def test_sigkill_inside_batches_of_two_organisations_loses_and_duplicates_nothing(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(CONFIG.format(data=tmp_path / "data"), encoding="utf-8")
    app = App(load(config))
    app.prepare()
    sent: dict[str, set[str]] = {"acme": set(), "globex": set()}
    rng = random.Random(14)
    for number in range(ROUNDS):
        for org, ids in spool(app, number * SEGMENTS * PER_SEGMENT, rng).items():
            sent[org] |= ids
        kill_at_random(config, rng)

    app = App(load(config))
    app.prepare()
    for coroutine in app.background_tasks(asyncio.Event()):
        coroutine.close()
    for _ in range(2):
        for _ in range(3):
            app.pipeline.drain()
            asyncio.run(app.sender.run_once())
        for row in app.spool.shunted():
            assert row["reason"] == "the worker stopped while processing it"
            app.spool.retry(row["id"])

    queued = []
    for org in ("acme", "globex"):
        store = app.tenant(org).store
        stored = collections.Counter(m["message_id"] for c in store.cases("all")
                                     for m in c["messages"] if m["direction"] == "in")
        assert set(stored) == sent[org] and set(stored.values()) == {1}, org
        assert store.audit.verify().ok
        checked = check_cases(store.data_dir, store.audit.events())
        assert checked.ok, checked.problems[:5]
        queued += [m for c in store.cases("all") for m in c["messages"] if m["direction"] == "out"]
    assert queued and {m["status"] for m in queued} == {"sent"}
    copies = delivered(app.data_dir / "mail-out")
    assert set(copies) == {m["message_id"] for m in queued} and set(copies.values()) == {1}
    assert app.outbox.list() == [] and app.spool.segments() == []
    assert Hosts(app.data_dir / "journal").pending() == []
