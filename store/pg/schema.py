"""Versioned migrations of the database: `leakline db upgrade` applies them, everything else
checks that the schema is the one it knows.

Migrations are the files `store/pg/migrations/NNNN_name.sql`, applied in order, each once;
`schema_version` records each with when it was applied. `upgrade` holds an advisory lock so
that two nodes upgrading at once apply each migration once, runs every pending migration in
one transaction (PostgreSQL's DDL is transactional: all or nothing), and refuses a database
whose schema is newer than this code (a node of an older release must not write to it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from leakline.store.pg.db import Database, SchemaError

UPGRADE_LOCK = (0x4C4C, 1)  # pg_advisory_xact_lock(namespace, 1): one upgrade at a time
BOOTSTRAP = """CREATE TABLE IF NOT EXISTS schema_version (
    version     int PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The migrations this code knows, in order."""
    found = []
    for entry in resources.files("leakline.store.pg").joinpath("migrations").iterdir():
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2),
                                   entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    assert [m.version for m in found] == list(range(1, len(found) + 1)), "a migration is missing"
    return found


def latest() -> int:
    return migrations()[-1].version


def current(db: Database) -> int:
    """The database's schema version; 0 for a database leakline never upgraded."""
    row = db.one("SELECT to_regclass('schema_version') IS NOT NULL")
    if not row or not row[0]:
        return 0
    return db.one("SELECT coalesce(max(version), 0) FROM schema_version")[0]


def check(db: Database) -> None:
    have, want = current(db), latest()
    if have > want:
        raise SchemaError(f"the database {db.url} has schema version {have}, newer than this "
                          f"leakline knows ({want}): upgrade leakline on this node")
    if have < want:
        raise SchemaError(f"the database {db.url} has schema version {have}; this leakline needs "
                          f"{want}: run `leakline db upgrade`")


def upgrade(db: Database) -> list[Migration]:
    """Apply the pending migrations, all in one transaction; returns those applied."""
    with db.transaction() as tx:
        tx.execute("SELECT pg_advisory_xact_lock(%s, %s)", UPGRADE_LOCK)
        tx.execute(BOOTSTRAP)
        have = tx.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
        known = migrations()
        if have > known[-1].version:
            raise SchemaError(f"the database {db.url} has schema version {have}, newer than this "
                              f"leakline knows ({known[-1].version}): not touching it")
        pending = [m for m in known if m.version > have]
        for migration in pending:
            tx.execute(migration.sql)
            tx.execute("INSERT INTO schema_version (version, name) VALUES (%s, %s)",
                       (migration.version, migration.name))
    db.schema_checked = False
    return pending
