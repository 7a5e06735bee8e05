"""Reading a server's process tree from /proc (bench only): children, CPU seconds, peak RSS."""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """Direct children of `pid`, from /proc/<pid>/task/*/children."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return found
    for tid in tasks:
        try:
            found += [int(c) for c in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    result, todo = [], [pid]
    while todo:
        current = todo.pop()
        result.append(current)
        todo += children(current)
    return result


def name(pid: int) -> str:
    """A short name: the leakline worker, the listener, or the command's last word."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return "?"
    text = b" ".join(words).decode(errors="replace")
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        comm = ""
    if comm.startswith("leakline-"):  # the workers name themselves (leakline/worker.py)
        return "worker" if comm == "leakline-intake" else comm.removeprefix("leakline-")
    if "resource_tracker" in text:
        return "resource_tracker"
    if "multiprocessing" in text or "spawn_main" in text:
        return "worker"
    if " serve" in text:
        return "listener"
    return os.path.basename(words[0].decode(errors="replace")) if words and words[0] else "?"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def status_kb(pid: int, key: str) -> int:
    """A kB figure from /proc/<pid>/status (VmHWM = peak RSS, VmRSS = current)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def cpu_by_process(pid: int) -> dict[str, float]:
    """CPU seconds of each process in the tree, by name."""
    out: dict[str, float] = {}
    for p in tree(pid):
        key = name(p)
        out[key] = round(out.get(key, 0.0) + cpu_seconds(p), 2)
    return out
