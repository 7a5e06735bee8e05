"""Finding 7: one damaged file affects only its own case; shards and sequences heal."""

import json

from conftest import cli
from mailbuilders import plain_mail
from leakline.store import health

YEAR_2026 = "2026-11-26T01:00:00+00:00"


def spool_reports(app, count, start=0, received_at=YEAR_2026):
    for i in range(start, start + count):
        app.spool.write([(plain_mail(f"報告{i}", f"名簿 {i}件を誤送信しました", sender=f"staff{i}@example.com",
                                     message_id=f"<heal-{i}@example.com>"),
                          {"mail_from": f"staff{i}@example.com", "rcpt_tos": ["incident@example.com"],
                           "received_at": received_at})])
    app.pipeline.drain()


def shard_of(app, case_id):
    return app.store._index_path(case_id)


def test_a_corrupt_index_shard_stops_no_one_and_orphans_no_new_report(app):
    spool_reports(app, 2, received_at="2025-06-01T01:00:00+00:00")
    spool_reports(app, 2, start=2)
    shard = shard_of(app, "INC-2026-0001")
    shard.write_bytes(b'{"cases": {"1": {"id": "INC-2026-0001", "sta')  # cut mid-write
    problems = []
    app.store.on_problem = problems.append
    app.scheduler.run_once()  # a pass over every open case, not stopped by the shard
    assert sorted(r["id"] for r in app.store.summaries("all")) == [
        "INC-2025-0001", "INC-2025-0002", "INC-2026-0001", "INC-2026-0002"]
    assert any(str(shard) in p and "rebuilt" in p for p in problems)
    (kept,) = (app.data_dir / "quarantine").glob("*/index/2026/00000.json")
    assert kept.read_bytes().startswith(b'{"cases": {"1"')  # the damaged shard is kept, not lost
    shard.write_bytes(b"\x00\x00garbage")
    spool_reports(app, 1, start=4)  # a new report lands in the damaged shard's bucket
    assert "INC-2026-0003" in [r["id"] for r in app.store.summaries("open")]


def test_the_sequence_never_goes_backwards(app):
    spool_reports(app, 3)
    seq = app.data_dir / "seq" / "INC-2026"
    seen = {r["id"] for r in app.store.summaries("all")}
    for damage in (b"", b"not json", b'{"last": "x"}', None, b'{"last": 1}'):
        if damage is None:
            seq.unlink()
        else:
            seq.write_bytes(damage)
        new = app.store.next_case_id(2026)
        assert new not in seen and new > max(seen), (damage, new)
        seen.add(new)
        # Reserve the id as a case file would.
        app.store._case_path(new).parent.mkdir(parents=True, exist_ok=True)
        app.store._case_path(new).write_text(json.dumps({"case": {"1": {"id": new}}}))


def test_a_quarantined_case_id_is_not_handed_out_again(cli_app):
    spool_reports(cli_app, 2)
    cli_app.store._case_path("INC-2026-0002").write_bytes(b"{trunc")
    assert cli(cli_app, "store", "check", "--repair").exit_code == 0
    (cli_app.data_dir / "seq" / "INC-2026").write_bytes(b"")
    assert cli_app.store.next_case_id(2026) == "INC-2026-0003"


def test_a_truncated_case_file_is_skipped_and_reported_not_fatal(cli_app):
    spool_reports(cli_app, 3)
    bad = cli_app.store._case_path("INC-2026-0002")
    bad.write_bytes(bad.read_bytes()[:200])
    result = cli(cli_app, "deadlines")
    assert result.exit_code == 0, result.output
    assert "INC-2026-0001" in result.output and "INC-2026-0003" in result.output
    assert "case INC-2026-0002 skipped" in result.output and str(bad) in result.output
    listed = cli(cli_app, "cases", "list")
    assert listed.exit_code == 0 and "INC-2026-0003" in listed.output
    shown = cli(cli_app, "cases", "show", "INC-2026-0002")
    assert shown.exit_code == 1
    assert shown.output.strip().splitlines() == [
        f"Error: {bad}: not valid JSON (truncated or overwritten?); "
        "run `leakline store check --repair`"]


def test_store_check_reports_every_damaged_file_and_repair_mends_them(cli_app):
    spool_reports(cli_app, 3)
    case = cli_app.store._case_path("INC-2026-0003")
    damaged_case = case.read_bytes()[:-40]
    case.write_bytes(damaged_case)
    shard = shard_of(cli_app, "INC-2026-0001")
    shard.write_bytes(b"[]")
    seq = cli_app.data_dir / "seq" / "INC-2026"
    seq.write_bytes(b"")
    key = cli_app.data_dir / "keys.sqlite"  # the message keys: one SQLite index since issue 13
    cli_app.store.units.keys.close()
    for side in ("-wal", "-shm"):
        key.with_name(key.name + side).unlink(missing_ok=True)
    key.write_bytes(b"\xff\xfe\x00" * 100)

    result = cli(cli_app, "store", "check")
    assert result.exit_code == 1
    damaged = [line for line in result.output.splitlines() if line.startswith("damaged: ")]
    for path in (case, shard, seq, key):
        assert any(str(path) in line for line in damaged), (path, result.output)

    result = cli(cli_app, "store", "check", "--repair")
    assert result.exit_code == 0, result.output
    assert "store is sound after repair" in result.output
    moved = next((cli_app.data_dir / "quarantine").glob("*/cases/2026/00000/INC-2026-0003.json"))
    assert moved.read_bytes() == damaged_case  # moved aside as it was, never deleted
    assert "INC-2026-0003" in moved.with_name(moved.name + ".note").read_text()
    (moved_key,) = (cli_app.data_dir / "quarantine").glob("*/keys.sqlite")
    assert moved_key.read_bytes() == b"\xff\xfe\x00" * 100
    assert [r["id"] for r in cli_app.store.summaries("all")] == ["INC-2026-0001", "INC-2026-0002"]
    assert json.loads(seq.read_bytes()) == {"last": 3}
    assert cli(cli_app, "store", "check").output.startswith("store is sound")


