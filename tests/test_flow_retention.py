"""Retention through the whole path: a purge also removes the outbox's copies of sent mail."""

from datetime import timedelta

from conftest import make_config
from leakline.store.retention import purge_case, purgeable
from test_flow_harness import Clock, Flow, report


def test_purge_removes_raw_mail_in_and_out_and_the_outbox_copies(tmp_path):
    flow = Flow(make_config(tmp_path / "data"), Clock())
    assert len(flow.run(report())) == 3  # guidance, privacy officer, supervisor
    case = flow.case()
    outgoing = [m for m in case["messages"] if m["direction"] == "out"]
    assert outgoing and all(flow.app.outbox.get(m["message_id"]) for m in outgoing)
    assert {row["id"] for row in flow.app.outbox.list_sent()} == {m["message_id"] for m in outgoing}

    def close(c):
        c["status"], c["closed_at"] = "closed", flow.clock().isoformat()
        return [{"action": "case_closed", "actor": "privacy@example.com"}]
    flow.store.update(case["id"], close)
    assert purgeable(flow.store, flow.clock() + timedelta(days=1824), 1825) == []
    flow.clock.advance(days=1826)
    assert purgeable(flow.store, flow.clock(), 1825) == [case["id"]]

    removed = purge_case(flow.store, case["id"], "privacy@example.com", outbox=flow.app.outbox)
    assert len(removed) == len(case["messages"])
    after = flow.case(case["id"])
    assert all(m["text"] is None and m["purged"] for m in after["messages"])
    assert not any(flow.store.raw_path(m["raw"]).exists() for m in after["messages"])
    assert flow.app.outbox.list_sent() == []  # the records gone, the raw with the case's
    assert flow.store.audit.verify().ok
    assert after["assessment"] == case["assessment"] and after["phases"] == case["phases"]
