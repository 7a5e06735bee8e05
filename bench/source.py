"""Benchmark 2 as issue 13 states it: Postfix's smtp-source sends the reports, a monitor counts.

Usage: python bench/source.py [--messages 2000] [--sessions 20] [--size 2000] [--rounds 3]
                              [--smtp-source /usr/sbin/smtp-source] [--profile DIR]

Each round, in alternating order (a slow spell of the shared machine must not always hit the
same one):
- the keep-nothing aiosmtpd sink (bench/null_server.py) takes
  `smtp-source -s 20 -m 2000 -l 2000 -f staff@example.com -t incident@example.com`: its msg/s;
- `leakline serve` (default config, a fresh data_dir, the Maildir transport) takes the same
  command, while a monitor polls every 0.5 s as a script would: `leakline cases list --status
  all --json` until every report is a case, then `leakline outbox list --json` until nothing is
  queued and mail-out/new holds an escalation for every case (plus the guidance). The rate is
  reports / (the newest Maildir file's time - the first send).

What smtp-source sends (Postfix 3.7, `-l 2000`): From/To `<staff@example.com>` and
`<incident@example.com>`, a Date, a unique `Message-Id: <hex.hex.hex@host>`, no Subject, and
2,000 bytes of body in 26 lines of `X` (each line starts with a digit). `-F file` would send a
real Japanese body, but the same bytes every time: leakline rightly stores identical raw bytes
once, so 2,000 copies make one case. Every message comes from one sender: with the reply
window per sender (`[escalation] reply_window_minutes`, at least 1) only the first case gets a
guidance reply; every case gets its escalation. The monitor does not assume either: it waits
for the outbox queue to be empty. bench/pipeline.py is the same measure with 2 KB Japanese
reports from 2,000 senders.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchinfo import header  # noqa: E402
from acceptance import HERE, free_port, start, stop  # noqa: E402
import procstat  # noqa: E402
from pipeline import Profiler, count_files, newest_mtime, write_config  # noqa: E402

POLL = 0.5


def smtp_source(binary: str, port: int, messages: int, sessions: int, size: int) -> float:
    """Run smtp-source to the end; its wall time in seconds."""
    started = time.perf_counter()
    subprocess.run([binary, "-s", str(sessions), "-m", str(messages), "-l", str(size),
                    "-f", "staff@example.com", "-t", "incident@example.com",
                    f"127.0.0.1:{port}"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def sink_rate(binary: str, messages: int, sessions: int, size: int) -> float:
    port = free_port()
    proc = start([sys.executable, str(HERE / "null_server.py"), str(port)])
    try:
        return messages / smtp_source(binary, port, messages, sessions, size)
    finally:
        stop(proc)


class Monitor:
    """Polls the CLI as a monitoring script would; keeps how long each `cases list` took."""

    def __init__(self, config: Path):
        self.base = [sys.executable, "-m", "leakline", "--config", str(config)]
        self.list_seconds: list[tuple[int, float]] = []  # (cases listed, seconds)

    def _json(self, *args: str) -> list:
        out = subprocess.run(self.base + list(args), capture_output=True, check=True).stdout
        return json.loads(out)

    def cases(self) -> int:
        started = time.perf_counter()
        rows = self._json("cases", "list", "--status", "all", "--json")
        self.list_seconds.append((len(rows), time.perf_counter() - started))
        return len(rows)

    def queued(self) -> int:
        return len(self._json("outbox", "list", "--json"))


def wait_done(monitor: Monitor, maildir: Path, messages: int, timeout: float,
              sender_done: threading.Event) -> tuple[str, float, int]:
    deadline = time.time() + timeout
    cases_seen = False
    while time.time() < deadline:
        tick = time.time()
        if not cases_seen:
            cases_seen = sender_done.is_set() and monitor.cases() >= messages
        if cases_seen and count_files(maildir) > messages and monitor.queued() == 0:
            return "done", newest_mtime(maildir), count_files(maildir)
        time.sleep(max(0.0, POLL - (time.time() - tick)))
    return "timeout", time.time(), count_files(maildir)


def kinds_in(maildir: Path) -> dict[str, int]:
    """Delivered mail by kind, read from the Auto-Submitted header each one carries."""
    counts: dict[str, int] = {}
    for entry in os.scandir(maildir):
        with open(entry.path, "rb") as fh:
            head = fh.read(4096)
        kind = ("guidance (auto-replied)" if b"Auto-Submitted: auto-replied" in head
                else "escalation (auto-generated)")
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def leakline_rate(binary: str, messages: int, sessions: int, size: int, timeout: float,
                  profile: Path | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="leakline-source-") as tmp:
        port = free_port()
        config = write_config(Path(tmp) / "leakline.toml", Path(tmp) / "data", port)
        maildir = Path(tmp) / "data" / "mail-out" / "new"
        proc = start([sys.executable, "-m", "leakline", "--config", str(config), "serve"])
        profiler = Profiler(profile, idle=False)  # CPU time only
        monitor = Monitor(config)
        try:
            profiler.start(proc.pid)
            sender_done = threading.Event()
            result: dict = {}

            def send() -> None:
                result["smtp_seconds"] = smtp_source(binary, port, messages, sessions, size)
                sender_done.set()

            started = time.time()
            thread = threading.Thread(target=send)
            thread.start()
            state, finished, files = wait_done(monitor, maildir, messages, timeout, sender_done)
            thread.join()
            cpu = procstat.cpu_by_process(proc.pid)
        finally:
            profiler.stop()
            stop(proc)
        lists = [s for n, s in monitor.list_seconds if n >= messages] or [float("nan")]
        return {
            "state": state, "reports_per_second": round(messages / (finished - started), 1),
            "end_to_end_s": round(finished - started, 2),
            "smtp_accept_per_second": round(messages / result["smtp_seconds"], 1),
            "maildir_files": files, "maildir_kinds": kinds_in(maildir) if maildir.is_dir() else {},
            "cases_list_all_json_s_at_full": round(statistics.median(lists), 3),
            "cases_list_polls": len(monitor.list_seconds),
            "cpu_seconds": cpu,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--smtp-source", default="/usr/sbin/smtp-source")
    parser.add_argument("--profile", type=Path, help="py-spy raw stacks of the first round")
    args = parser.parse_args()
    header()
    rounds = []
    for number in range(args.rounds):
        row = {}
        order = ("sink", "leakline") if number % 2 == 0 else ("leakline", "sink")
        for name in order:
            if name == "sink":
                row["sink_per_second"] = round(sink_rate(args.smtp_source, args.messages,
                                                         args.sessions, args.size), 1)
            else:
                row["leakline"] = leakline_rate(args.smtp_source, args.messages, args.sessions,
                                                args.size, args.timeout,
                                                args.profile if number == 0 else None)
        row["ratio"] = round(row["leakline"]["reports_per_second"] / row["sink_per_second"], 3)
        rounds.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    rates = [r["leakline"]["reports_per_second"] for r in rounds]
    print(json.dumps({
        "rounds": len(rounds),
        "reports_per_second_median": statistics.median(rates),
        "reports_per_second_range": [min(rates), max(rates)],
        "sink_per_second": [r["sink_per_second"] for r in rounds],
        "ratio_median": statistics.median(r["ratio"] for r in rounds),
        "cases_list_all_json_s": [r["leakline"]["cases_list_all_json_s_at_full"] for r in rounds],
        "load_average": os.getloadavg(),
    }, indent=2))


if __name__ == "__main__":
    main()
