"""Benchmark 5: peak RSS of `leakline serve` (listener and worker) while 20 sessions each send
a 10 MB message, until every one of them is stored as a case.

Usage: python bench/memory.py [--sessions 20] [--mb 10] [--kind attachment|text] [--repeat 3]

--kind attachment (default): a short Japanese text and a base64 attachment (a spreadsheet, as a
10 MB report usually carries); --kind text: 10 MB of Japanese plain text.
Peak per process is its VmHWM from /proc/<pid>/status (the kernel's high-water mark, over the
process's life), read once every case is stored, before the server stops; the listener's
children (the worker, multiprocessing's resource tracker) are found through /proc. Also the
highest sum of VmRSS over the tree, sampled every 20 ms: the peak they reached together.
Last, the keep-nothing aiosmtpd server (bench/null_server.py) under the same load, as a yardstick:
aiosmtpd itself holds a message as a list of line objects before joining it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchinfo import header  # noqa: E402
import procstat  # noqa: E402
from acceptance import HERE, free_port, start, stop  # noqa: E402
from pipeline import ChainTail, serve, write_config  # noqa: E402
from smtpload import load, make_mail  # noqa: E402

TARGET_MB = 600


def attachment_mail(i: int, size: int) -> bytes:
    head = (f"From: staff{i}@example.com\r\nTo: incident@example.com\r\n"
            f"Subject: =?UTF-8?B?6Kqk6YCB5L+h?= big {i}\r\nMessage-ID: <big-{i}-{time.time_ns()}@example.com>\r\n"
            "Date: Thu, 26 Nov 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n'
            "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            "顧客名簿を添付ファイルごと誤送信しました。\r\n--b1\r\n"
            "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet; "
            'name="customers.xlsx"\r\nContent-Disposition: attachment; filename="customers.xlsx"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n").encode()
    binary = os.urandom((size - len(head)) * 3 // 4 * 76 // 78)
    encoded = base64.encodebytes(binary).replace(b"\n", b"\r\n")
    return head + encoded + b"--b1--\r\n"


class RssSampler(threading.Thread):
    """The highest sum of VmRSS over the server's process tree, sampled every 20 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.02):
            total = sum(procstat.status_kb(p, "VmRSS") for p in procstat.tree(self.pid))
            self.peak_kb = max(self.peak_kb, total)


def make_mails(sessions: int, megabytes: float, kind: str) -> list[tuple[str, bytes]]:
    size = int(megabytes * 1024 * 1024)
    return [(f"staff{i}@example.com",
             attachment_mail(i, size) if kind == "attachment"
             else make_mail(i, size=size, tag=f"big{i}", sender=f"staff{i}@example.com"))
            for i in range(sessions)]


def yardstick(mails: list) -> float:
    """Peak RSS (MB) of the keep-nothing aiosmtpd server under the same load."""
    port = free_port()
    proc = start([sys.executable, str(HERE / "null_server.py"), str(port)])
    try:
        asyncio.run(load("127.0.0.1", port, mails, len(mails)))
        return round(procstat.status_kb(proc.pid, "VmHWM") / 1024, 1)
    finally:
        stop(proc)


def run(sessions: int, megabytes: float, kind: str, timeout: float) -> dict:
    mails = make_mails(sessions, megabytes, kind)
    with tempfile.TemporaryDirectory(prefix="leakline-memory-") as tmp:
        port = free_port()
        data_dir = Path(tmp) / "data"
        proc = serve(write_config(Path(tmp) / "leakline.toml", data_dir, port))
        sampler = RssSampler(proc.pid)
        try:
            tail = ChainTail(data_dir)
            sampler.start()
            started = time.time()
            smtp = asyncio.run(load("127.0.0.1", port, mails, sessions))
            while tail.poll() < sessions and time.time() - started < timeout:
                time.sleep(0.05)
            stored_after = time.time() - started
            time.sleep(1)  # the responders' mail for the last case
            peaks = {}
            for pid in procstat.tree(proc.pid):
                key = procstat.name(pid)
                peaks[key] = peaks.get(key, 0) + procstat.status_kb(pid, "VmHWM")
        finally:
            sampler.stopped.set()
            stop(proc)
    total_mb = sum(peaks.values()) / 1024
    return {
        "sessions": sessions, "message_mb": megabytes, "kind": kind,
        "message_bytes": len(mails[0][1]), "smtp": smtp,
        "cases_stored": tail.opened, "stored_after_s": round(stored_after, 1),
        "peak_rss_mb": {k: round(v / 1024, 1) for k, v in peaks.items()},
        "peak_rss_sum_of_peaks_mb": round(total_mb, 1),
        "peak_rss_together_mb": round(sampler.peak_kb / 1024, 1),
        "target_mb": TARGET_MB, "met": total_mb <= TARGET_MB,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--mb", type=float, default=10)
    parser.add_argument("--kind", choices=("attachment", "text"), default="attachment")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--repeat", type=int, default=3, help="peaks vary with timing")
    args = parser.parse_args()
    header()
    runs = []
    for _ in range(args.repeat):
        runs.append(run(args.sessions, args.mb, args.kind, args.timeout))
        print(json.dumps(runs[-1]), flush=True)
    worst = max(runs, key=lambda r: r["peak_rss_sum_of_peaks_mb"])
    print(json.dumps({
        "runs": len(runs),
        "peak_rss_sum_of_peaks_mb": [r["peak_rss_sum_of_peaks_mb"] for r in runs],
        "peak_rss_together_mb": [r["peak_rss_together_mb"] for r in runs],
        "worst_run_by_process_mb": worst["peak_rss_mb"],
        "keep_nothing_aiosmtpd_peak_mb": yardstick(make_mails(args.sessions, args.mb, args.kind)),
        "target_mb": TARGET_MB, "met_in_every_run": all(r["met"] for r in runs),
    }, indent=2))


if __name__ == "__main__":
    main()
