"""Which store the service runs on, from `[store]`: the files under data_dir (TinyDB, the
default), or one PostgreSQL database that every node shares (store/pg/, issue 15).

The App asks here for the parts that differ; everything above them (intake, responders, the
CLI) sees the same interfaces on both (docs/STORE.md).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable

from leakline.config import Config

# How often a node's sender looks for mail queued by another node (or left by a dead one).
SHARED_IDLE_SECONDS = 5.0


def shared_database(config: Config):
    """The Database of `[store] backend = "postgresql"`, None for the file store. No connection
    is made here: the first use makes it (and a command that needs none never does)."""
    if not config.store.shared:
        return None
    from leakline.store.pg.db import Database

    return Database(config.store.url, config.store.password_env)


def check_database(db) -> None:
    """store.pg.db.SchemaError unless the database's schema is the one this leakline knows
    (the CLI says it in one line: run `leakline db upgrade`)."""
    db.check_schema()


def shared_spool(db, data_dir: Path):
    from leakline.store.pg.spool import PgSpool

    return PgSpool(db, data_dir)


def shared_outbox(config: Config, now: Callable[[], datetime], db=None):
    from leakline.store.pg.outbox import PgOutbox

    return PgOutbox(db if db is not None else shared_database(config), now)


def claiming(outbox, node: Callable[[], str]):
    """The outbox as a node's sender takes from it: at most once (store/pg/outbox.py)."""
    from leakline.store.pg.outbox import Claiming

    return Claiming(outbox, node)
