"""What every benchmark prints first: its command line, the machine and the code it measured."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def code_version() -> str:
    """The commit, and the files outside bench/ changed since it (they are measured too)."""
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"],
                                capture_output=True, text=True, check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    dirty = [line[3:] for line in status if not line[3:].startswith("bench/")]
    return commit + (f" + uncommitted changes in {', '.join(dirty)}" if dirty else "")


def header() -> None:
    print("command: python", " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]))
    print("date:", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    print("machine:", platform.platform(), f"{os.cpu_count()} cpus",
          "python", platform.python_version())
    print("code:", code_version(), flush=True)
