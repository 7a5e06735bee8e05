"""`leakline backup PATH` (issue 15): a consistent copy while serve takes a burst of mail, every
message acknowledged before the backup began in the copy once processed, private, verified,
restorable; the refusals. Through the real CLI beside a real `leakline serve`."""

from __future__ import annotations

import json
import shutil
import smtplib
import stat
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from leakline.app import App
from leakline.backup import BackupError, backup
from leakline.cli import main
from leakline.config import load
from leakline.node import backend_name, operations
from mailbuilders import plain_mail
from ops_helpers import INCIDENT, REPORT, Serve, run, write_config


def restored_config(tmp_path: Path, data: Path) -> Path:
    """A config on the copy, as an operator restores it (data copied back as data_dir)."""
    path = tmp_path / "restored.toml"
    path.write_text(f'[service]\ndata_dir = "{data}"\n[organization]\nincident_address = '
                    f'"{INCIDENT}"\ndomains = ["example.com"]\n[[managers]]\nname = "PO"\n'
                    'email = "po@example.com"\nrole = "privacy_officer"\n', encoding="utf-8")
    return path


def message_ids(config: Path) -> set[str]:
    app = App(load(config))
    return {m["message_id"] for case in app.store.cases("all") for m in case["messages"]
            if m.get("direction") == "in"}


def wait_for(config: Path, *wanted: str) -> None:
    """Until intake made cases of these Message-IDs (at most a minute: the machine is shared)."""
    deadline = time.monotonic() + 60
    while not set(wanted) <= message_ids(config):
        assert time.monotonic() < deadline, message_ids(config)
        time.sleep(0.2)


