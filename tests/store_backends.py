"""The store suite on both backends: the `backend` fixture runs a test once on the file store
(TinyDB) and once on PostgreSQL (a fresh database with the schema, from tests/pg_helpers.py).

    def test_x(backend):
        store = backend.store()            # store.cases.Store or store.pg.cases.PgStore
        box = backend.outbox(clock)        # store.outbox.Outbox or store.pg.outbox.PgOutbox
        again = backend.store()            # another process's view of the same data
        config = backend.config(tmp_path / "data")   # make_config(..., store=...)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from leakline.store.cases import Store, utc_now
from leakline.store.files import DataLock
from leakline.store.outbox import Outbox

BACKENDS = ["tinydb", pytest.param("postgresql", marks=pytest.mark.postgres)]


class Backend:
    def __init__(self, name: str, tmp_path: Path, pg=None):
        self.name = name
        self.tmp_path = tmp_path
        self.data_dir = tmp_path / "data"
        self.pg = pg  # tests/pg_helpers.PgDatabase
        self._databases: list = []

    @property
    def shared(self) -> bool:
        return self.pg is not None

    def database(self):
        """A Database of its own, as another process would have."""
        from leakline.store.pg.db import Database

        db = Database(self.pg.url, self.pg.password_env)
        self._databases.append(db)
        return db

    def store(self, prefix: str = "INC", *, org: str = "default", now=utc_now, summarize=None):
        if self.pg is None:
            store = Store(self.data_dir, prefix, now=now, summarize=summarize)
        else:
            from leakline.store.pg.cases import PgStore

            store = PgStore(self.database(), org, prefix, now=now, summarize=summarize)
        store.prepare()
        return store

    def outbox(self, now):
        if self.pg is None:
            return Outbox(self.tmp_path, DataLock(self.tmp_path / ".lock"), now)
        from leakline.store.pg.outbox import PgOutbox

        return PgOutbox(self.database(), now)

    def store_section(self) -> dict:
        return self.pg.store_config() if self.pg is not None else {}

    def config(self, data_dir: Path | None = None, **sections):
        from conftest import make_config

        if self.pg is not None:
            sections["store"] = self.pg.store_config()
        return make_config(data_dir or self.data_dir, **sections)

    def close(self) -> None:
        for db in self._databases:
            db.close_all()


@pytest.fixture(autouse=True)
def close_databases():
    """Every store.pg Database a test made is closed after it (no connection left open)."""
    yield
    from leakline.store.pg.db import OPEN

    for db in list(OPEN):
        db.close_all()


@pytest.fixture(scope="session")
def pg_template(pg_cluster):
    """One database with the schema made by `db upgrade`'s code, for the whole session."""
    from leakline.store.pg.db import Database
    from leakline.store.pg.schema import upgrade

    template = pg_cluster.create_database(f"store_{os.getpid()}")
    db = Database(template.url, template.password_env)
    upgrade(db)
    db.close_all()
    yield template


# Emptied before each test: cheaper than a database of its own (CREATE and DROP DATABASE
# each cost about a second of checkpoints here).
TABLES = ("orgs", "cases", "keys", "sequences", "raw", "machine_mail", "events", "outbox", "spool",
          "nodes")


@pytest.fixture
def pg_migrated(pg_cluster, pg_template):
    """The session's database with the current schema, empty."""
    pg_cluster.ensure_running()
    with pg_template.connect() as conn:
        for table in TABLES:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("ALTER SEQUENCE node_lock_keys RESTART")
        conn.commit()
    yield pg_template


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    pg = request.getfixturevalue("pg_migrated") if request.param == "postgresql" else None
    chosen = Backend(request.param, tmp_path, pg)
    yield chosen
    chosen.close()
