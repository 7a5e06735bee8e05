"""Issue 15: the pipeline on PostgreSQL with one and with two nodes, against TinyDB, same run.

    python bench/pg_nodes.py [--reports 2000] [--orgs 1]

The reports (2 KB, Japanese, each from its own sender) are spooled first (the listener's
part, not measured here: bench/acceptance.py measures it), then N drain processes start, wait
at a barrier and drain the spool until it is empty: each report parsed, made a case, its
guidance reply and escalation queued in the outbox, the audit events chained, all committed
(delivery by the sender is not part of it). Figures: reports/s from the first process
starting to the last finishing, and CPU seconds per report per process (user + system of
the draining process, from getrusage; PostgreSQL's own CPU given apart), from which the
scaling on separate machines can be read on this shared 2-core box. PostgreSQL is a private
cluster (tests/pg_helpers.py), fsync and synchronous_commit on.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests"), str(ROOT)]

from benchinfo import header  # noqa: E402
from smtpload import make_mail  # noqa: E402

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
from leakline.app import App
from leakline.config import load
app = App(load(sys.argv[1]))
app.prepare()
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.01)
start, handled = time.time(), 0
r0 = resource.getrusage(resource.RUSAGE_SELF)
while True:
    n = app.pipeline.drain()
    handled += n
    if n == 0:
        waiting = app.spool.waiting() if hasattr(app.spool, "waiting") else len(app.spool.segments())
        if waiting == 0:
            break
        time.sleep(0.05)
end = time.time()
r = resource.getrusage(resource.RUSAGE_SELF)
cpu = r.ru_utime + r.ru_stime - r0.ru_utime - r0.ru_stime  # the draining only, not the start
print(json.dumps({"start": start, "end": end, "handled": handled, "cpu": cpu}))
"""


def config(folder: Path, store: dict | None, orgs: int = 1) -> Path:
    path = folder / "leakline.toml"
    text = f'[service]\ndata_dir = "{folder / "data"}"\n'
    if orgs == 1:
        text += '[[managers]]\nname = "PO"\nemail = "po@example.com"\nrole = "privacy_officer"\n'
    for k in range(orgs if orgs > 1 else 0):
        text += (f'[[organizations]]\nid = "org{k}"\nname = "Org {k}"\n'
                 f'incident_address = "incident@org{k}.example.com"\n'
                 f'domains = ["org{k}.example.com", "example.com"]\n'
                 f'[[organizations.managers]]\nname = "PO"\nemail = "po@org{k}.example.com"\n'
                 'role = "privacy_officer"\n')
    if store:
        text += "[store]\n" + "".join(f'{k} = "{v}"\n' for k, v in store.items())
    path.write_text(text, encoding="utf-8")
    return path


def spool(path: Path, reports: int, tag: str, orgs: int = 1) -> None:
    from leakline.app import App
    from leakline.config import load

    app = App(load(path))
    app.prepare()
    envelope = {"mail_from": "", "peer": "bench", "received_at": "2026-11-30T10:00:00+00:00"}
    for first in range(0, reports, 100):
        batch = []
        for i in range(first, min(reports, first + 100)):
            sender = f"staff{i}@example.com"
            to = "incident@example.com" if orgs == 1 else f"incident@org{i % orgs}.example.com"
            batch.append((make_mail(i, tag=tag, sender=sender),
                          dict(envelope, mail_from=sender, rcpt_tos=[to])))
        app.spool.write(batch)


def run(path: Path, nodes: int, work: Path) -> dict:
    go = work / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
             for _ in range(nodes)]
    time.sleep(3.0)  # every process imported and prepared
    go.touch()
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=3600)
        if proc.returncode:
            raise SystemExit(stderr.decode()[-3000:])
        out.append(json.loads(stdout.decode().strip().splitlines()[-1]))
    go.unlink()
    wall = max(o["end"] for o in out) - min(o["start"] for o in out)
    handled = sum(o["handled"] for o in out)
    return {"wall": wall, "handled": handled, "per_process": out}


def pg_cpu(cluster) -> float:
    """CPU seconds of the cluster so far: its live processes, and what the postmaster's
    children that ended (a node's closed connections) used, which it reaped."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    procs = {}
    for pid in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text() if pid.isdigit() else ""
        except OSError:
            continue
        if "(postgres)" in stat:
            fields = stat.rsplit(") ", 1)[1].split()
            procs[int(pid)] = (int(fields[1]), [int(f) for f in fields[11:15]])
    for pid, (ppid, (utime, stime, cutime, cstime)) in procs.items():
        total += utime + stime + (cutime + cstime if ppid not in procs else 0)
    return total / tick


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--orgs", type=int, default=1,
                        help="organisations the reports are spread over (each locks apart)")
    args = parser.parse_args()
    header()
    from pg_helpers import PgCluster
    from conftest import free_port
    from leakline.store.pg.db import Database
    from leakline.store.pg.schema import upgrade

    cluster = PgCluster.started(free_port())
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name, nodes in (("tinydb", 1), ("postgresql", 1), ("postgresql", 2)):
                work = Path(tmp) / f"{name}-{nodes}"
                work.mkdir()
                store = None
                if name == "postgresql":
                    database = cluster.create_database()
                    db = Database(database.url, database.password_env)
                    upgrade(db)
                    db.close_all()
                    store = database.store_config()
                path = config(work, store, args.orgs)
                spool(path, args.reports, f"{name}{nodes}", args.orgs)
                before = pg_cpu(cluster)
                result = run(path, nodes, work)
                result.update(name=name, nodes=nodes, pg_cpu=pg_cpu(cluster) - before)
                rows.append(result)
                cpus = ", ".join(f"{o['cpu'] / max(o['handled'], 1) * 1000:.1f} ms "
                                 f"({o['handled']} reports)" for o in result["per_process"])
                print(f"{name} x{nodes}, {args.orgs} org(s): {result['handled']} reports in {result['wall']:.1f} s = "
                      f"{result['handled'] / result['wall']:.1f} reports/s; CPU per report per "
                      f"process: {cpus}; PostgreSQL CPU {result['pg_cpu']:.1f} s "
                      f"({result['pg_cpu'] / result['handled'] * 1000:.1f} ms/report)", flush=True)
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
