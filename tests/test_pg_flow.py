"""The whole flow on both backends, and two nodes' schedulers on one database (issue 15): an
escalation is queued and delivered once however many nodes tick at the same moment, and the
organisation's audit chain stays one chain."""

from __future__ import annotations

import threading

import pytest

from conftest import make_config
from test_flow_harness import BOSS, EXEC, OFFICER, REPORTER, Clock, Flow, report


def test_report_escalation_and_reminder_on_either_backend(backend, tmp_path):
    flow = Flow(backend.config(tmp_path / "data"), Clock())
    first = flow.run(report())
    assert sorted(a for s in first for a in s.to) == sorted([REPORTER, OFFICER, BOSS])
    flow.clock.advance(minutes=60)
    flow.tick()
    assert [s.to for s in flow.run()] == [[EXEC]]
    flow.tick()
    assert flow.run() == []
    assert flow.store.audit.verify().ok


@pytest.mark.postgres
def test_two_nodes_ticking_together_escalate_once(pg_migrated, tmp_path):
    clock = Clock()
    store = pg_migrated.store_config()
    one = Flow(make_config(tmp_path / "one", store=store), clock)
    two = Flow(make_config(tmp_path / "two", store=store), clock)
    one.run(report())
    clock.advance(minutes=60)
    barrier = threading.Barrier(2)
    errors = []

    def tick(flow):
        try:
            barrier.wait(10)
            flow.tick()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=tick, args=(f,)) for f in (one, two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    one.deliver()
    two.deliver()
    executive = [s for s in one.new_mail() + two.new_mail() if EXEC in s.to]
    assert len(executive) == 1
    assert one.store.audit.verify().ok
    # One escalation queued in the case (its event once), one delivered: the second node's
    # pass waited for the first's unit (the organisation's row lock) and found it done.
    actions = [e.get("action") for e in one.store.audit.events()]
    assert actions.count("mail_queued") == 4 and actions.count("mail_sent") == 4
