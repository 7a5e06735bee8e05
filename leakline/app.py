"""Wiring: the store, spool, intake and responders built from one Config (no globals)."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timezone
from typing import Callable

from intake.pipeline import Pipeline
from intake.processor import Intake
from leakline.config import Config
from store.cases import Store
from store.files import ensure_dir
from store.spool import Spool

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class DataDirError(Exception):
    """data_dir is missing, unwritable or open to other users."""


def check_data_dir(path) -> None:
    """Refuse a data_dir that other users can read: it holds the very data that leaked."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(mode):
        raise DataDirError(f"data_dir {path} is not a directory")
    if mode & 0o077:
        raise DataDirError(
            f"data_dir {path} is open to other users (mode {stat.S_IMODE(mode):o}); "
            f"fix it with: chmod -R go-rwx {path}")


class App:
    def __init__(self, config: Config, now: Clock = utc_now):
        self.config = config
        self.now = now
        self.data_dir = config.service.data_dir
        self.store = Store(self.data_dir, config.service.case_prefix, now=now)
        self.spool = Spool(self.data_dir)
        self.intake = Intake(self.store, config)
        self.pipeline = Pipeline(self.spool, self.intake, reactors=[])

    def prepare(self) -> None:
        # Whatever we create (cases, raw mail, exports) is private unless we say otherwise.
        os.umask(0o077)
        check_data_dir(self.data_dir)
        ensure_dir(self.data_dir)
        self.store.prepare()
        self.spool.prepare()

    def background_tasks(self, stop) -> list:
        """Coroutines that `leakline serve` runs beside the listener (outbox, scheduler)."""
        return []
