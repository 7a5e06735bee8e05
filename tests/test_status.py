"""`leakline status` (issue 15): through the real CLI beside a real `leakline serve`. Listening,
then stopped; each thing that needs a person (shunted mail, a dead letter, an overdue deadline,
a backlog, a damaged store) turns the exit code to 1; the JSON keys are docs/CONTRACTS.md's."""

from __future__ import annotations

import json
import logging
import os
import socket
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

import pytest
from click.testing import CliRunner

from conftest import wait_for
from leakline.app import App
from leakline.cli import main
from leakline.config import load
from leakline.errorlog import ROTATE_BYTES, ErrorFile, errors_path, last_error
from leakline.status import Options, service_status
from ops_helpers import Serve, codes, run, status, write_config
from smtp_sink import SmtpSink
from test_contracts import documented, objects


def check_contract(found: dict, *paths: str) -> None:
    """The keys docs/CONTRACTS.md gives for `status --json` at these paths, as test_contracts
    checks every other command (here against a real serve)."""
    lines = {path: (required, optional) for command, path, required, optional in documented()
             if command == "status --json"}
    for path in paths:
        required, optional = lines[path]
        found_objects = objects(found, path)
        assert found_objects, path
        for obj in found_objects:
            assert required <= set(obj) <= required | optional, (path, set(obj) ^ required)


def settled(config) -> dict:
    """Once every report is a case and every mail delivered."""
    def done():
        app = App(load(config))
        if app.spool.segments() or not app.store.summaries("open"):
            return None
        return app.outbox.list() == [] and app
    return wait_for(done, timeout=60, interval=0.2)


def test_a_serving_node_is_ok_then_an_overdue_deadline_and_a_stopped_serve_need_attention(tmp_path):
    config = write_config(tmp_path)
    serve = Serve(config)
    try:
        serve.send("メール誤送信の報告")
        app = settled(config)
        code, found = status(config)
        assert code == 0, found["attention"]
        assert found["ok"] and found["attention"] == []
        heard = found["listening"]
        assert heard == {**heard, "ok": True, "pid": serve.proc.pid, "pid_alive": True,
                         "host": "127.0.0.1", "port": serve.port, "answered": True, "error": None}
        assert heard["since"].endswith("+09:00") and found["at"].endswith("+09:00")
        assert found["node"]["id"] == f"{socket.gethostname()}:{tmp_path / 'data'}"
        assert found["spool"] == {"waiting": 0, "oldest_age_seconds": None, "shunted": 0}
        assert found["node"]["backend"] == "tinydb"
        assert found["database"] == {"backend": "tinydb", "waiting": None, "note": "n/a (file store)"}
        assert found["outbox"] == {"queued": 0, "deferred": 0, "oldest_due_seconds": None,
                                   "dead_letters": 0, "sending": 0, "orgs": []}
        assert found["deadlines"] == {"overdue": 0, "unacknowledged": 0, "orgs": [
            {"org": "default", "open": 1, "overdue": 0, "unacknowledged": 0}]}
        assert found["store"] == {"ok": True, "problems": [], "repairs": []}
        assert found["last_error"] is None and found["schema"] == 1
        check_contract(found, ".", ".node", ".listening", ".spool", ".database", ".outbox",
                       ".deadlines", ".deadlines.orgs[]", ".store", ".disk")

        # Discovered in January 2025: every report's deadline is long past.
        (row,) = app.store.summaries("open")
        assessed = run(config, "cases", "assess", row["id"], "--discovered-at",
                       "2025-01-06T10:00:00+09:00", "--by", "po@example.com")
        assert assessed.returncode == 0, assessed.stderr
        code, found = status(config)
        assert code == 1 and codes(found) == ["overdue"]
        assert found["deadlines"]["overdue"] == 1
        text = run(config, "status")
        assert text.returncode == 1
        assert "ATTENTION (1)" in text.stdout and "leakline deadlines --overdue" in text.stdout
    finally:
        serve.stop()
    code, found = status(config)
    assert code == 1 and codes(found) == ["not_listening", "overdue"]
    assert found["listening"]["ok"] is False and found["listening"]["pid"] is None
    check_contract(found, ".", ".listening", ".attention[]")
    assert "NO: no `leakline serve` holds the serve lock" in run(config, "status").stdout