class Burst(threading.Thread):
    """Reports sent one after another over one connection, a few ms apart, until stopped; when
    each got its 250."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.acknowledged: list[tuple[float, str]] = []  # (monotonic time of the 250, Message-ID)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", self.port, timeout=60) as client:
                for n in range(5000):
                    if self.stop.wait(0.02):
                        return
                    message_id = f"<burst-{n}@example.com>"
                    sender = f"staff{n}@example.com"
                    raw = plain_mail(f"誤送信 {n}", REPORT, sender=sender, message_id=message_id)
                    client.sendmail(sender, [INCIDENT], raw)  # raises unless 250
                    self.acknowledged.append((time.monotonic(), message_id))
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            self.error = exc


def test_a_backup_taken_during_a_burst_verifies_and_loses_no_acknowledged_message(tmp_path):
    config = write_config(tmp_path)
    serve = Serve(config)
    burst = Burst(serve.port)
    try:
        burst.start()
        # Once intake is making cases and mail still arrives: the copy must hold both kinds,
        # messages already cases and messages still in the spool.
        app, deadline = App(load(config)), time.monotonic() + 60
        while len(app.store.summaries("all")) < 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert burst.is_alive(), "the burst ended before the backup began"
        started = time.monotonic()
        done = run(config, "backup", str(tmp_path / "backup"))
        finished = time.monotonic()
        burst.stop.set()
        burst.join(120)
    finally:
        serve.stop()
    assert burst.error is None, burst.error
    assert done.returncode == 0, done.stdout + done.stderr
    assert "audit chain verified" in done.stdout
    before = {mid for at, mid in burst.acknowledged if at < started}
    during = [mid for at, mid in burst.acknowledged if started <= at < finished]
    assert before and during, "the backup must overlap the burst"

    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["verified"] is True and manifest["stores"][0]["audit"]["ok"]
    copy = tmp_path / "backup" / "data"
    restored = restored_config(tmp_path, copy)
    copied = App(load(restored))
    assert len(copied.store.summaries("all")) >= 10
    copied.pipeline.drain()  # what was still in the copy's spool becomes cases
    assert before <= message_ids(restored)
    for args in (["store", "check"], ["audit", "verify"]):
        checked = run(restored, *args)
        assert checked.returncode == 0, (args, checked.stdout, checked.stderr)


def test_a_backup_is_private_and_lists_every_file_with_its_hash(tmp_path):
    import hashlib

    config = write_config(tmp_path)
    serve = Serve(config)
    try:
        serve.send("メール誤送信の報告", message_id="<private-1@example.com>")
        wait_for(config, "<private-1@example.com>")
        done = run(config, "backup", str(tmp_path / "b"))
    finally:
        serve.stop()
    assert done.returncode == 0, done.stderr
    root = tmp_path / "b"
    manifest = json.loads((root / "manifest.json").read_text())
    paths = [p for p in root.rglob("*")]
    for path in [root, *paths]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    listed = {str(p.relative_to(root / "data")) for p in (root / "data").rglob("*") if p.is_file()}
    assert listed == set(manifest["files"])
    for rel, expected in manifest["files"].items():
        data = (root / "data" / rel).read_bytes()
        assert hashlib.sha256(data).hexdigest() == expected["sha256"] and len(data) == expected["size"]
    # The installation's Message-ID key goes with the data (replies to old mail still thread);
    # locks, the serve lock and unanswered temp files do not.
    assert "secret/message-id.key" in listed and "keys.sqlite" in listed
    assert not any(name.endswith((".lock", "serve.lock")) or name.startswith("spool/tmp")
                   for name in listed)


def test_a_restored_backup_serves_again(tmp_path):
    config = write_config(tmp_path)
    serve = Serve(config)
    try:
        serve.send("メール誤送信の報告", message_id="<restore-1@example.com>")
        wait_for(config, "<restore-1@example.com>")
        assert run(config, "backup", str(tmp_path / "b")).returncode == 0
    finally:
        serve.stop()
    # Restore as docs/deploy.md says: serve stopped, the copy back as data_dir, store check.
    data = tmp_path / "data"
    shutil.rmtree(data)
    shutil.copytree(tmp_path / "b" / "data", data, symlinks=True)
    assert run(config, "store", "check").returncode == 0
    serve = Serve(config)
    try:
        serve.send("続報", message_id="<restore-2@example.com>")
        deadline = time.monotonic() + 60
        while message_ids(config) != {"<restore-1@example.com>", "<restore-2@example.com>"}:
            assert time.monotonic() < deadline, message_ids(config)
            time.sleep(0.2)
    finally:
        serve.stop()
    assert run(config, "audit", "verify").returncode == 0


def test_a_store_edited_behind_its_audit_trail_is_backed_up_but_does_not_verify(tmp_path):
    from test_cli_process import make_env

    path, app, case_id = make_env(tmp_path)
    (case_file,) = (tmp_path / "data" / "cases").glob(f"*/*/{case_id}.json")
    case_file.write_text(case_file.read_text(encoding="utf-8").replace('"value":120', '"value":12'),
                         encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "backup", str(tmp_path / "b")])
    assert result.exit_code == 1 and "DID NOT VERIFY" in result.output, result.output
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["verified"] is False


def test_several_organisations_are_each_copied_and_verified(tmp_path):
    from orgs_helpers import ACME_IN, GLOBEX_IN, JANE, TARO, mail
    from orgs_helpers import write_config as two_orgs

    config = two_orgs(tmp_path)
    for sender, rcpt, n in ((TARO, ACME_IN, 1), (JANE, GLOBEX_IN, 2)):
        raw = mail("誤送信", REPORT, sender=sender, to=[rcpt], message_id=f"<o-{n}@example.jp>")
        assert CliRunner().invoke(main, ["--config", str(config), "ingest", "-", "--sender",
                                         sender, "--recipient", rcpt], input=raw).exit_code == 0
    App(load(config)).pipeline.drain()
    done = run(config, "backup", str(tmp_path / "b"))  # the service's: no --org
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert [(s["store"], s["audit"]["ok"], s["cases"]["cases"]) for s in manifest["stores"]] == \
        [("orgs/acme", True, 1), ("orgs/globex", True, 1)]
    # The service's outbox is in the copy as it was (whatever its layout on disk).
    copied = tmp_path / "copied.toml"
    copied.write_text(config.read_text(encoding="utf-8").replace(
        str(tmp_path / "data"), str(tmp_path / "b" / "data")), encoding="utf-8")
    queued = sorted(row["id"] for row in App(load(config)).outbox.list())
    assert queued and sorted(row["id"] for row in App(load(copied)).outbox.list()) == queued


@pytest.mark.parametrize("where", ["inside", "not-empty", "a-file"])
def test_refusals_write_nothing(tmp_path, where):
    config = write_config(tmp_path)
    assert CliRunner().invoke(main, ["--config", str(config), "ingest", "-"],
                              input=b"Subject: x\n\nhello\n").exit_code == 0
    data = tmp_path / "data"
    target = {"inside": data / "backups" / "today", "not-empty": tmp_path / "full",
              "a-file": tmp_path / "file"}[where]
    if where == "not-empty":
        target.mkdir()
        (target / "keep.txt").write_text("mine")
    elif where == "a-file":
        target.write_text("mine")
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    result = CliRunner().invoke(main, ["--config", str(config), "backup", str(target)])
    assert result.exit_code == 1
    assert {"inside": "is inside data_dir", "not-empty": "is not empty",
            "a-file": "not a folder"}[where] in result.output
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_a_postgresql_store_is_backed_up_with_pg_dump(tmp_path):
    """The hook the PostgreSQL backend fills: `[store] backend` does not exist yet, so a config
    that has it is stood in for by one with that attribute."""
    config = load(write_config(tmp_path))
    postgres = SimpleNamespace(store=SimpleNamespace(backend="postgresql"), service=config.service)
    with pytest.raises(BackupError, match="pg_dump"):
        backup(postgres, tmp_path / "b", datetime.now(timezone.utc))
    assert not (tmp_path / "b").exists()
    # The file store goes by `[store] backend`'s default name, "tinydb" (and by "file").
    for name in ("tinydb", "file"):
        named = SimpleNamespace(store=SimpleNamespace(backend=name), service=config.service,
                                org_subtrees=config.org_subtrees, orgs=config.orgs)
        assert operations(named).backup_refusal() is None and backend_name(named) == "tinydb"


def test_a_sqlite_table_is_copied_whole_with_what_its_wal_holds(tmp_path):
    # Any SQLite database in data_dir (the key index; the outbox's rows once they are a table),
    # found by its header, not its name: rows still in its write-ahead log are in the copy.
    import sqlite3

    from test_cli_process import make_env

    path, app, case_id = make_env(tmp_path)
    table = tmp_path / "data" / "rows.sqlite"
    writer = sqlite3.connect(table)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("CREATE TABLE outbox (id TEXT)")
        with writer:
            writer.executemany("INSERT INTO outbox VALUES (?)", [(f"m{n}",) for n in range(50)])
        assert (tmp_path / "data" / "rows.sqlite-wal").stat().st_size > 0  # not checkpointed
        result = CliRunner().invoke(main, ["--config", str(path), "backup", str(tmp_path / "b")])
    finally:
        writer.close()
    assert result.exit_code == 0, result.output
    copy = tmp_path / "b" / "data"
    reader = sqlite3.connect(f"file:{copy / 'rows.sqlite'}?mode=ro", uri=True)
    try:
        assert reader.execute("SELECT count(*) FROM outbox").fetchone() == (50,)
    finally:
        reader.close()
    files = json.loads((tmp_path / "b" / "manifest.json").read_text())["files"]
    assert "rows.sqlite" in files and not any(name.endswith(("-wal", "-shm")) for name in files)
    assert not (copy / "rows.sqlite-wal").exists()
