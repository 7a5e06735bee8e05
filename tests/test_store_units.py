"""Units of work (store/unit.py, store/units.py; store/pg/ on PostgreSQL): all or nothing, one
commit (one fsync on files), recovery. The tests taking `backend` run on both backends."""

from __future__ import annotations

import pytest

from leakline.store.cases import Store
from leakline.store.journal import JournalError


def case(case_id: str, note: str = "") -> dict:
    return {"id": case_id, "status": "open", "note": note, "messages": [{"key": f"<{case_id}>"}]}


def opened(number: int) -> list[dict]:
    return [{"action": "case_opened", "details": {"n": number}}]


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(tmp_path / "data")
    s.prepare()
    return s


def test_a_unit_commits_many_cases_keys_and_events_with_one_fsync(backend, fsyncs):
    store = backend.store()
    fsyncs[0] = 0
    with store.unit_of_work():
        for n in range(1, 21):
            case_id = store.next_case_id(2026)
            store.claim_key(f"<m{n}>", case_id)
            store.put_raw(b"raw %d" % n, 2026, 11)
            store.save(case(case_id), opened(n))
    assert fsyncs[0] == (0 if backend.shared else 1)  # the database's COMMIT: no fsync of ours
    assert [r["id"] for r in store.summaries("all")] == [f"INC-2026-{n:04d}" for n in range(1, 21)]
    assert store.case_for_key("<m7>") == "INC-2026-0007"
    assert store.audit.verify().events == 20
    assert store.next_case_id(2026) == "INC-2026-0021"


def test_inside_a_unit_reads_see_the_units_own_writes(backend):
    store = backend.store()
    other = backend.store()  # another process
    with store.unit_of_work():
        first = store.next_case_id(2026)
        store.save(case(first), opened(1))
        store.claim_key("<a>", first)
        assert store.exists(first) and store.case_for_key("<a>") == first
        assert store.next_case_id(2026) == "INC-2026-0002"
        seen = store.get(first)
        seen["note"] = "changed without a save"
        assert store.get(first)["note"] == ""  # a copy, as a read from the file would be
        assert not other.exists(first)  # written at the commit, once
    assert other.get(first)["note"] == "" and other.case_for_key("<a>") == first


def test_an_exception_inside_a_unit_leaves_nothing(backend):
    store = backend.store()
    with pytest.raises(RuntimeError):
        with store.unit_of_work():
            store.save(case(store.next_case_id(2026)), opened(1))
            store.claim_key("<lost>", "INC-2026-0001")
            raise RuntimeError("the batch fails")
    assert store.summaries("all") == [] and store.case_for_key("<lost>") is None
    assert store.audit.verify().events == 0 and not store.exists("INC-2026-0001")
    assert store.next_case_id(2026) == "INC-2026-0001"


def test_a_unit_whose_folder_cannot_be_made_is_refused_before_its_commit(store):
    (store.data_dir / "cases" / "2026").write_text("in the way")
    with pytest.raises(NotADirectoryError):
        store.save(case("INC-2026-0001"), opened(1))
    assert store.units.journal.size() == 0 and store.audit.verify().events == 0


def test_a_crash_between_commit_and_files_is_finished_by_the_next_holder(store, monkeypatch):
    applied = store.units._apply

    def crash(meta, blobs):
        raise SystemExit("killed after the journal's fsync")

    monkeypatch.setattr(store.units, "_apply", crash)
    with pytest.raises(SystemExit):
        with store.unit_of_work():
            store.save(case("INC-2026-0001", "kept"), opened(1))
            store.claim_key("<kept>", "INC-2026-0001")
    monkeypatch.setattr(store.units, "_apply", applied)
    assert not store._case_path("INC-2026-0001").exists()

    again = Store(store.data_dir)  # another process, after the crash
    again.prepare()
    assert again.get("INC-2026-0001")["note"] == "kept"
    assert again.case_for_key("<kept>") == "INC-2026-0001"
    assert again.audit.verify().events == 1
    assert [r["id"] for r in again.summaries("all")] == ["INC-2026-0001"]


def test_a_torn_last_record_was_never_committed_and_is_cut(store):
    store.save(case("INC-2026-0001"), opened(1))
    journal = store.units.journal.path
    size = journal.stat().st_size
    with open(journal, "ab") as fh:
        fh.write(b"LLJ1 R 500 0 " + b"0" * 64 + b"\n{\"v\": 1, \"fil")  # the crash came mid-append
    store.save(case("INC-2026-0002"), opened(2))
    assert store.audit.verify().events == 2
    assert b"LLJ1 R 500 0 " not in journal.read_bytes()[size:]


def test_damage_inside_the_journal_is_named_not_skipped(store, monkeypatch):
    monkeypatch.setattr("leakline.store.units.CHECKPOINT_BYTES", 1 << 30)
    store.save(case("INC-2026-0001"), opened(1))
    store.save(case("INC-2026-0002"), opened(2))
    journal = store.units.journal.path
    data = bytearray(journal.read_bytes())
    data[40] ^= 0xFF  # inside the first record
    journal.write_bytes(bytes(data[:-len(b"LLJ1 A\n")]))  # and the last one looks unapplied
    with pytest.raises(JournalError, match="damaged"):
        store.save(case("INC-2026-0003"), opened(3))


def test_a_checkpoint_empties_the_journal(store):
    store.save(case("INC-2026-0001"), opened(1))
    assert store.units.journal.size() > 0
    store.checkpoint()
    assert store.units.journal.size() == 0
    assert store.get("INC-2026-0001")["status"] == "open"


def test_key_files_of_an_older_store_are_taken_over(tmp_path):
    import hashlib

    data = tmp_path / "data"
    digest = hashlib.sha256(b"<old@example.com>").hexdigest()
    (data / "keys" / digest[:2]).mkdir(parents=True, mode=0o700)
    (data / "keys" / digest[:2] / digest).write_text("INC-2025-0009")
    store = Store(data)
    store.prepare()
    assert store.case_for_key("<old@example.com>") == "INC-2025-0009"
    assert not (data / "keys").exists() and list(data.glob("keys.imported-*"))