def test_shunted_mail_needs_attention_and_the_last_error_names_no_content(tmp_path):
    config = write_config(tmp_path)
    # Every case file write fails: intake tries three times, then shunts the message.
    serve = Serve(config, LEAKLINE_FAULT="write:ENOSPC:*/cases/*")
    try:
        serve.send("秘密の顧客名簿", body="山田花子様の住所は東京都港区です。")
        wait_for(lambda: App(load(config)).spool.shunted(), timeout=60, interval=0.2)
        code, found = status(config)
    finally:
        serve.stop()
    assert code == 1 and "shunted" in codes(found)
    assert found["spool"]["shunted"] == 1
    error = found["last_error"]
    assert error["process"] == "intake" and error["level"] == "ERROR"
    assert error["at"].endswith("+09:00")
    check_contract(found, ".last_error", ".attention[]")
    kept = errors_path(tmp_path / "data").read_text(encoding="utf-8")
    assert "shunted" in kept and "OSError" in kept
    for content in ("秘密", "顧客名簿", "山田", "港区"):
        assert content not in kept
    assert oct(errors_path(tmp_path / "data").stat().st_mode & 0o777) == "0o600"


def test_a_dead_letter_needs_attention(tmp_path):
    with SmtpSink() as sink:
        sink.fail("550 5.7.1 Rejected")
        config = write_config(tmp_path, f'transport = "smtp"\nrelay_host = "{sink.host}"\n'
                                        f'relay_port = {sink.port}\n')
        serve = Serve(config)
        try:
            serve.send("メール誤送信の報告")
            wait_for(lambda: App(load(config)).outbox.list(failed=True), timeout=60, interval=0.2)
            code, found = status(config)
        finally:
            serve.stop()
    assert code == 1 and "dead_letters" in codes(found) and "not_listening" not in codes(found)
    assert found["outbox"]["dead_letters"] >= 1
    assert found["outbox"]["orgs"] == [{"org": "default", "queued": found["outbox"]["queued"],
                                        "dead_letters": found["outbox"]["dead_letters"]}]
    assert "leakline outbox list --failed" in found["attention"][0]["message"]


# -- without serve: what the library sees, through the CLI in-process --------------------------

def cli(config, *args):
    return CliRunner().invoke(main, ["--config", str(config), *args])


def ingested(tmp_path):
    config = write_config(tmp_path)
    stored = cli(config, "ingest", "-", "--sender", "taro@example.com")
    assert stored.exit_code == 0, stored.output
    return config


def test_a_spool_backlog_older_than_the_threshold_needs_attention(tmp_path):
    config = ingested(tmp_path)
    (segment,) = App(load(config)).spool.segments()
    past = datetime.now().timestamp() - 20 * 60
    os.utime(segment, (past, past))
    result = cli(config, "status", "--json", "--backlog-minutes", "10")
    found = json.loads(result.output)
    assert result.exit_code == 1 and codes(found) == ["not_listening", "spool_backlog"]
    assert found["spool"]["waiting"] == 1 and found["spool"]["oldest_age_seconds"] >= 1199
    assert "20 min" in found["attention"][1]["message"]
    found = json.loads(cli(config, "status", "--json", "--backlog-minutes", "30").output)
    assert codes(found) == ["not_listening"]


def test_outbox_mail_due_too_long_needs_attention(tmp_path):
    config = write_config(tmp_path)
    then = datetime.now(timezone.utc) - timedelta(minutes=45)
    app = App(load(config), now=lambda: then)
    app.prepare()
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "incident@example.com", "po@example.com", "x"
    message.set_content("x")
    app.outbox.enqueue(message, envelope_from="incident@example.com", envelope_to=["po@example.com"],
                       case_id=None, kind="escalation")
    found = json.loads(cli(config, "status", "--json").output)
    assert found["outbox"]["queued"] == 1 and found["outbox"]["oldest_due_seconds"] >= 45 * 60 - 5
    assert codes(found) == ["not_listening", "outbox_backlog"]
    assert "45 min" in found["attention"][1]["message"]