def test_start_checks_sequences_and_shards_only_and_mends_them(app, monkeypatch):
    spool_reports(app, 3)
    # Case files unreadable: a quick check that walked the cases would fail or report them.
    monkeypatch.setenv("LEAKLINE_FAULT", "read:EIO:*/cases/*")
    assert health.quick_check(app.store).problems == []
    monkeypatch.delenv("LEAKLINE_FAULT")
    shard_of(app, "INC-2026-0001").write_bytes(b"{")
    (app.data_dir / "seq" / "INC-2026").write_bytes(b"?")
    report = health.quick_check(app.store)
    assert len(report.problems) == 2 and len(report.repairs) == 2
    assert health.quick_check(app.store).problems == []
    assert len(app.store.summaries("all")) == 3


def test_serve_mends_a_damaged_shard_at_start(app):
    from conftest import RunningServer

    spool_reports(app, 1)
    shard = shard_of(app, "INC-2026-0001")
    shard.write_bytes(b"")
    srv = RunningServer(app)
    try:
        assert [r["id"] for r in health.read_shard(shard)] == ["INC-2026-0001"]
        assert any("index" in line and "rebuilt" in line for line in srv.lines)
    finally:
        srv.stop()


def test_the_scheduler_names_a_damaged_case_in_one_line_once_until_it_changes(app, caplog):
    """Review of issue 13: a full traceback for the same damaged case on every 20-second pass."""
    spool_reports(app, 2)
    bad = app.store._case_path("INC-2026-0001")
    kept = bad.read_bytes()
    bad.write_bytes(b"{damaged")

    def said() -> list:
        return [r for r in caplog.records if "INC-2026-0001" in r.getMessage()]

    with caplog.at_level("WARNING", logger="leakline.scheduler"):
        for _ in range(3):
            app.scheduler.run_once()
        (record,) = said()
        assert record.exc_info is None and "\n" not in record.getMessage()
        assert str(bad) in record.getMessage() and "store check" in record.getMessage()
        bad.write_bytes(b"{damaged differently")  # it changed: said again, once
        app.scheduler.run_once()
        app.scheduler.run_once()
        assert len(said()) == 2
        bad.write_bytes(kept)  # mended: nothing more to say, and the case is worked again
        app.scheduler.run_once()
        assert len(said()) == 2
        bad.write_bytes(b"{damaged")  # damaged again later: said again
        app.scheduler.run_once()
        assert len(said()) == 3


def test_a_journal_damaged_inside_is_named_and_moved_aside_by_repair(cli_app):
    """A torn last record is a crash (cut and forgotten); damage before the end stops every unit
    of work until `store check --repair` moves the journal aside (docs/STORE.md)."""
    spool_reports(cli_app, 1)  # the worker's checkpoint empties the journal when idle
    assert cli(cli_app, "cases", "note", "INC-2026-0001", "--text", "first look",
               "--by", "po@example.com").exit_code == 0
    journal = cli_app.store.units.journal.path
    records = journal.read_bytes()
    assert records, "the journal holds the units since the last checkpoint"
    damaged = bytearray(records)
    damaged[60] ^= 0xFF
    journal.write_bytes(bytes(damaged) + b"LLJ1 R 2 0 " + b"0" * 64 + b"\n{}")
    shown = cli(cli_app, "cases", "list")
    assert shown.exit_code == 1 and str(journal) in shown.output and "damaged" in shown.output
    result = cli(cli_app, "store", "check")
    assert result.exit_code == 1 and f"damaged: {journal}" in result.output
    result = cli(cli_app, "store", "check", "--repair")
    assert result.exit_code == 0, result.output
    (moved,) = (cli_app.data_dir / "quarantine").glob("*/journal/redo.log")
    assert moved.read_bytes().startswith(bytes(damaged))
    spool_reports(cli_app, 1, start=1)
    assert [r["id"] for r in cli_app.store.summaries("all")] == ["INC-2026-0001", "INC-2026-0002"]


def test_a_store_intake_wrote_is_sound_and_a_rebuilt_shard_keeps_the_listing(cli_app):
    spool_reports(cli_app, 2)
    result = cli(cli_app, "store", "check")
    assert result.exit_code == 0, result.output  # the index rows carry the listing fields too
    shard = shard_of(cli_app, "INC-2026-0001")
    before = json.loads(shard.read_bytes())
    shard.write_bytes(b"[]")
    assert cli(cli_app, "store", "check", "--repair").exit_code == 0
    assert json.loads(shard.read_bytes()) == before
