"""Issue 14: a service of many organisations. How long `leakline serve` takes to say "listening"
with N organisations in its config (empty data_dir, and every organisation with a case), and what
one RCPT costs at N organisations: the lookup alone, the listener's handler, and a real SMTP
RCPT round trip against a running `serve`.

    python bench/orgs.py                     # serve at N = 1 and 1000; lookups at 10, 1000, 10000
    python bench/orgs.py --orgs 1000 --rounds 5 --lookup-orgs
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.benchinfo import ROOT, header  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(folder: Path, count: int) -> Path:
    """A config of `count` organisations, each with two managers and a contact."""
    parts = [f'[service]\ndata_dir = "{folder / "data"}"\nlisten = "127.0.0.1:{free_port()}"\n']
    for i in range(count):
        parts.append(f'''
[[organizations]]
id = "org{i}"
name = "Client {i} K.K."
incident_address = "incident@org{i}.example.jp"
domains = ["org{i}.example.jp"]
language = "{'ja' if i % 2 else 'en'}"
privacy_mark = {'true' if i % 3 else 'false'}
legal_name = "株式会社クライアント{i}"
[organizations.contact]
name = "Privacy Office {i}"
phone = "03-0000-{i % 10000:04d}"
[[organizations.managers]]
name = "Officer {i}"
email = "po@org{i}.example.jp"
role = "privacy_officer"
[[organizations.managers]]
name = "Director {i}"
email = "director@org{i}.example.jp"
role = "executive"
''')
    path = folder / "leakline.toml"
    path.write_text("".join(parts), encoding="utf-8")
    return path


def serve(path: Path) -> tuple[subprocess.Popen, float, int]:
    """Start `leakline serve`; seconds until its "listening" line, and the port."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "leakline", "--config", str(path), "serve"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, bufsize=0)
    line = proc.stdout.readline().decode()
    took = time.perf_counter() - started
    if "listening" not in line:
        proc.kill()
        raise SystemExit(f"serve did not start: {line!r} {proc.stderr.read().decode()[-2000:]}")
    return proc, took, int(line.split("127.0.0.1:")[1].split(" ")[0])


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)


def give_each_a_case(path: Path, count: int) -> float:
    """Spool one report to every organisation and let intake make the cases (not timed here)."""
    from leakline.app import App
    from leakline.config import load

    app = App(load(path))
    app.prepare()
    for i in range(count):
        raw = (f"From: staff@org{i}.example.jp\r\nTo: incident@org{i}.example.jp\r\n"
               f"Subject: lost a USB stick\r\nMessage-ID: <b{i}@org{i}.example.jp>\r\n\r\n"
               "I lost a USB stick with 20 customer names.\r\n").encode()
        app.spool.write([(raw, {"mail_from": f"staff@org{i}.example.jp",
                                "rcpt_tos": [f"incident@org{i}.example.jp"], "peer": "127.0.0.1"})])
    started = time.perf_counter()
    app.pipeline.drain()
    took = time.perf_counter() - started
    from leakline.responders.scheduler import ServiceScheduler

    scheduler = ServiceScheduler(app.schedulers)
    scheduler.run_once()
    started = time.perf_counter()
    scheduler.run_once()  # a pass with nothing due: every organisation's open cases read
    return took, time.perf_counter() - started


def lookup_ns(path: Path, count: int) -> tuple[float, float]:
    """ns per OrgTable lookup and per listener RCPT handler call (for the last organisation)."""
    from leakline import server
    from leakline.config import load

    config = load(path)
    table = config.organizations
    address = f"incident@org{count - 1}.example.jp"
    n = 200_000
    lookup = min(timeit.repeat(lambda: table.for_address(address), number=n, repeat=5)) / n * 1e9
    handler = server.IncidentHandler(table, committer=None)

    class Envelope:
        rcpt_tos: list = []

    async def calls(k: int) -> float:
        started = time.perf_counter()
        for _ in range(k):
            Envelope.rcpt_tos = []
            await handler.handle_RCPT(None, None, Envelope, address, [])
        return time.perf_counter() - started

    k = 100_000
    rcpt = min(asyncio.run(calls(k)) for _ in range(5)) / k * 1e9
    return lookup, rcpt


def smtp_rcpt_ms(port: int, count: int, rounds: int = 2000) -> float:
    """Median ms of one RCPT TO over a real connection (the last organisation's address)."""
    address = f"incident@org{count - 1}.example.jp"
    times = []
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo()
        for _ in range(rounds):
            client.mail("staff@example.org")
            started = time.perf_counter()
            code, _ = client.rcpt(address)
            times.append(time.perf_counter() - started)
            assert code == 250, code
            client.rset()
    return statistics.median(times) * 1000


def measure(count: int, rounds: int) -> dict:
    from leakline.config import load

    with tempfile.TemporaryDirectory() as tmp:
        path = write_config(Path(tmp), count)
        load_s = min(timeit.repeat(lambda: load(path), number=1, repeat=3))
        empty = []
        for _ in range(rounds):
            proc, took, port = serve(path)
            empty.append(took)
            if len(empty) == rounds:
                rcpt_ms = smtp_rcpt_ms(port, count)
            stop(proc)
        drain_s, pass_s = give_each_a_case(path, count)
        full = []
        for _ in range(rounds):
            proc, took, _ = serve(path)
            full.append(took)
            stop(proc)
        lookup, handler = lookup_ns(path, count)
    return {"orgs": count, "load_s": load_s,
            "serve_empty_s": statistics.median(empty), "serve_with_data_s": statistics.median(full),
            "intake_of_one_case_each_s": drain_s, "scheduler_pass_s": pass_s, "lookup_ns": lookup, "handler_ns": handler,
            "smtp_rcpt_ms": rcpt_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, nargs="*", default=[1, 1000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lookup-orgs", type=int, nargs="*", default=[10, 1000, 10000],
                        help="Organisation counts for the lookup alone (no serve).")
    args = parser.parse_args()
    header()
    print("orgs | config load s | lookup ns | RCPT handler ns")
    for count in args.lookup_orgs:
        with tempfile.TemporaryDirectory() as tmp:
            from leakline.config import load

            path = write_config(Path(tmp), count)
            load_s = min(timeit.repeat(lambda: load(path), number=1, repeat=3))
            lookup, handler = lookup_ns(path, count)
        print(f"{count:>5} | {load_s:.3f} | {lookup:.0f} | {handler:.0f}", flush=True)
    print("orgs | config load s | serve to 'listening' s (empty / every org with a case) | "
          "lookup ns | RCPT handler ns | SMTP RCPT ms (median)")
    for count in args.orgs:
        r = measure(count, args.rounds)
        print(f"{r['orgs']:>5} | {r['load_s']:.3f} | {r['serve_empty_s']:.2f} / "
              f"{r['serve_with_data_s']:.2f} | {r['lookup_ns']:.0f} | {r['handler_ns']:.0f} | "
              f"{r['smtp_rcpt_ms']:.3f}   (intake of {count} cases: {r['intake_of_one_case_each_s']:.1f} s;"
              f" a scheduler pass over them: {r['scheduler_pass_s']:.2f} s)",
              flush=True)


if __name__ == "__main__":
    main()
