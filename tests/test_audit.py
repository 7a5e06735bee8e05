"""The audit trail: a hash chain that shows tampering and survives SIGKILL at any point, on
the file store and on PostgreSQL (the tests taking `setup` or `backend` run on both)."""

import json
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from click.testing import CliRunner

from leakline.cli import main
from leakline.store.cases import ChangeWithoutEvent, Store
from mailbuilders import plain_mail


def invoke(config_path, *args):
    return CliRunner().invoke(main, ["--config", str(config_path), *args], catch_exceptions=False)


def store_toml(backend) -> str:
    section = backend.store_section()
    return "".join(["[store]\n", *(f'{k} = "{v}"\n' for k, v in section.items())]) \
        if section else ""


@pytest.fixture
def setup(tmp_path, backend):
    path = tmp_path / "c.toml"
    path.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\n' + store_toml(backend))
    from leakline.app import App
    from leakline.config import load
    from leakline.store.spool import SpoolEntry

    app = App(load(path))
    app.prepare()
    for i in range(3):
        app.intake.process(SpoolEntry(f"s.{i}", {"spool_id": f"s.{i}", "mail_from": "a@example.com"},
                                      plain_mail(f"報告{i}", "本文", message_id=f"<au{i}@example.com>")))
    return path, app


def chain_lines(app):
    if getattr(app, "db", None) is None:
        return app.store.audit.chain.read_bytes().splitlines(keepends=True)
    return [line.encode() for (line,) in app.db.query(
        "SELECT line FROM events WHERE org = %s ORDER BY seq", (app.store.org,))]


def write_chain(app, lines: list[bytes]) -> None:
    """The chain as someone with write access to the files, or to the database, left it."""
    if getattr(app, "db", None) is None:
        app.store.audit.chain.write_bytes(b"".join(lines))
        return
    with app.db.transaction() as tx:
        tx.execute("DELETE FROM events WHERE org = %s", (app.store.org,))
        for seq, line in enumerate(lines, 1):
            tx.execute("INSERT INTO events (org, seq, id, line) VALUES (%s, %s, %s, %s)",
                       (app.store.org, seq, f"tampered-{seq}", line.decode().rstrip("\n")))


def test_every_intake_is_an_event_and_the_chain_verifies(setup):
    path, app = setup
    result = invoke(path, "audit", "verify")
    assert result.exit_code == 0 and "3 events" in result.output
    shown = json.loads(invoke(path, "audit", "show", "INC-" + app.store.summaries()[0]["id"][4:],
                              "--json").output)
    assert [e["action"] for e in shown] == ["case_opened"]
    assert shown[0]["details"]["message_id"] == "<au0@example.com>"


