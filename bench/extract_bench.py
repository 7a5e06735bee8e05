"""Extraction cost: median time per 2 KB report, the kind model's load time and the memory it takes.

    python bench/extract_bench.py [--rounds 5]

Reports are the development corpus (tests/corpus), each cut or repeated to 2,048 characters of
body, so the figure is per 2 KB whatever a report's own length. Wall time and the thread's CPU time
are both printed: on a shared machine the wall time also counts waiting for a core. The whole extraction is timed
(`leakline.process.extract.extract` with received_at: kinds, model, items, counts, dates). A
50,000-character report (the cap) is timed too, to show the cost stays linear.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from benchinfo import header  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def sized(body: str, chars: int) -> str:
    return (body * (chars // max(len(body), 1) + 1))[:chars]


def load_cost() -> None:
    """Import, model load and RSS, in a fresh interpreter so nothing is cached."""
    code = ("import time,resource;from pathlib import Path\n"
            "def rss():\n"
            " return int([l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmRSS:')][0].split()[1])\n"
            "r0=rss();t0=time.perf_counter()\n"
            "import leakline.process as p\n"
            "t1=time.perf_counter();r1=rss()\n"
            "from leakline.process import kindmodel;m=kindmodel.load()\n"
            "t2=time.perf_counter();r2=rss()\n"
            "from leakline.process.extract import extract;extract('報告','昨日USBを紛失しました。顧客120名分。',received_at='2026-03-09T10:00:00+09:00')\n"
            "t3=time.perf_counter();r3=rss()\n"
            "print(f'import leakline.process: {(t1-t0)*1000:.0f} ms, RSS +{(r1-r0)/1024:.1f} MB')\n"
            "print(f'kind model load: {(t2-t1)*1000:.0f} ms, RSS +{(r2-r1)/1024:.1f} MB ({len(m.weights)} features)')\n"
            "print(f'first extraction (compiles the patterns): {(t3-t2)*1000:.0f} ms, RSS +{(r3-r2)/1024:.1f} MB')\n"
            "print(f'process RSS after all: {r3/1024:.1f} MB')\n")
    print(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout,
          end="")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "leakline", "--help"], cwd=ROOT, capture_output=True, check=True)
    print(f"leakline --help: {(time.perf_counter() - start) * 1000:.0f} ms (imports no extractor)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    header()
    load_cost()
    from corpus.score import read
    from leakline.process.extract import extract
    records = [r for path in sorted((ROOT / "tests" / "corpus").glob("reports_*.txt")) for r in read(path)]
    bodies = [(r["subject"], sized(r["body"], 2048), r["labels"]["received_at"]) for r in records]
    extract(*bodies[0][:2], received_at=bodies[0][2])  # warm: patterns compiled, model loaded
    gc.collect()
    medians, cpu_medians, p95s = [], [], []
    for _ in range(args.rounds):
        times, cpu = [], []
        for subject, body, received in bodies:
            start, start_cpu = time.perf_counter(), time.thread_time()
            extract(subject, body, received_at=received)
            cpu.append(time.thread_time() - start_cpu)
            times.append(time.perf_counter() - start)
        medians.append(statistics.median(times))
        cpu_medians.append(statistics.median(cpu))
        p95s.append(sorted(times)[int(len(times) * 0.95)])
        print(f"round: {len(times)} reports of 2 KB, median {medians[-1] * 1000:.2f} ms, p95 {p95s[-1] * 1000:.2f} ms,"
              f" max {max(times) * 1000:.2f} ms; CPU time median {cpu_medians[-1] * 1000:.2f} ms")
    print(f"median of round medians: {statistics.median(medians) * 1000:.2f} ms per 2 KB report (target <= 2 ms),"
          f" p95 {statistics.median(p95s) * 1000:.2f} ms; CPU time {statistics.median(cpu_medians) * 1000:.2f} ms"
          f" (wall time includes waiting for a core the machine's other work holds)")
    big = sized(records[0]["body"], 50_000)
    start = time.perf_counter()
    extract(records[0]["subject"], big, received_at=records[0]["labels"]["received_at"])
    print(f"one 50,000-character report: {(time.perf_counter() - start) * 1000:.1f} ms")
    huge = sized(records[0]["body"], 10_000_000)
    start = time.perf_counter()
    extract(records[0]["subject"], huge, received_at=records[0]["labels"]["received_at"])
    print(f"one 10,000,000-character report (cut to 50,000): {(time.perf_counter() - start) * 1000:.1f} ms")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB")


if __name__ == "__main__":
    main()