def test_a_damaged_journal_or_a_readable_data_dir_is_a_store_problem(tmp_path):
    config = ingested(tmp_path)
    data = tmp_path / "data"
    journal = data / "journal" / "redo.log"
    journal.parent.mkdir(mode=0o700, exist_ok=True)
    # A record that fails its hash with data after it: damage, not a torn end.
    journal.write_bytes(b"LLJ1 R 2 0 " + b"0" * 64 + b"\n{}" + b"more bytes\n")
    found = json.loads(cli(config, "status", "--json").output)
    assert "store" in codes(found) and found["store"]["ok"] is False
    assert "damaged at byte 0" in found["store"]["problems"][0]
    assert journal.read_bytes().endswith(b"more bytes\n")  # status read it, cut nothing
    journal.write_bytes(b"")
    data.chmod(0o755)
    result = cli(config, "status")
    assert result.exit_code == 1 and "open to other users" in result.output
    data.chmod(0o700)
    assert "store" not in codes(json.loads(cli(config, "status", "--json").output))


def test_a_damaged_index_shard_is_said_and_rebuilt(tmp_path):
    from test_cli_process import make_env

    path, app, case_id = make_env(tmp_path)
    (shard,) = (tmp_path / "data" / "index").glob("*/*.json")
    shard.write_bytes(b"{not json")
    found = json.loads(cli(path, "status", "--json").output)
    assert "store" in codes(found) and found["store"]["repairs"]
    assert found["deadlines"]["orgs"][0]["open"] == 1  # the case is still counted
    assert "store" not in codes(json.loads(cli(path, "status", "--json").output))


