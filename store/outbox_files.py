"""The records of an older outbox (a file each) taken into its table (store/outbox.py), once.

Before issue 13 the outbox kept `queue/<key>.json + .eml`, `sent/<month>/...` and `failed/...`.
At the first start the folders are moved aside whole (one unit), under
`outbox/files-imported-<time>/`, then their records become rows, a thousand a unit, each naming
its `.eml` where it now lies; a `.done` file ends it. A crash in between is finished at the next
start (a row already there is kept). The files are kept: they are evidence.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Callable, ContextManager

from leakline.store.unit import UnitOfWork

log = logging.getLogger(__name__)
STATES = (("queue", "queued"), ("failed", "failed"), ("sent", "sent"))  # the queue's copy wins
CHUNK = 1000


def import_files(unit: Callable[[], ContextManager[UnitOfWork]], root: Path, table: str,
                 put: Callable[[UnitOfWork, str, dict], None]) -> int:
    """Take in every older record under `root` (data_dir/outbox); returns how many."""
    data_dir = root.parent
    legacy = [name for name, _ in STATES if (root / name).is_dir()]
    if legacy:
        aside = root / f"files-imported-{time.strftime('%Y%m%dT%H%M%S')}"
        with unit() as uow:
            for name in legacy:
                uow.move(_rel(root / name, data_dir), _rel(aside / name, data_dir))
    count = 0
    for folder in sorted(root.glob("files-imported-*")):
        if (folder / ".done").exists():
            continue
        found = list(_records(folder))
        for start in range(0, len(found), CHUNK):
            with unit() as uow:
                for state, path in found[start:start + CHUNK]:
                    count += _take(uow, table, put, state, path, data_dir)
        with unit() as uow:
            uow.write(_rel(folder / ".done", data_dir), b"")
    return count


def _records(folder: Path):
    for name, state in STATES:
        paths = sorted((folder / name).rglob("*.json")) if (folder / name).is_dir() else []
        for path in paths:
            yield state, path


def _take(uow: UnitOfWork, table: str, put, state: str, path: Path, data_dir: Path) -> int:
    key = path.stem
    if uow.get_row(table, key) is not None:
        return 0
    try:
        record = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError) as exc:
        log.error("outbox: %s not taken in (%s); it stays where it is", path, exc)
        return 0
    record["state"] = state
    record["raw"] = _rel(path.with_suffix(".eml"), data_dir)
    put(uow, key, record)
    return 1


def _rel(path: Path, data_dir: Path) -> str:
    return os.path.relpath(path, data_dir)
