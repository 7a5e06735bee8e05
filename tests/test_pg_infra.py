"""The private PostgreSQL the store tests of issue 15 will run on: password login over loopback
TCP, durability across a clean stop and a SIGKILL, row claims with SKIP LOCKED, LISTEN/NOTIFY."""

from __future__ import annotations

import pytest

try:
    import psycopg
except ImportError:  # the pg_database fixture skips (fails in CI) and says why
    psycopg = None

pytestmark = pytest.mark.postgres


def given(db, *statements: str) -> None:
    """Run and commit `statements`: the state a test starts from."""
    with db.connect() as conn:
        for statement in statements:
            conn.execute(statement)
        conn.commit()


def test_a_node_logs_in_with_the_password_from_its_environment(pg_database):
    assert pg_database.url.startswith("postgresql://leakline@127.0.0.1:")
    assert pg_database.url.endswith("/" + pg_database.name)
    with pg_database.connect() as conn:
        user, database = conn.execute("SELECT current_user, current_database()").fetchone()
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('fsync', 'synchronous_commit', 'listen_addresses', 'server_encoding')").fetchall())
    assert (user, database) == ("leakline", pg_database.name)
    assert settings == {"fsync": "on", "synchronous_commit": "on",
                        "listen_addresses": "127.0.0.1", "server_encoding": "UTF8"}
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_database.url, password="not-the-password").close()


def test_each_test_gets_an_empty_database_of_its_own(pg_database):
    with pg_database.connect() as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)
        conn.execute("CREATE TABLE cases (id text PRIMARY KEY, subject text NOT NULL)")


def test_committed_rows_survive_a_stop_and_the_client_reconnects(pg_database):
    cluster = pg_database.cluster
    given(pg_database, "CREATE TABLE cases (id text PRIMARY KEY, subject text NOT NULL)",
          "INSERT INTO cases VALUES ('INC-2026-0001', '顧客名簿入りUSBメモリ紛失')")
    with pg_database.connect() as conn:
        cluster.stop()
        # What a node sees while the database is down: its connection is gone, new ones fail.
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
    with pytest.raises(psycopg.OperationalError):
        pg_database.connect(connect_timeout=5).close()
    cluster.start()
    with pg_database.connect() as conn:
        rows = conn.execute("SELECT id, subject FROM cases").fetchall()
    assert rows == [("INC-2026-0001", "顧客名簿入りUSBメモリ紛失")]


def test_a_sigkill_keeps_what_was_committed_and_drops_what_was_not(pg_database):
    cluster = pg_database.cluster
    given(pg_database, "CREATE TABLE spool (id int PRIMARY KEY)", "INSERT INTO spool VALUES (1)")
    pending = pg_database.connect()
    pending.execute("INSERT INTO spool VALUES (2)")  # open transaction, never committed
    first_pid = cluster.proc.pid
    cluster.kill()
    pending.close()
    cluster.start()
    assert cluster.proc.pid != first_pid
    with pg_database.connect() as conn:
        assert conn.execute("SELECT id FROM spool ORDER BY id").fetchall() == [(1,)]
    assert "database system was interrupted" in cluster.log()  # it ran crash recovery


def test_two_workers_claim_different_rows_with_skip_locked(pg_database):
    given(pg_database, "CREATE TABLE work (id int PRIMARY KEY, claimed_by text)",
          "INSERT INTO work SELECT n, NULL FROM generate_series(1, 3) AS n")
    claim = ("SELECT id FROM work WHERE claimed_by IS NULL ORDER BY id "
             "LIMIT 1 FOR UPDATE SKIP LOCKED")
    with pg_database.connect() as node_a, pg_database.connect() as node_b:
        (a,) = node_a.execute(claim).fetchone()
        (b,) = node_b.execute(claim).fetchone()  # not blocked by node_a's lock: the next row
        assert (a, b) == (1, 2)
        node_b.execute("UPDATE work SET claimed_by = 'b' WHERE id = %s", (b,))
        node_b.commit()
        node_a.rollback()  # node_a dies before finishing: its row is free again
        (again,) = node_b.execute(claim).fetchone()
        assert again == 1
        node_b.rollback()


def test_notify_wakes_a_listening_connection(pg_database):
    with pg_database.connect(autocommit=True) as idle, pg_database.connect() as busy:
        idle.execute("LISTEN work_queued")
        busy.execute("SELECT pg_notify('work_queued', 'INC-2026-0001')")
        assert list(idle.notifies(timeout=0.2)) == []  # delivered on commit, not before
        busy.commit()
        notes = list(idle.notifies(timeout=10, stop_after=1))
    assert [(n.channel, n.payload) for n in notes] == [("work_queued", "INC-2026-0001")]


def test_a_database_made_from_a_template_has_its_schema(pg_database):
    cluster = pg_database.cluster
    given(pg_database, "CREATE TABLE schema_version (version int NOT NULL)",
          "INSERT INTO schema_version VALUES (7)")
    copy = cluster.create_database(template=pg_database.name)
    try:
        with copy.connect() as conn:
            assert conn.execute("SELECT version FROM schema_version").fetchone() == (7,)
    finally:
        cluster.drop_database(copy.name)
