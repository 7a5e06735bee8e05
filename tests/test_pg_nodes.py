"""Several `leakline serve` nodes on one PostgreSQL database (issue 15): real processes on free
ports, real SMTP. A node killed with SIGKILL mid-run loses no acknowledged message, no message
makes two cases (also when the MTA delivers it to both nodes), no mail goes out twice; a
database that goes away is 451 at SMTP, and the node recovers by itself."""

from __future__ import annotations

import email
import os
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import free_port
from mailbuilders import iso2022jp_mail

pytestmark = pytest.mark.postgres
WORKTREE = Path(__file__).resolve().parent.parent


def node_config(tmp_path: Path, name: str, store: dict, port: int | None = None,
                extra: str = "") -> tuple[Path, int]:
    """A node's config on the shared database: its own data_dir and port (a free one unless
    given), `extra` TOML sections (e.g. [mail])."""
    port = port or free_port()
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'[service]\ndata_dir = "{tmp_path / name}"\nlisten = "127.0.0.1:{port}"\n'
        '[organization]\nname = "テスト株式会社"\nincident_address = "incident@example.com"\n'
        'domains = ["example.com"]\n'
        '[[managers]]\nname = "PO"\nemail = "po@example.com"\nrole = "privacy_officer"\n'
        + extra + "[store]\n" + "".join(f'{k} = "{v}"\n' for k, v in store.items()), encoding="utf-8")
    return path, port


def start_node(path: Path):
    env = {**os.environ, "PYTHONPATH": str(WORKTREE)}
    proc = subprocess.Popen([sys.executable, "-m", "leakline", "--config", str(path), "serve"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, bufsize=0,
                            start_new_session=True)
    first = proc.stdout.readline().decode()
    assert "listening" in first, (first, proc.stderr.read(2000) if proc.poll() is not None else "")
    return proc


def stop_node(proc) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=60)


def kill_node(proc) -> None:
    os.killpg(proc.pid, signal.SIGKILL)  # the node and its worker processes, no goodbye
    proc.communicate(timeout=60)


def report(n: int) -> bytes:
    return iso2022jp_mail(f"【漏えい】誤送信 {n:02d}", f"顧客 {n} 名分の名簿を誤送信しました。",
                          message_id=f"<node{n}@example.com>")


def send(port: int, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.sendmail("taro@example.com", ["incident@example.com"], raw)


def scalar(db, sql: str):
    with db.connect() as conn:
        return conn.execute(sql).fetchone()[0]


def wait_for(check, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.5)


def sent_ids(tmp_path: Path) -> list[str]:
    ids = []
    for path in tmp_path.glob("node*/mail-out/**/*"):
        if path.is_file() and not path.name.startswith("."):
            ids.append(email.message_from_bytes(path.read_bytes())["Message-ID"])
    return ids


def test_two_nodes_one_killed_mid_run_lose_nothing_and_double_nothing(pg_migrated, tmp_path):
    store = pg_migrated.store_config()
    (one_cfg, one_port), (two_cfg, two_port) = (node_config(tmp_path, "node1", store),
                                                node_config(tmp_path, "node2", store))
    one, two = start_node(one_cfg), start_node(two_cfg)
    try:
        total = 30
        for n in range(1, 16):  # round robin, as two MX of equal preference
            send(one_port if n % 2 else two_port, report(n))
        send(two_port, report(3))  # the MTA's retry of a message node 1 already took: one case
        kill_node(one)  # mid-run: whatever node 1 acknowledged and had not processed
        for n in range(16, total + 1):
            send(two_port, report(n))
        wait_for(lambda: scalar(pg_migrated, "SELECT count(*) FROM spool") == 0)
        assert scalar(pg_migrated, "SELECT count(*) FROM cases") == total
        subjects = scalar(pg_migrated, "SELECT array_agg(summary::json->>'subject') FROM cases")
        assert sorted(subjects) == [f"【漏えい】誤送信 {n:02d}" for n in range(1, total + 1)]
        # Every reply goes out once: queued ones node 1 left are sent by node 2; any it was
        # handing over when killed stay `sending` for a person (never resent by themselves).
        wait_for(lambda: scalar(pg_migrated,
                                "SELECT count(*) FROM outbox WHERE state = 'queued'") == 0)
        ids = sent_ids(tmp_path)
        assert ids and len(ids) == len(set(ids))
        sending = scalar(pg_migrated, "SELECT count(*) FROM outbox WHERE state = 'sending'")
        assert len(ids) + sending == scalar(pg_migrated, "SELECT count(*) FROM outbox")
    finally:
        stop_node(two)
        if one.poll() is None:
            kill_node(one)
    verify = subprocess.run([sys.executable, "-m", "leakline", "--config", str(two_cfg), "audit",
                             "verify"], capture_output=True, timeout=60)
    assert verify.returncode == 0, verify.stderr


def test_smtp_answers_451_while_the_database_is_down_and_the_node_recovers(
        pg_migrated, pg_cluster, tmp_path):
    cfg, port = node_config(tmp_path, "node1", pg_migrated.store_config())
    node = start_node(cfg)
    try:
        pg_cluster.stop()
        try:
            with pytest.raises(smtplib.SMTPDataError) as refused:
                send(port, report(1))
            assert refused.value.smtp_code == 451
        finally:
            pg_cluster.start()
        wait_for(lambda: _accepted(port, report(1)), 30)
        wait_for(lambda: scalar(pg_migrated, "SELECT count(*) FROM cases") == 1, 60)
    finally:
        stop_node(node)


def _accepted(port: int, raw: bytes) -> bool:
    try:
        send(port, raw)
    except smtplib.SMTPDataError as exc:
        assert exc.smtp_code == 451
        return False
    return True
