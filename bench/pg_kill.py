"""Issue 15: a node killed mid-load. Two `leakline serve` nodes on one PostgreSQL database;
reports go to both over SMTP (round robin, 4 sessions at a time, as two MX of one
preference); after 40% of them node 1 is killed with SIGKILL (its worker processes too) and
what it refuses goes to node 2, as an MTA's fallback does. Then: every acknowledged (250)
message is exactly one case, no mail is in the two Maildirs twice, and what node 1 was
handing to its transport is left `sending` for a person.

    python bench/pg_kill.py [--reports 1000]
"""

from __future__ import annotations

import argparse
import email
import os
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests"), str(ROOT)]

from benchinfo import header  # noqa: E402
from smtpload import make_mail  # noqa: E402


def node(work: Path, name: str, store: dict, port: int) -> subprocess.Popen:
    path = work / f"{name}.toml"
    path.write_text(
        f'[service]\ndata_dir = "{work / name}"\nlisten = "127.0.0.1:{port}"\n'
        '[[managers]]\nname = "PO"\nemail = "po@example.com"\nrole = "privacy_officer"\n'
        "[store]\n" + "".join(f'{k} = "{v}"\n' for k, v in store.items()), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "leakline", "--config", str(path), "serve"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
                            start_new_session=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert "listening" in proc.stdout.readline().decode()
    return proc


def send(port: int, raw: bytes, sender: str) -> bool:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.sendmail(sender, ["incident@example.com"], raw)
        return True
    except (OSError, smtplib.SMTPException):
        return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1000)
    args = parser.parse_args()
    header()
    from conftest import free_port
    from pg_helpers import PgCluster
    from leakline.store.pg.db import Database
    from leakline.store.pg.schema import upgrade

    cluster = PgCluster.started(free_port())
    database = cluster.create_database()
    db = Database(database.url, database.password_env)
    upgrade(db)
    ports = [free_port(), free_port()]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            nodes = [node(work, f"node{n + 1}", database.store_config(), ports[n]) for n in (0, 1)]
            acked, lock, killed = set(), threading.Lock(), threading.Event()
            kill_at = int(args.reports * 0.4)
            counter = iter(range(args.reports))

            def sender_thread():
                for i in counter:
                    sender = f"staff{i}@example.com"
                    raw = make_mail(i, tag="kill", sender=sender)
                    first = 0 if (i % 2 == 0 and not killed.is_set()) else 1
                    if send(ports[first], raw, sender) or (first == 0 and send(ports[1], raw, sender)):
                        with lock:
                            acked.add(i)
                            if len(acked) == kill_at and not killed.is_set():
                                killed.set()
                                os.killpg(nodes[0].pid, signal.SIGKILL)
            started = time.monotonic()
            threads = [threading.Thread(target=sender_thread) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            nodes[0].wait(60)
            while db.one("SELECT count(*) FROM spool")[0] or \
                    db.one("SELECT count(*) FROM outbox WHERE state = 'queued'")[0]:
                time.sleep(0.5)
            elapsed = time.monotonic() - started
            cases = db.one("SELECT count(*) FROM cases")[0]
            subjects = db.one("SELECT count(DISTINCT summary::json->>'subject') FROM cases")[0]
            ids = [email.message_from_bytes(p.read_bytes())["Message-ID"]
                   for p in work.glob("node*/mail-out/**/*") if p.is_file()]
            states = dict(db.query("SELECT state, count(*) FROM outbox GROUP BY state"))
            print(f"reports acknowledged: {len(acked)} of {args.reports}; node 1 killed after "
                  f"{kill_at}; all processed {elapsed:.1f} s after the first send")
            print(f"cases: {cases} ({subjects} distinct subjects); lost: {len(acked) - subjects}; "
                  f"duplicate cases: {cases - subjects}")
            print(f"mail delivered: {len(ids)}, twice: {len(ids) - len(set(ids))}; outbox states: "
                  f"{states}")
            os.killpg(nodes[1].pid, signal.SIGTERM)
            nodes[1].wait(60)
    finally:
        db.close_all()
        cluster.destroy()


if __name__ == "__main__":
    main()