def test_status_and_backup_as_root_refuse_a_data_dir_of_another_user(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root: chown to another user")
    config = ingested(tmp_path)
    os.chown(tmp_path / "data", 65534, 65534)
    for args in (["status"], ["backup", str(tmp_path / "copy")]):
        result = cli(config, *args)
        assert result.exit_code == 1 and "run this as that user" in result.output, args
    assert not (tmp_path / "copy").exists()


def test_status_without_data_says_so(tmp_path):
    config = write_config(tmp_path)
    result = cli(config, "status")
    assert result.exit_code == 1 and "no leakline data at" in result.output


# -- the last-error file ----------------------------------------------------------------------------

def record(message: str, *args, exc: BaseException | None = None) -> logging.LogRecord:
    return logging.LogRecord("leakline.pipeline", logging.ERROR, __file__, 1, message, args,
                             (type(exc), exc, None) if exc else None)


def test_the_error_file_keeps_one_clean_line_an_error_and_rotates(tmp_path):
    handler = ErrorFile(tmp_path, "intake")
    handler.emit(record("shunted %s after %d attempts", "s.0", 3))
    assert last_error(tmp_path)["message"] == "shunted s.0 after 3 attempts"
    handler.emit(record("a \x1b[31mred\x1b[0m line\nsecond", exc=ValueError("the body text")))
    newest = last_error(tmp_path)
    assert newest["message"] == "a red line second [ValueError]"  # no traceback, no exception text
    handler.emit(record("x" * 2000))
    assert len(last_error(tmp_path)["message"]) == 500
    lines = ROTATE_BYTES // 300 + 10  # each over 300 bytes: past the limit, rotated once
    for number in range(lines):
        handler.emit(record("error number %d %s", number, "y" * 300))
    rotated = errors_path(tmp_path).with_name("errors.jsonl.1")
    assert rotated.exists() and errors_path(tmp_path).stat().st_size <= ROTATE_BYTES
    assert last_error(tmp_path)["message"].startswith(f"error number {lines - 1} yyy")
    errors_path(tmp_path).write_bytes(b"")  # just rotated: the newest is in the older file
    assert last_error(tmp_path)["message"].startswith("error number")


def test_overdue_deadlines_per_organisation_with_several(tmp_path):
    from orgs_helpers import ACME_IN, GLOBEX_IN, JANE, TARO, mail
    from orgs_helpers import write_config as two_orgs

    config = two_orgs(tmp_path)
    for sender, rcpt, n in ((TARO, ACME_IN, 1), (JANE, GLOBEX_IN, 2)):
        raw = mail("誤送信 / misdirected mail", REPORT_TEXT, sender=sender, to=[rcpt],
                   message_id=f"<org-{n}@example.jp>")
        stored = CliRunner().invoke(main, ["--config", str(config), "ingest", "-", "--sender",
                                           sender, "--recipient", rcpt], input=raw)
        assert stored.exit_code == 0, stored.output
    app = App(load(config))
    app.pipeline.drain()
    # One of globex's mails is a dead letter: status names globex, the others only queue.
    queued = app.outbox.list()
    (globex_mail, *_) = [row for row in queued if row["org"] == "globex"]
    app.outbox.mark_failed(globex_mail["id"], "550 5.1.1 no such user")
    acme = json.loads(cli(config, "--org", "acme", "cases", "list", "--json").output)
    assessed = cli(config, "--org", "acme", "cases", "assess", acme[0]["id"], "--discovered-at",
                   "2025-01-06T10:00:00+09:00", "--by", "privacy@acme.example.jp")
    assert assessed.exit_code == 0, assessed.output
    result = cli(config, "status", "--json")  # the service's: no --org needed
    found = json.loads(result.output)
    assert result.exit_code == 1
    assert found["deadlines"] == {"overdue": 1, "unacknowledged": 0, "orgs": [
        {"org": "acme", "open": 1, "overdue": 1, "unacknowledged": 0},
        {"org": "globex", "open": 1, "overdue": 0, "unacknowledged": 0}]}
    by_org = {o["org"]: o for o in found["outbox"]["orgs"]}
    assert by_org["globex"]["dead_letters"] == 1 and by_org["acme"]["dead_letters"] == 0
    assert sum(o["queued"] for o in by_org.values()) == len(queued) - 1
    (dead,) = [need for need in found["attention"] if need["code"] == "dead_letters"]
    assert "(globex: 1)" in dead["message"] and "leakline --org ID outbox list --failed" in dead["message"]
    (overdue,) = [need for need in found["attention"] if need["code"] == "overdue"]
    assert "(acme: 1)" in overdue["message"] and "leakline --org ID deadlines" in overdue["message"]
    text = cli(config, "status").output
    assert "acme: 1 of 1 open" in text and "globex: 0 of 1 open" in text and "globex: 1 dead" in text

    # Two hours on (acme gives its managers 30 min, globex 60): both escalations still run; once
    # acme's manager acknowledges, only globex's case needs a person.
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    found = service_status(load(config), now=later, options=Options(probe_seconds=1))
    assert [o["unacknowledged"] for o in found["deadlines"]["orgs"]] == [1, 1]
    acked = cli(config, "--org", "acme", "cases", "ack", acme[0]["id"], "--by", "privacy@acme.example.jp")
    assert acked.exit_code == 0, acked.output
    found = service_status(load(config), now=later, options=Options(probe_seconds=1))
    assert found["deadlines"]["unacknowledged"] == 1
    (unacked,) = [need for need in found["attention"] if need["code"] == "unacknowledged"]
    assert "(globex: 1)" in unacked["message"] and "cases list --unacked" in unacked["message"]
    # Within the hour nobody is late yet.
    found = service_status(load(config), options=Options(probe_seconds=1))
    assert found["deadlines"]["unacknowledged"] == 0 and "unacknowledged" not in codes(found)


REPORT_TEXT = "顧客名簿（約120名分）を記載したメールを社外に誤送信しました。"


def test_installing_the_error_file_twice_writes_each_error_once(tmp_path):
    from leakline.errorlog import install

    root = logging.getLogger()
    before = list(root.handlers)
    try:
        install(tmp_path, "listener")
        handler = install(tmp_path, "listener")
        logging.getLogger("leakline.test").error("refused %s", "once")
    finally:
        for extra in [h for h in root.handlers if h not in before]:
            root.removeHandler(extra)
    assert handler not in root.handlers
    assert errors_path(tmp_path).read_text().count("refused once") == 1


def test_too_little_free_disk_space_needs_attention(tmp_path):
    import shutil

    config = ingested(tmp_path)
    result = cli(config, "status", "--json")
    found = json.loads(result.output)
    usage = shutil.disk_usage(tmp_path / "data")
    assert found["disk"]["total_bytes"] == usage.total
    assert abs(found["disk"]["free_percent"] - 100 * usage.free / usage.total) < 1
    assert "disk_space" not in codes(found)  # this machine's disk is far from full
    # A threshold above what is free: the monitor is told, with what to do.
    result = cli(config, "status", "--json", "--min-free-percent", "100")
    assert result.exit_code == 1
    (need,) = [n for n in json.loads(result.output)["attention"] if n["code"] == "disk_space"]
    assert "% free" in need["message"] and "leakline purge" in need["message"]
    assert "% free (" in cli(config, "status").output
