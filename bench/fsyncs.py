"""Where a report's durable writes go: fsyncs, renames and data-lock holds per report, by caller.

Usage: python bench/fsyncs.py [--messages 200] [--segments 1]

In one process (no SMTP, no worker): N reports are spooled as the listener would, drained by the
pipeline (intake and responders), then the outbox sender delivers everything once into the
Maildir. os.fsync, os.replace/os.rename and DataLock.hold are wrapped to count calls, each
charged to the nearest caller outside the file primitives (store/files.py, store/tinystore.py,
TinyDB, contextlib), with that caller's caller. Also syncfs(2) calls (one flush of the whole file
system, issue 13's batches), new files created (each costs about as much as an fsync here), and
the wall time of each stage. --segments: the reports arrive in that many spool segments.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchinfo import header  # noqa: E402
from smtpload import make_mail  # noqa: E402

PRIMITIVES = ("store/files.py", "store/tinystore.py", "/tinydb/", "contextlib.py", "fsyncs.py",
              "store/journal.py", "store/unit.py", "store/units.py")
COUNTS: dict[str, Counter] = {"fsync": Counter(), "syncfs": Counter(), "rename": Counter(),
                               "lock": Counter(), "new file": Counter()}


def caller() -> str:
    frame = sys._getframe(2)
    while frame and any(p in frame.f_code.co_filename for p in PRIMITIVES):
        frame = frame.f_back
    if frame is None:
        return "?"
    parent = frame.f_back
    name = frame.f_code.co_qualname
    return f"{name} <- {parent.f_code.co_qualname}" if parent else name


def instrument() -> None:
    import leakline.store.files as files
    real_fsync, real_replace, real_rename = os.fsync, os.replace, os.rename

    def fsync(fd):
        COUNTS["fsync"][caller()] += 1
        return real_fsync(fd)

    def replace(src, dst, **kw):
        COUNTS["rename"][caller()] += 1
        return real_replace(src, dst, **kw)

    def rename(src, dst, **kw):
        COUNTS["rename"][caller()] += 1
        return real_rename(src, dst, **kw)

    os.fsync, os.replace, os.rename = fsync, replace, rename
    real_open = os.open

    def open_(path, flags, *args, **kw):
        if flags & os.O_CREAT and not os.path.exists(path):
            COUNTS["new file"][caller()] += 1
        return real_open(path, flags, *args, **kw)

    os.open = open_
    if hasattr(files, "_syncfs"):  # one syncfs(2) for a whole batch (issue 13)
        real_syncfs = files._syncfs()

        def syncfs(fd):
            COUNTS["syncfs"][caller()] += 1
            return real_syncfs(fd) if real_syncfs is not None else os.sync()

        files._syncfs = lambda: syncfs
    real_hold = files.DataLock.hold

    @contextlib.contextmanager
    def hold(self):
        if self._depth == 0:
            COUNTS["lock"][caller()] += 1
        with real_hold(self):
            yield

    files.DataLock.hold = hold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--segments", type=int, default=1,
                        help="spool segments the reports arrive in (the listener's group commits)")
    args = parser.parse_args()
    header()
    from leakline.app import App
    from leakline.config import Config, Service
    from datetime import datetime, timezone

    with tempfile.TemporaryDirectory(prefix="leakline-fsyncs-") as tmp:
        config = Config(service=Service(data_dir=Path(tmp) / "data"))
        app = App(config)
        app.prepare()
        n = args.messages
        envelope = lambda i: {"mail_from": f"staff{i}@example.com",  # noqa: E731
                              "rcpt_tos": ["incident@example.com"], "peer": "127.0.0.1",
                              "helo": "bench", "received_at": datetime.now(timezone.utc).isoformat()}
        mails = [(make_mail(i, tag=f"fs{i}", sender=f"staff{i}@example.com"), envelope(i))
                 for i in range(n)]
        per = -(-n // args.segments)
        for start in range(0, n, per):
            app.spool.write(mails[start:start + per])
        instrument()
        stages = {}
        started = time.perf_counter()
        app.pipeline.drain()
        stages["intake + responders (drain)"] = time.perf_counter() - started
        tasks = app.background_tasks(asyncio.Event())
        for task in tasks:
            task.close()  # only the sender is wanted, once
        started = time.perf_counter()
        asyncio.run(app.sender.run_once())
        stages["outbox sender (run_once)"] = time.perf_counter() - started
        if hasattr(app.store, "checkpoint"):
            started = time.perf_counter()
            app.store.checkpoint()
            stages["store checkpoint"] = time.perf_counter() - started
        started = time.perf_counter()
        app.scheduler.run_once()
        stages[f"one scheduler pass ({n} open cases)"] = time.perf_counter() - started
        delivered = len(os.listdir(Path(tmp) / "data" / "mail-out" / "new"))
    print(f"{n} reports, {delivered} files in mail-out/new")
    for stage, seconds in stages.items():
        print(f"  {stage}: {seconds:.2f} s, {1000 * seconds / n:.1f} ms per report")
    for what, counter in COUNTS.items():
        print(f"\n{what}: {sum(counter.values()) / n:.1f} per report")
        for site, count in counter.most_common(25):
            print(f"  {count / n:5.2f}  {site}")


if __name__ == "__main__":
    main()
