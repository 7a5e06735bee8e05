"""Acceptance of small mail, this tree against another (e.g. an export of an older commit).

Usage: python bench/ab_acceptance.py --before DIR [--messages 5000] [--sessions 20] [--runs 4]

The two servers run alternately (first this one, then the other, then the other way round), on
the loader of benchmark 1, so that a slow spell of a shared machine does not hit one side only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchinfo import ROOT, header  # noqa: E402
from acceptance import free_port, stop  # noqa: E402
from smtpload import load, make_mail  # noqa: E402


def measure(tree: str, mails: list, sessions: int) -> float:
    with tempfile.TemporaryDirectory(prefix="leakline-ab-") as tmp:
        port = free_port()
        config = Path(tmp) / "leakline.toml"
        config.write_text(f'[service]\ndata_dir = "{tmp}/data"\nlisten = "127.0.0.1:{port}"\n')
        proc = subprocess.Popen([sys.executable, "-m", "leakline", "--config", str(config), "serve"],
                                cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if b"listening" not in proc.stdout.readline():
            raise SystemExit(f"server did not start from {tree}")
        try:
            return asyncio.run(load("127.0.0.1", port, mails, sessions))["per_second"]
        finally:
            stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="source tree to compare with")
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--runs", type=int, default=4)
    args = parser.parse_args()
    header()
    mails = [make_mail(i) for i in range(args.messages)]
    trees = {"before": args.before, "after": str(ROOT)}
    rates: dict[str, list[float]] = {"before": [], "after": []}
    for run in range(args.runs):
        for name in ("after", "before") if run % 2 == 0 else ("before", "after"):
            rates[name].append(measure(trees[name], mails, args.sessions))
    print(json.dumps({name: {"msg_per_s": values, "median": statistics.median(values)}
                      for name, values in rates.items()}, indent=2))


if __name__ == "__main__":
    main()
