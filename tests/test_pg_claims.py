"""Claims on the shared database (issue 15): two nodes never take the same spooled message or
outbox entry (FOR UPDATE SKIP LOCKED), a dead node's claims are taken over at once, and mail a
dead node left `sending` is never resent by itself: `outbox list --failed` shows it, `outbox
retry` sends it again."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

import pytest

from leakline.cli_outbox import outbox as outbox_cli
from leakline.config import Config, Service, StoreSettings
from leakline.store.outbox import OutboxError
from leakline.store.pg.nodes import Node, live_nodes
from leakline.store.pg.outbox import Claiming
from leakline.store.pg.spool import PgSpool
from store_backends import Backend
from test_outbox_store import enqueue

pytestmark = pytest.mark.postgres
ENVELOPE = {"mail_from": "taro@example.com", "rcpt_tos": ["incident@example.com"]}


def node(db, role: str, name: str) -> Node:
    """A node as another process would be (its id names its host and pid: here one process
    plays two, told apart by `name`)."""
    made = Node(db, role)
    made.id += f":{name}"
    return made


def until(take, seconds: float = 10.0):
    """What `take` gives once it gives something (the server ends a session a moment after
    its client closed it), well within the issue's 30 s."""
    deadline = time.monotonic() + seconds
    while not (got := take()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return got


@pytest.fixture
def shared(pg_migrated, tmp_path):
    """The PostgreSQL leg of tests/store_backends.py alone: claims are the shared database's."""
    chosen = Backend("postgresql", tmp_path, pg_migrated)
    yield chosen
    chosen.close()


def test_two_nodes_claim_disjoint_batches_and_take_over_a_dead_nodes(shared, tmp_path):
    spool_a, spool_b = (PgSpool(shared.database(), tmp_path / n) for n in ("a", "b"))
    ids = spool_a.write([(b"report %d" % n, ENVELOPE) for n in range(10)])
    a, b = node(spool_a.db, "intake", "a"), node(spool_b.db, "intake", "b")
    first = spool_a.claim(a.ensure(), 4, 10**6, 5)
    second = spool_b.claim(b.ensure(), 100, 10**6, 5)
    taken_a = {c.entry.spool_id for c in first}
    taken_b = {c.entry.spool_id for c in second}
    assert len(taken_a) == 4 and taken_a.isdisjoint(taken_b) and taken_a | taken_b == set(ids)
    assert spool_b.claim(b.ensure(), 100, 10**6, 5) == []  # a live node's lease holds
    a.close()  # node a dies: its lock goes with its session (the server notices at once)
    again = until(lambda: spool_b.claim(b.ensure(), 100, 10**6, 5))
    assert {c.entry.spool_id for c in again} == {sorted(taken_a)[0]}  # retried alone
    assert again[0].attempts == 2 and spool_a.waiting() == 10


def test_mail_a_dead_node_left_sending_is_listed_and_retried_never_resent(shared, clock):
    box = shared.outbox(clock)
    message_id = enqueue(box)
    dying, other = node(box.db, "sender", "a"), node(shared.database(), "sender", "b")
    [item] = Claiming(box, dying.ensure).due_and_next(clock())[0]
    assert item.id == message_id
    assert Claiming(box, other.ensure).due_and_next(clock())[0] == []  # claimed, sending
    assert box.list(failed=True) == []  # its node lives: not stranded
    with pytest.raises(OutboxError, match="sending it right now"):
        box.retry(message_id)

    dying.close()
    [row] = until(lambda: box.list(failed=True))
    assert Claiming(box, other.ensure).due_and_next(clock())[0] == []  # never resent by itself
    assert (row["id"], row["state"], row["node"]) == (message_id, "sending", dying.id)
    config = Config(service=Service(data_dir=shared.tmp_path),
                    store=StoreSettings(**shared.store_section()))
    listed = CliRunner().invoke(outbox_cli, ["list", "--failed"], obj=config)
    assert listed.exit_code == 0 and message_id in listed.output
    assert "stopped while sending" in listed.output
    from leakline.status import service_status

    shown = service_status(config)  # what a monitor sees: one entry left sending, a person needed
    assert shown["outbox"]["sending"] == 1 and shown["database"]["waiting"] == 0
    assert "sending" in {need["code"] for need in shown["attention"]}
    retried = CliRunner().invoke(outbox_cli, ["retry", message_id], obj=config)
    assert retried.exit_code == 0, retried.output
    later = datetime.now(timezone.utc) + timedelta(seconds=1)  # the CLI's clock is the real one
    [again] = Claiming(box, other.ensure).due_and_next(later)[0]
    assert again.id == message_id
    other.close()



def test_attempts_are_counted_in_the_database_and_a_shunted_message_is_retried(shared, tmp_path):
    """The attempt count is the database's: whichever node tries a message that keeps
    failing, it is shunted after MAX_ATTEMPTS, listed by `spool list`, put back by `retry`."""
    from leakline.cli import main

    spools = [PgSpool(shared.database(), tmp_path / n) for n in ("a", "b", "c")]
    [spool_id] = spools[0].write([(b"poison", ENVELOPE)])
    for n, spool in enumerate(spools):  # three nodes, one attempt each
        worker = node(spool.db, "intake", str(n))
        [claimed] = spool.claim(worker.ensure(), 10, 10**6, 3)
        assert claimed.attempts == n + 1
        spool.failed([spool_id], "ValueError: boom", worker.id)
    assert spools[0].claim(node(spools[0].db, "intake", "d").ensure(), 10, 10**6, 3) == []
    [row] = spools[1].shunted()
    assert (row["id"], row["attempts"]) == (spool_id, 3) and "boom" in row["reason"]

    config = tmp_path / "c.toml"
    config.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\n[store]\n' + "".join(
        f'{k} = "{v}"\n' for k, v in shared.store_section().items()), encoding="utf-8")
    listed = CliRunner().invoke(main, ["--config", str(config), "spool", "list"])
    assert listed.exit_code == 0 and spool_id in listed.output, listed.output
    retried = CliRunner().invoke(main, ["--config", str(config), "spool", "retry", spool_id])
    assert retried.exit_code == 0, retried.output
    [again] = spools[2].claim(node(spools[2].db, "intake", "e").ensure(), 10, 10**6, 3)
    assert again.attempts == 1 and again.entry.raw == b"poison"


