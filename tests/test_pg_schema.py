"""`db upgrade`'s migrations (store/pg/schema.py): applied in order, each once, all in one
transaction; a node refuses a schema older or newer than its own."""

from __future__ import annotations

import threading

import pytest

from leakline.store.pg import schema
from leakline.store.pg.db import Database, SchemaError

pytestmark = pytest.mark.postgres


def test_a_new_release_applies_only_its_new_migration_and_an_older_node_refuses(
        pg_database, monkeypatch):
    db = Database(pg_database.url, pg_database.password_env)
    first = schema.upgrade(db)
    assert [m.version for m in first] == list(range(1, schema.latest() + 1))
    released = schema.migrations()
    later = released + [schema.Migration(len(released) + 1, "case_tags",
                                         "ALTER TABLE cases ADD COLUMN tags text")]
    monkeypatch.setattr(schema, "migrations", lambda: later)
    with pytest.raises(SchemaError, match="db upgrade"):
        schema.check(db)  # the new release, before its upgrade
    assert [m.name for m in schema.upgrade(db)] == ["case_tags"]
    schema.check(db)
    monkeypatch.setattr(schema, "migrations", lambda: released)
    with pytest.raises(SchemaError, match="newer"):
        schema.check(db)  # a node of the older release
    with pytest.raises(SchemaError, match="not touching it"):
        schema.upgrade(db)
    db.close_all()


def test_a_failing_migration_leaves_the_schema_as_it_was(pg_database, monkeypatch):
    db = Database(pg_database.url, pg_database.password_env)
    broken = schema.migrations() + [schema.Migration(len(schema.migrations()) + 1, "broken",
                                                     "ALTER TABLE cases ADD COLUMN x text; "
                                                     "SELECT no_such_function()")]
    monkeypatch.setattr(schema, "migrations", lambda: broken)
    with pytest.raises(Exception):
        schema.upgrade(db)
    assert schema.current(db) == 0  # not even the first: one transaction
    db.close_all()


def test_two_nodes_upgrading_at_once_apply_each_migration_once(pg_database):
    results, errors = [], []

    def upgrade():
        db = Database(pg_database.url, pg_database.password_env)
        try:
            results.append(len(schema.upgrade(db)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            db.close_all()
    threads = [threading.Thread(target=upgrade) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and sorted(results) == [0, schema.latest()]
