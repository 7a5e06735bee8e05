"""Memory of `leakline serve` while 20 connections each send 20 MB without a line break.

Usage: python bench/flood.py [--sessions 20] [--mb 20] [--where data|command]
                             [--accept-long-lines [--wait-cases]] [--tree DIR] [--repeat 1]

--where data (default): each session opens a transaction and sends, after DATA, MB megabytes of
one line with no line break, then the end of data. With the default config the line is over
max_data_line_bytes (1 MiB) and is refused with 500 5.5.2 once it has all arrived;
--accept-long-lines sets max_data_line_bytes to max_message_bytes, so every message is spooled
(and, after the 250, made a case by the worker: its memory is shown as far as it got, or, with
--wait-cases, once every message is a case).
--where command: the megabytes are sent as one command line; the listener closes the session.
--tree DIR runs the server from another source tree (e.g. an export of an older commit, for a
before/after). Peak RSS is VmHWM from /proc; "growth" is the peak minus VmRSS just before the
load; "together" samples the sum of VmRSS over listener, worker and resource tracker every 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchinfo import ROOT, header  # noqa: E402
from acceptance import free_port, stop  # noqa: E402
from memory import RssSampler  # noqa: E402
from pipeline import ChainTail  # noqa: E402
import procstat  # noqa: E402

CHUNK = b"A" * (1 << 20)


async def session(port: int, megabytes: int, where: str, number: int) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    try:
        await reader.readline()
        if where == "data":
            for line in (b"EHLO flood.example", b"MAIL FROM:<flood@example.net>",
                         b"RCPT TO:<incident@example.com>", b"DATA"):
                writer.write(line + b"\r\n")
                await writer.drain()
                while (reply := await reader.readline())[3:4] == b"-":
                    pass
            # Each message its own (identical raw bytes would be one case).
            writer.write(b"Subject: flood %d\r\nMessage-ID: <flood-%d-%d@example.net>\r\n\r\n"
                         % (number, number, time.time_ns()))
        for _ in range(megabytes):
            writer.write(CHUNK)
            await writer.drain()
        writer.write(b"\r\n.\r\n")
        await writer.drain()
        reply = await asyncio.wait_for(reader.readline(), 600)
        return reply[:9].decode(errors="replace") or "closed"
    except (ConnectionError, asyncio.IncompleteReadError):
        return "closed"
    finally:
        writer.close()


async def flood(port: int, sessions: int, megabytes: int, where: str) -> list[str]:
    return await asyncio.gather(*(session(port, megabytes, where, i) for i in range(sessions)))


def serve(tree: Path, config: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "leakline", "--config", str(config), "serve"],
                            cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = proc.stdout.readline()
    if b"listening" not in line:
        raise SystemExit(f"server did not start from {tree}: {line!r}")
    return proc


def run(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="leakline-flood-") as tmp:
        port = free_port()
        config = Path(tmp) / "leakline.toml"
        text = f'[service]\ndata_dir = "{Path(tmp) / "data"}"\nlisten = "127.0.0.1:{port}"\n'
        if args.accept_long_lines:
            text += "max_data_line_bytes = 26214400\n"
        config.write_text(text)
        proc = serve(Path(args.tree), config)
        try:
            time.sleep(1.0)  # the worker is up
            before = {procstat.name(p): procstat.status_kb(p, "VmRSS") for p in procstat.tree(proc.pid)}
            sampler = RssSampler(proc.pid)
            sampler.peak_kb = sum(before.values())
            sampler.start()
            tail = ChainTail(Path(tmp) / "data")
            started = time.time()
            replies = asyncio.run(flood(port, args.sessions, args.mb, args.where))
            elapsed = time.time() - started
            accepted = sum(r.startswith("250") for r in replies)
            while args.wait_cases and tail.poll() < accepted and time.time() - started < 1800:
                time.sleep(0.1)
            cases_after = time.time() - started
            sampler.stopped.set()
            peaks = {procstat.name(p): procstat.status_kb(p, "VmHWM") for p in procstat.tree(proc.pid)}
        finally:
            stop(proc)
    listener_before = before.get("listener", 0) / 1024
    return {
        "sessions": args.sessions, "mb_each": args.mb, "where": args.where,
        "accept_long_lines": args.accept_long_lines, "tree": str(args.tree),
        "replies": {r: replies.count(r) for r in sorted(set(replies))},
        "seconds": round(elapsed, 1),
        "cases": tail.opened if args.wait_cases else None,
        "cases_after_s": round(cases_after, 1) if args.wait_cases else None,
        "listener_rss_before_mb": round(listener_before, 1),
        "listener_peak_mb": round(peaks.get("listener", 0) / 1024, 1),
        "listener_growth_mb": round(peaks.get("listener", 0) / 1024 - listener_before, 1),
        "worker_peak_mb": round(peaks.get("worker", 0) / 1024, 1),
        "together_before_mb": round(sum(before.values()) / 1024, 1),
        "together_peak_mb": round(sampler.peak_kb / 1024, 1),
        "together_growth_mb": round((sampler.peak_kb - sum(before.values())) / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--mb", type=int, default=20)
    parser.add_argument("--where", choices=("data", "command"), default="data")
    parser.add_argument("--accept-long-lines", action="store_true")
    parser.add_argument("--wait-cases", action="store_true",
                        help="also wait until every accepted message is a case")
    parser.add_argument("--tree", default=str(ROOT))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    header()
    for _ in range(args.repeat):
        print(json.dumps(run(args)), flush=True)


if __name__ == "__main__":
    main()
