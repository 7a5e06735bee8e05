"""Benchmark 3: pipeline rate and per-report latency with 1,000, 10,000 and 100,000 cases stored.

Usage: python bench/scale.py [--sizes 1000,10000,100000] [--messages 2000] [--sessions 20]
                             [--repeat 1] [--until auto|maildir|cases] [--base /tmp]
                             [--copy link|full]

For each size the loader (bench/loader.py) fills /tmp/leakline-bench-<size/1000>k once, through
the store interface (reused while it holds that many cases); each run works on a copy of it, so
the preloaded data stays as loaded. --copy link hard-links cases/, index/ and raw/ (the
store only ever replaces those files whole: a new inode, so the original is untouched) and copies
everything else (the audit chain is appended in place); --copy full copies it all.

Rate: benchmark 2's end-to-end reports/s. Latency, per report: from the moment the client wrote
that message's MAIL FROM to the `at` of its case_opened audit event, which Store.save stamps
under the data lock just before it writes the case file (so: "the case is being stored"; the
write and fsync that follow take about a millisecond). Matched by the Message-ID of each message.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchinfo import header  # noqa: E402
import loader  # noqa: E402
import pipeline  # noqa: E402

REPLACED_WHOLE = ("cases", "index", "raw")


def working_copy(source: Path, target: Path, how: str) -> float:
    started = time.perf_counter()
    target.mkdir(mode=0o700)
    for entry in os.scandir(source):
        dest = target / entry.name
        if entry.is_dir() and how == "link" and entry.name in REPLACED_WHOLE:
            subprocess.run(["cp", "-al", entry.path, str(dest)], check=True)
        elif entry.is_dir():
            subprocess.run(["cp", "-a", entry.path, str(dest)], check=True)
        else:
            shutil.copy2(entry.path, dest)
    return time.perf_counter() - started


def measure(size: int, args) -> dict:
    preload = loader.default_dir(size, args.base)
    info = loader.ensure_loaded(preload, size, min(args.open, size))
    with tempfile.TemporaryDirectory(prefix=f"leakline-scale-{size}-", dir=args.base) as tmp:
        data_dir = Path(tmp) / "data"
        copy_seconds = working_copy(preload, data_dir, args.copy)
        result = pipeline.run(args.messages, args.sessions, data_dir=data_dir, until=args.until,
                              timeout=args.timeout)
    return {"preloaded": size, "loader": info, "copy_seconds": round(copy_seconds, 1),
            "mode": result["mode"], "reports_per_second": result["reports_per_second"],
            "finished_after_last_250_s": result["finished_after_last_250_s"],
            "latency": result["latency_send_to_case_stored"],
            "smtp_per_second": result["smtp"]["per_second"],
            "maildir_files": f'{result["maildir_files"]}/{result["maildir_files_expected"]}',
            "cpu_seconds": result["cpu_seconds"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--open", type=int, default=1000, help="open cases in each preload")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--until", choices=("auto", "maildir", "cases"), default="auto")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--base", type=Path, default=Path("/tmp"))
    parser.add_argument("--copy", choices=("link", "full"), default="link")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; medians reported")
    args = parser.parse_args()
    header()
    sizes = [int(s) for s in args.sizes.split(",")]
    runs: dict[int, list[dict]] = {size: [] for size in sizes}
    for _ in range(args.repeat):  # round robin: a slow spell of the machine hits every size
        for size in sizes:
            runs[size].append(measure(size, args))
            print(json.dumps(runs[size][-1], ensure_ascii=False), flush=True)

    def median(size: int, get) -> float:
        return round(statistics.median(get(r) for r in runs[size]), 1)

    rate = {s: median(s, lambda r: r["reports_per_second"]) for s in sizes}
    print(json.dumps({
        "runs_per_size": args.repeat,
        "rate_median": rate,
        "p50_ms_median": {s: median(s, lambda r: r["latency"]["p50_ms"]) for s in sizes},
        "p95_ms_median": {s: median(s, lambda r: r["latency"]["p95_ms"]) for s in sizes},
        f"rate_ratio_{sizes[-1]}_over_{sizes[0]}": round(rate[sizes[-1]] / rate[sizes[0]], 3),
        "modes": sorted({r["mode"] for rs in runs.values() for r in rs}),
    }, indent=2))


if __name__ == "__main__":
    main()
