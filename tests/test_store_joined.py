"""The service's outbox joining an organisation's units of work (issues 13 and 14 merged).

Each organisation's store has its own lock and journal; the outbox serves them all. A unit of an
organisation takes its lock, then the outbox's, and commits both in one journal record (one
fsync); what a crash left unapplied is applied before the outbox is read; a journal written
before the machine last started is applied whole.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from leakline.store.cases import Store
from leakline.store.files import DataLock
from leakline.store.hosts import Hosts
from leakline.store.outbox import Outbox
from leakline.store.rows import RowTable
from leakline.store.units import LockOrderError, Units
from test_store_units import case, opened

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)


def service(root, orgs=("acme", "globex")):
    stores = {org: Store(root / "orgs" / org, "INC") for org in orgs}
    for store in stores.values():
        store.prepare()
    lock = DataLock.at(root / ".lock")
    box = Outbox(root, lock, lambda: NOW, Units(root, lock, joinable=True),
                 unit_for_org=lambda org: stores[org].unit_of_work())
    return stores, box


def queue_case_mail(store: Store, box: Outbox, org: str, n: int) -> str:
    """A case and the mail about it, in one unit of the organisation's store."""
    with store.unit_of_work():
        case_id = store.next_case_id(2026)
        raw = b"Message-ID: <m%d@x>\r\n\r\nguidance %d\r\n" % (n, n)
        rel = store.put_raw(raw, 2026, 11)
        box.enqueue_bytes(raw, message_id=f"<m{n}@x>", envelope_from="po@x",
                          envelope_to=["taro@x"], case_id=case_id, kind="guidance",
                          subject="s", same_as=store.data_dir / rel, org=org)
        store.save(case(case_id), opened(n))
    return case_id


def test_a_case_and_its_mail_commit_in_the_organisations_journal_with_one_fsync(tmp_path, fsyncs):
    stores, box = service(tmp_path)
    fsyncs[0] = 0
    queue_case_mail(stores["acme"], box, "acme", 1)
    assert fsyncs[0] == 3  # the journal; once ever, the outbox's list of hosts and its folder
    fsyncs[0] = 0
    queue_case_mail(stores["acme"], box, "acme", 2)
    assert fsyncs[0] == 1
    record = stores["acme"].units.journal.records()[0]
    assert record.meta["joined"] == ["../.."]
    assert {op[0] for op in record.meta["rows"]} == {"../../outbox/outbox.sqlite"}
    assert box.units.journal.size() == 0  # the outbox's own journal holds none of it
    (item,) = [i for i in box.due(NOW) if i.id == "<m1@x>"]
    assert item.org == "acme" and item.message_bytes().endswith(b"guidance 1\r\n")
    raw = stores["acme"].data_dir / "raw" / "2026" / "11"
    assert item.path.parent == raw  # kept once: the case's evidence
    assert Hosts(tmp_path / "journal").names() == ["orgs/acme"]


def test_what_a_crash_left_unapplied_is_applied_before_the_outbox_is_read(tmp_path, monkeypatch):
    stores, box = service(tmp_path)
    acme = stores["acme"].units

    def die_after_the_commit(meta, blobs):
        raise OSError("killed between the commit and the files")
    monkeypatch.setattr(acme, "_apply", die_after_the_commit)
    with pytest.raises(OSError):
        queue_case_mail(stores["acme"], box, "acme", 1)
    assert RowTable(tmp_path / "outbox" / "outbox.sqlite").group("queued") == []
    assert Hosts(tmp_path / "journal").pending() == ["orgs/acme"]
    # Another process reads the outbox: the organisation's record is applied first.
    lock = DataLock.at(tmp_path / ".lock")
    reader = Outbox(tmp_path, lock, lambda: NOW, Units(tmp_path, lock, joinable=True))
    assert [row["id"] for row in reader.list()] == ["<m1@x>"]
    assert Hosts(tmp_path / "journal").pending() == []
    assert Store(stores["acme"].data_dir).exists("INC-2026-0001")


def test_the_outbox_may_join_an_organisations_unit_never_the_reverse(tmp_path):
    stores, box = service(tmp_path)
    with pytest.raises(LockOrderError):
        with box.units.unit():
            stores["acme"].save(case("INC-2026-0001"), opened(1))
    with pytest.raises(LockOrderError):  # nor one organisation's unit another's
        with stores["acme"].unit_of_work():
            stores["globex"].save(case("INC-2026-0001"), opened(1))
    assert stores["acme"].summaries("all") == stores["globex"].summaries("all") == []


def test_each_change_of_a_message_is_made_in_its_organisations_unit(tmp_path):
    stores, box = service(tmp_path)
    queue_case_mail(stores["globex"], box, "globex", 1)
    before = stores["globex"].units.journal.size()
    box.mark_failed("<m1@x>", "550 no such user")
    box.retry("<m1@x>")
    box.mark_sent("<m1@x>")
    assert stores["globex"].units.journal.size() > before  # three more records there
    assert box.units.journal.size() == 0 and stores["acme"].units.journal.size() == 0
    assert box.get("<m1@x>")["state"] == "sent"


def test_a_journal_written_before_the_machine_started_is_applied_whole(tmp_path, monkeypatch):
    stores, box = service(tmp_path)
    store = stores["acme"]
    for n in (1, 2, 3):
        queue_case_mail(store, box, "acme", n)
    lost = [store._case_path(f"INC-2026-{n:04d}") for n in (1, 2)]
    for path in lost:  # applied, then lost with the page cache in a power cut
        path.unlink()
    RowTable.at(tmp_path / "outbox" / "outbox.sqlite").close()  # as a process that ended
    for path in (tmp_path / "outbox").glob("outbox.sqlite*"):
        path.rename(path.with_name("gone-" + path.name))
    monkeypatch.setattr("leakline.store.units.current_boot", lambda: "the next boot")
    again, box = service(tmp_path)
    assert all(path.exists() for path in lost)
    assert again["acme"].units.journal.size() == 0  # flushed and emptied
    assert sorted(row["id"] for row in box.list()) == ["<m1@x>", "<m2@x>", "<m3@x>"]
    assert again["acme"].audit.verify().events == 3
