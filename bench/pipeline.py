"""Benchmark 2: reports per second end to end, from the first SMTP send until every case is
stored and every guidance reply and escalation is in the Maildir <data_dir>/mail-out/new.

Usage: python bench/pipeline.py [--messages 2000] [--sessions 20] [--until auto|maildir|cases]
                                [--data-dir DIR] [--profile DIR]

Each message comes from its own sender (staff<i>@example.com), because a sender gets at most one
guidance reply per reply window. With the default config (one privacy officer, no supervisors)
a report makes 2 files in the Maildir: the guidance reply and one escalation.

How completion is observed, cheaply and without touching the server's files:
- cases: the tail of the audit chain (audit/chain.jsonl) is read incrementally; each new case
  appends one "case_opened" event whose `at` (microseconds, taken by Store.save just before the
  case file is written) is also what the per-report latency is measured to;
- Maildir: files in mail-out/new are counted with os.scandir.
--profile DIR: py-spy stacks of the listener, the intake worker (worker.txt) and the delivery
worker (sender.txt).
--until auto waits for the cases, then for the Maildir if any file appears there within
--grace seconds; if none does, the responders are not wired in yet and the figures are for
"every case stored" (the output says which mode was measured).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchinfo import header  # noqa: E402
from acceptance import free_port, start, stop  # noqa: E402
import procstat  # noqa: E402
from smtpload import load, make_mail  # noqa: E402

POLL_SECONDS = 0.05
OPENED = b'"action":"case_opened"'
TAG_ID = re.compile(r"bench(\d+)r(\d+)-(\d+)-")


def write_config(path: Path, data_dir: Path, port: int) -> Path:
    path.write_text(f'[service]\ndata_dir = "{data_dir}"\nlisten = "127.0.0.1:{port}"\n')
    return path


def serve(config: Path) -> subprocess.Popen:
    return start([sys.executable, "-m", "leakline", "--config", str(config), "serve"])


def expected_per_report(config: Path) -> int:
    """1 guidance reply + 1 escalation per initial recipient (privacy officers, supervisors)."""
    from leakline.config import load as load_config
    from leakline.responders.escalation import initial_recipients

    cfg = load_config(config)
    return 1 + len(initial_recipients({"reporter": "staff0@example.com"}, cfg))


class ChainTail:
    """New lines of the audit chain since construction, read incrementally."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / "audit" / "chain.jsonl"
        self.offset = self.path.stat().st_size if self.path.exists() else 0
        self.start = self.offset
        self.partial = b""
        self.opened = 0

    def poll(self) -> int:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return self.opened
        self.offset += len(data)
        data, self.partial = self.partial + data, b""
        if data and not data.endswith(b"\n"):
            data, _, self.partial = data.rpartition(b"\n")
        self.opened += data.count(OPENED)
        return self.opened

    def opened_events(self) -> list[dict]:
        with open(self.path, "rb") as fh:
            fh.seek(self.start)
            lines = fh.read().splitlines()
        return [e for e in map(json.loads, lines) if e.get("action") == "case_opened"]


def count_files(folder: Path) -> int:
    try:
        with os.scandir(folder) as entries:
            return sum(1 for _ in entries)
    except FileNotFoundError:
        return 0


def newest_mtime(folder: Path) -> float:
    with os.scandir(folder) as entries:
        return max((e.stat().st_mtime for e in entries), default=0.0)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


def latencies(events: list[dict], sent_at: dict[int, float], run: int) -> dict:
    """Send (MAIL FROM written) -> case stored (its case_opened `at`), per report, in ms."""
    waits = []
    for event in events:
        match = TAG_ID.search(event.get("details", {}).get("message_id") or "")
        if match and int(match.group(1)) == run and int(match.group(2)) in sent_at:
            stored = datetime.fromisoformat(event["at"]).timestamp()
            waits.append((stored - sent_at[int(match.group(2))]) * 1000)
    return {"reports_matched": len(waits), "p50_ms": round(percentile(waits, 0.5), 1),
            "p95_ms": round(percentile(waits, 0.95), 1), "max_ms": round(max(waits, default=0), 1)}


