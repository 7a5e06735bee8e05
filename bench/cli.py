"""Benchmark 4: wall time of `leakline cases list` at 100,000 cases (1,000 open) and of `--help`.

Usage: python bench/cli.py [--cases 100000] [--open 1000] [--runs 5] [--data-dir DIR]

Each command runs as a subprocess (`leakline` from PATH, as installed by `pip install .`), its
output read through a pipe and thrown away; the figure is the median of --runs runs, after one
unmeasured warm-up run (so every run sees a warm page cache, as on a server in use). The data_dir
is the loader's (bench/loader.py), filled first if needed.

Two settings: "pyc" runs with a bytecode cache (PYTHONPYCACHEPREFIX in a temp folder, written by
the warm-up run), as after a normal `pip install .`, which compiles the modules; "no_pyc" runs
with PYTHONDONTWRITEBYTECODE=1 and no cache, so leakline's own modules are compiled at every start
(how an editable install behaves where that variable is set, as on the benchmark machine).
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

TARGETS = {"cases list --status open --json": 1.0, "--help": 0.3}


def timed(cmd: list[str], env: dict) -> tuple[float, int]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode(errors='replace')}")
    return elapsed, len(proc.stdout)


def bench(cmd: list[str], runs: int, env: dict) -> dict:
    timed(cmd, env)
    times, size = [], 0
    for _ in range(runs):
        seconds, size = timed(cmd, env)
        times.append(seconds)
    return {"median_s": round(statistics.median(times), 3),
            "min_s": round(min(times), 3), "max_s": round(max(times), 3),
            "output_bytes": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    header()
    data_dir = args.data_dir or loader.default_dir(args.cases)
    loaded = loader.ensure_loaded(data_dir, args.cases, args.open)
    leakline = shutil.which("leakline") or "leakline"
    results = {"data_dir": str(data_dir), "cases": loaded["cases"], "open": loaded["open"]}
    with tempfile.TemporaryDirectory(prefix="leakline-cli-") as tmp:
        config = Path(tmp) / "leakline.toml"
        config.write_text(f'[service]\ndata_dir = "{data_dir}"\n')
        base = [leakline, "--config", str(config)]
        pyc = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        pyc["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        no_pyc = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
        no_pyc["PYTHONDONTWRITEBYTECODE"] = "1"
        for label, cmd in (
            ("cases list --json", base + ["cases", "list", "--json"]),
            ("cases list --status open --json", base + ["cases", "list", "--status", "open", "--json"]),
            ("cases list --status all --json", base + ["cases", "list", "--status", "all", "--json"]),
            ("--help", [leakline, "--help"]),
        ):
            results[label] = {}
            for setting, env in (("pyc", pyc), ("no_pyc", no_pyc)):
                figures = results[label][setting] = bench(cmd, args.runs, env)
                if label in TARGETS:
                    figures["target_s"] = TARGETS[label]
                    figures["met"] = figures["median_s"] <= TARGETS[label]
                print(label, setting, json.dumps(figures), flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