@pytest.mark.parametrize("tamper, line", [
    ("edit", 2), ("delete", 2), ("reorder", 1), ("delete_last", 3),
])
def test_tampering_is_found_and_named(setup, tamper, line):
    path, app = setup
    lines = chain_lines(app)
    if tamper == "edit":
        assert b"case_opened" in lines[1]
        lines[1] = lines[1].replace(b"case_opened", b"case_closed")
    elif tamper == "delete":
        del lines[1]
    elif tamper == "reorder":
        lines[0], lines[1] = lines[1], lines[0]
    elif tamper == "delete_last":
        del lines[2]
    write_chain(app, lines)
    result = CliRunner().invoke(main, ["--config", str(path), "audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at event {line}" in result.output


def test_a_save_without_its_event_is_refused(setup):
    _, app = setup
    case = app.store.get(app.store.summaries()[0]["id"])
    case["subject"] = "changed"
    with pytest.raises(ChangeWithoutEvent):
        app.store.save(case, [])


def test_export_is_readable_without_leakline(setup, tmp_path):
    import hashlib

    path, app = setup
    case_id = app.store.summaries()[0]["id"]
    out = tmp_path / "export"
    assert invoke(path, "audit", "export", case_id, "--out", str(out)).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest) == {"case.json", "timeline.json", "timeline.txt", "README.txt",
                             "messages/001-in.eml"}
    for name, digest in manifest.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert b"<au0@example.com>" in (out / "messages/001-in.eml").read_bytes()
    assert json.loads((out / "case.json").read_text())["id"] == case_id


WRITER = textwrap.dedent("""
    import sys, itertools
    from pathlib import Path
    from leakline.store.cases import Store
    if sys.argv[1].startswith("postgresql://"):
        from leakline.store.pg.cases import PgStore
        from leakline.store.pg.db import Database
        store = PgStore(Database(sys.argv[1], sys.argv[2]), "default")
    else:
        store = Store(Path(sys.argv[1]))
    store.prepare()
    for n in itertools.count():
        case_id = f"INC-2026-{n % 7 + 1:04d}"
        if store.exists(case_id):
            store.update(case_id, lambda c: (c.__setitem__("note", n),
                         [{"action": "note", "actor": "w@example.com", "details": {"n": n}}])[1])
        else:
            store.save({"id": case_id, "status": "open", "messages": []},
                       [{"action": "case_opened", "details": {"n": n}}])
        print(n, flush=True)
""")


def test_sigkill_at_random_points_keeps_change_and_event_together(backend):
    where = [backend.pg.url, backend.pg.password_env] if backend.shared else [str(backend.data_dir)]
    rng = random.Random(7)
    for _ in range(8):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, *where], stdout=subprocess.PIPE)
        proc.stdout.readline()
        time.sleep(rng.uniform(0.01, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    store = backend.store()  # recovery
    result = store.audit.verify()
    assert result.ok, result
    chain = list(store.audit.events())
    for row in store.summaries("all"):
        case = store.get(row["id"])
        ids = {e["id"] for e in chain if e["case"] == row["id"]}
        expected = {f"{row['id']}#{n}" for n in range(1, case["event_count"] + 1)}
        assert ids == expected, f"{row['id']}: change and events disagree"


def _close(app, case_id, when):
    def close(case):
        case["status"], case["closed_at"] = "closed", when
        return [{"action": "case_closed", "actor": "po@example.com", "details": {}}]
    app.store.update(case_id, close)


def test_purge_removes_personal_data_and_keeps_the_chain(setup):
    path, app = setup
    old, recent, still_open = (r["id"] for r in app.store.summaries("all"))
    _close(app, old, "2020-01-01T00:00:00+09:00")
    _close(app, recent, app.now().isoformat())
    raw_old = app.store.raw_path(app.store.get(old)["messages"][0]["raw"])
    assert raw_old.exists()

    dry = invoke(path, "purge", "--dry-run")
    assert dry.output.strip() == f"would purge {old}"
    assert raw_old.exists() and app.store.get(old)["messages"][0]["text"] == "本文"

    assert invoke(path, "purge", "--by", "po@example.com").output.strip() == f"purged {old}: 1 messages"
    assert not raw_old.exists()
    case = json.loads(invoke(path, "cases", "show", old, "--json").output)
    assert case["messages"][0]["text"] is None and case["messages"][0]["purged"] is True
    assert case["subject"] == "報告0" and case["status"] == "closed"
    for other in (recent, still_open):
        assert app.store.get(other)["messages"][0]["text"] == "本文"
    assert invoke(path, "audit", "verify").exit_code == 0
    (event,) = [e for e in app.store.audit.for_case(old) if e["action"] == "purged"]
    assert event["actor"] == "po@example.com"
    assert event["details"]["removed"][0]["raw_sha256"] == raw_old.stem
    assert invoke(path, "purge").output.startswith("nothing to purge")


def test_two_writers_keep_one_chain(setup, backend):
    """The server and the CLI are two processes, each with its own view of the chain's head."""
    _, app = setup
    other = backend.store()
    case_id = app.store.summaries()[0]["id"]
    for i in range(3):
        for store in (app.store, other):
            store.update(case_id, lambda c, i=i: (c.__setitem__("note", i),
                                                  [{"action": "note", "details": {"i": i}}])[1])
    result = app.store.audit.verify()
    assert result.ok, result
    assert result.events == 3 + 6