class Profiler:
    """py-spy record (raw collapsed stacks) on the listener and the worker while the load runs."""

    def __init__(self, out_dir: Path | None, idle: bool = True):
        self.out_dir = out_dir
        self.idle = idle  # samples of waiting threads too (False: where the CPU time goes)
        self.procs: list[subprocess.Popen] = []

    def start(self, server_pid: int) -> None:
        if self.out_dir is None:
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        time.sleep(1.5)  # the workers name themselves once started (leakline/worker.py)
        for pid in procstat.tree(server_pid):
            role = procstat.name(pid)
            if role in ("listener", "worker", "sender"):
                self.procs.append(subprocess.Popen(
                    ["py-spy", "record", "--pid", str(pid), "--format", "raw", "--rate", "250",
                     "--threads", *(["--idle"] if self.idle else []),
                     "--output", str(self.out_dir / f"{role}.txt")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(2)  # py-spy writes its output on SIGINT
        for proc in self.procs:
            proc.wait(timeout=60)


def wait_done(tail: ChainTail, maildir: Path, want_cases: int, want_files: int, until: str,
              grace: float, deadline: float) -> tuple[str, float, int, int]:
    """Poll until done; returns (mode measured, finish time, cases seen, files seen)."""
    cases_done_at = None
    while time.time() < deadline:
        cases, files = tail.poll(), count_files(maildir)
        now = time.time()
        if cases >= want_cases and cases_done_at is None:
            cases_done_at = now
        if cases_done_at is not None:
            if until == "cases":
                return "cases", cases_done_at, cases, files
            if files >= want_files:
                # The last file's own write time: exact, not rounded up to the next poll.
                return "maildir", newest_mtime(maildir) or now, cases, files
            if until == "auto" and files == 0 and now - cases_done_at > grace:
                return "cases (no mail reached mail-out: responders not wired)", cases_done_at, \
                    cases, files
        time.sleep(POLL_SECONDS)
    return "timeout", time.time(), tail.poll(), count_files(maildir)


def run(messages: int, sessions: int, *, data_dir: Path | None = None, until: str = "auto",
        grace: float = 10.0, timeout: float = 900.0, profile: Path | None = None,
        run_id: int | None = None) -> dict:
    run_id = run_id if run_id is not None else int(time.time()) % 100000
    mails = [(f"staff{i}@example.com",
              make_mail(i, tag=f"bench{run_id}r{i}", sender=f"staff{i}@example.com"))
             for i in range(messages)]
    with tempfile.TemporaryDirectory(prefix="leakline-pipeline-") as tmp:
        data_dir = data_dir or Path(tmp) / "data"
        port = free_port()
        config = write_config(Path(tmp) / "leakline.toml", data_dir, port)
        per_report = expected_per_report(config)
        maildir = data_dir / "mail-out" / "new"
        files_before = count_files(maildir)
        proc = serve(config)
        profiler = Profiler(profile)
        try:
            tail = ChainTail(data_dir)
            profiler.start(proc.pid)
            sent_at: dict[int, float] = {}
            started = time.time()
            smtp = asyncio.run(load("127.0.0.1", port, mails, sessions, sent_at))
            last_250 = time.time()
            mode, finished, cases, files = wait_done(
                tail, maildir, messages, files_before + messages * per_report, until, grace,
                started + timeout)
            cpu = procstat.cpu_by_process(proc.pid)
        finally:
            profiler.stop()
            stop(proc)
        events = tail.opened_events()
        if mode.startswith("cases") and events:
            # The last case_opened stamp, exact, rather than the poll that saw it.
            finished = max(datetime.fromisoformat(e["at"]).timestamp() for e in events)
        elapsed = finished - started
        return {
            "mode": mode, "messages": messages, "sessions": sessions,
            "smtp": smtp,
            "end_to_end_seconds": round(elapsed, 3),
            "reports_per_second": round(messages / elapsed, 1),
            "finished_after_last_250_s": round(finished - last_250, 3),
            "cases_stored": cases,
            "maildir_files": files - files_before,
            "maildir_files_expected": messages * per_report,
            "latency_send_to_case_stored": latencies(events, sent_at, run_id),
            "cpu_seconds": cpu,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--until", choices=("auto", "maildir", "cases"), default="auto")
    parser.add_argument("--grace", type=float, default=10.0,
                        help="auto: seconds after the last case to wait for a first Maildir file")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--data-dir", type=Path,
                        help="run on this (preloaded) data_dir instead of a fresh one; it grows")
    parser.add_argument("--profile", type=Path, help="write py-spy raw stacks into this folder")
    args = parser.parse_args()
    header()
    result = run(args.messages, args.sessions, data_dir=args.data_dir, until=args.until,
                 grace=args.grace, timeout=args.timeout, profile=args.profile)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