def test_the_same_message_on_two_nodes_at_once_makes_one_case(pg_migrated, tmp_path):
    """The MTA's retry to the other MX while the first node is still at work: both copies are
    drained at the same time by two nodes; each message is one case (the second copy finds the
    first's key under the organisation's row lock)."""
    import threading

    from conftest import make_config
    from leakline.app import App
    from mailbuilders import iso2022jp_mail

    apps = [App(make_config(tmp_path / name, store=pg_migrated.store_config()))
            for name in ("one", "two")]
    for app in apps:
        app.prepare()
        app.pipeline.batch = 1
    for n in range(10):
        raw = iso2022jp_mail(f"誤送信 {n}", "顧客名簿を誤送信しました", message_id=f"<twice{n}@example.com>")
        for app in apps:  # each node acknowledged its copy
            app.spool.write([(raw, {"mail_from": "taro@example.com", "peer": "127.0.0.1",
                                    "rcpt_tos": ["incident@example.com"]})])
    barrier = threading.Barrier(2)
    handled = []

    def drain(app):
        barrier.wait(10)
        handled.append(app.pipeline.drain())
    threads = [threading.Thread(target=drain, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sum(handled) == 20 and apps[0].spool.waiting() == 0
    assert sorted(r["subject"] for r in apps[0].store.summaries("all")) == \
        [f"誤送信 {n}" for n in range(10)]
    assert apps[1].store.audit.verify().ok


def test_a_batch_holds_the_messages_of_one_organisation(shared, tmp_path):
    """Organisations lock apart: two nodes draining different organisations never wait on each
    other's commit, so a claimed batch keeps to the organisations of its first message."""
    spool = PgSpool(shared.database(), tmp_path / "a")
    ids = spool.write([(b"report %d" % n, dict(ENVELOPE, orgs=[f"org{n % 2}"]))
                       for n in range(6)])
    first = spool.claim(node(spool.db, "intake", "a").ensure(), 100, 10**6, 5)
    second = spool.claim(node(spool.db, "intake", "b").ensure(), 100, 10**6, 5)
    assert [c.entry.spool_id for c in first] == ids[0::2]
    assert [c.entry.spool_id for c in second] == ids[1::2]
    assert {c.entry.envelope["orgs"][0] for c in second} == {"org1"}


def test_a_sender_waits_quietly_while_the_database_is_away(shared, clock, pg_cluster, caplog):
    box = shared.outbox(clock)
    enqueue(box)
    sender = node(shared.database(), "sender", "a")
    claiming = Claiming(box, sender.ensure)
    sender.ensure()
    pg_cluster.stop()
    try:
        for _ in range(3):
            assert claiming.due_and_next(clock()) == ([], clock() + timedelta(seconds=5))
    finally:
        pg_cluster.start()
    assert len([r for r in caplog.records if "waits for the database" in r.message]) == 1
    [item] = until(lambda: claiming.due_and_next(clock())[0], 30)
    assert item.kind == "guidance"
    # The node took its lock again with the database back: it counts as alive, and what it is
    # sending is not offered to a person as stranded.
    assert sender.id in live_nodes(box.db) and box.list(failed=True) == []
    sender.close()


def test_the_rows_of_dead_nodes_go_when_a_node_starts(shared):
    first = node(shared.database(), "intake", "a")
    first.ensure()
    first.close()
    second = node(shared.database(), "intake", "b")
    second.ensure()
    assert until(lambda: live_nodes(second.db) == {second.id})
    third = node(shared.database(), "sender", "c")
    third.ensure()
    rows = {r[0] for r in third.db.query("SELECT id FROM nodes")}
    assert rows == {second.id, third.id}
    second.close()
    third.close()


def test_an_idle_node_is_woken_by_mail_another_node_accepted(shared, tmp_path):
    import select

    from leakline.store.pg.spool import Waker

    waker = Waker(shared.database())
    fd = waker.fileno()
    assert select.select([fd], [], [], 0)[0] == []
    PgSpool(shared.database(), tmp_path / "b").write([(b"report", ENVELOPE)])
    assert select.select([fd], [], [], 30)[0] == [fd]  # at the other node's commit
    assert waker.consume() == 1
    assert select.select([fd], [], [], 0)[0] == []
