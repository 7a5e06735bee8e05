"""Benchmark 1: messages accepted per second by `leakline serve` vs a keep-nothing aiosmtpd.

Usage: python bench/acceptance.py [--messages 5000] [--sessions 20] [--rounds 1]
Both servers run as subprocesses on free localhost ports, measured in the same run; the
ratio is what holds on a noisy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchinfo import header  # noqa: E402
from smtpload import load, make_mail  # noqa: E402

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(cmd: list[str], env=None) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    line = proc.stdout.readline()
    if b"listening" not in line:
        raise SystemExit(f"server did not start: {cmd}: {line!r}")
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=60)
    proc.stdout.close()


def leakline_server(workdir: Path, port: int) -> subprocess.Popen:
    config = workdir / "leakline.toml"
    config.write_text(f'[service]\ndata_dir = "{workdir / "data"}"\nlisten = "127.0.0.1:{port}"\n')
    return start([sys.executable, "-m", "leakline", "--config", str(config), "serve"])


def run(messages: int, sessions: int, rounds: int = 1) -> dict:
    """`rounds` rounds, each measuring both servers (in alternating order, so that a slow spell
    of a shared machine does not always hit the same one); the median ratio is the figure."""
    mails = [make_mail(i) for i in range(messages)]
    per_round = []
    with tempfile.TemporaryDirectory(prefix="leakline-bench-") as tmp:
        for number in range(rounds):
            results = {}
            names = ("aiosmtpd_keep_nothing", "leakline")
            for name in names if number % 2 == 0 else reversed(names):
                port = free_port()
                workdir = Path(tmp) / f"round{number}"
                workdir.mkdir(exist_ok=True)
                proc = (leakline_server(workdir, port) if name == "leakline"
                        else start([sys.executable, str(HERE / "null_server.py"), str(port)]))
                try:
                    results[name] = asyncio.run(load("127.0.0.1", port, mails, sessions))
                finally:
                    stop(proc)
            results["ratio"] = round(results["leakline"]["per_second"]
                                     / results["aiosmtpd_keep_nothing"]["per_second"], 3)
            per_round.append(results)
    if rounds == 1:
        return per_round[0]
    return {"rounds": per_round,
            "ratios": [r["ratio"] for r in per_round],
            "ratio_median": statistics.median(r["ratio"] for r in per_round)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure both servers this many times; report the median ratio")
    args = parser.parse_args()
    header()
    print(json.dumps(run(args.messages, args.sessions, args.rounds), indent=2))


if __name__ == "__main__":
    main()
