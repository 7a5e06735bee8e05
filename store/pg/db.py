"""The connection to the shared database: one per thread, one transaction per unit of work.

`db.transaction()` opens a transaction on this thread's connection, or joins the one open in
this thread (as the file backend's units join); hooks registered with `before_commit` run just
before COMMIT (the cases and events a unit collected are written there), `after_commit`
callbacks once it is durable. The database is PostgreSQL with `synchronous_commit = on`: when
COMMIT returns, the transaction survives a crash of the node and of the database.

A database that is down or unreachable is `DatabaseUnavailable`, an OSError: the listener
answers 451, `ingest` exits 75, workers wait and try again. Connections are made again with a
backoff (0.25 s doubling to 5 s, shared by the threads of a process), so a node recovers by
itself when the database comes back and does not hammer it while it is away.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import weakref
from typing import Any, Callable, Iterator

log = logging.getLogger("leakline.store.pg")

CONNECT_TIMEOUT = 5
BACKOFF_FIRST, BACKOFF_MAX = 0.25, 5.0
# A node that stops in the middle of a transaction (frozen, cut off) holds its organisation's
# lock: the server ends such a session after this long, and another node takes over.
IDLE_IN_TRANSACTION = "20s"


# Every Database of this process, so that a test (or a process stopping) can close them all.
OPEN = weakref.WeakSet()


class DatabaseUnavailable(OSError):
    """The database cannot be reached, or dropped the connection: try again later."""


class SchemaError(Exception):
    """The database's schema is not the one this leakline knows; the message says what to run."""


class Tx:
    """One open transaction: its connection, and what units of work collect for its commit."""

    def __init__(self, db: "Database", conn):
        self.db = db
        self.conn = conn
        self.parts: dict[Any, Any] = {}  # per organisation (store/pg/cases.py), per purpose
        self._before: list[Callable[[], None]] = []
        self._after: list[Callable[[], None]] = []

    def execute(self, sql: str, params: Any = None):
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: list) -> None:
        if rows:
            with self.conn.cursor() as cur:
                cur.executemany(sql, rows)

    def before_commit(self, hook: Callable[[], None]) -> None:
        if hook not in self._before:
            self._before.append(hook)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after.append(callback)

    def run_before(self) -> None:
        done = 0
        while done < len(self._before):  # a hook may add another (events after cases)
            self._before[done]()
            done += 1


class Database:
    """`url` as `[store] url` gives it (no password); the password is read from the environment
    variable `password_env` at every connect, so a rotated one is taken up."""

    def __init__(self, url: str, password_env: str = "", *, name: str = "leakline"):
        self.url = url
        self.password_env = password_env
        self.name = name
        self._local = threading.local()
        self._guard = threading.Lock()
        self._delay = 0.0
        self._down_until = 0.0
        self._down_reason = ""
        self._made: list = []  # every thread's connection, for close_all()
        self.schema_checked = False
        OPEN.add(self)

    # -- connections ------------------------------------------------------------------------
    def connect(self, **options):
        """A new connection (autocommit; transactions are explicit), or DatabaseUnavailable."""
        try:
            import psycopg
        except ImportError:
            raise DatabaseUnavailable("[store] backend = \"postgresql\" needs psycopg: "
                                      "pip install 'leakline[postgresql]'") from None

        password = None
        if self.password_env:
            password = os.environ.get(self.password_env)
            if password is None:
                raise DatabaseUnavailable(f"store.password_env: environment variable "
                                          f"{self.password_env} is not set")
        settings = {"autocommit": True, "connect_timeout": CONNECT_TIMEOUT,
                    "application_name": self.name, "keepalives": 1, "keepalives_idle": 10,
                    "keepalives_interval": 5, "keepalives_count": 3,
                    "options": f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION}"}
        settings.update(options)
        if password is not None:
            settings["password"] = password
        try:
            return psycopg.connect(self.url, **settings)
        except psycopg.Error as exc:
            raise DatabaseUnavailable(f"database {self.url} unavailable: {_first_line(exc)}") \
                from None

    def connection(self):
        """This thread's connection, made (again) when needed, with the process's backoff."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        self._local.conn = None
        with self._guard:
            wait = self._down_until - time.monotonic()
            if wait > 0:
                raise DatabaseUnavailable(f"{self._down_reason} (trying again in {wait:.1f} s)")
        try:
            conn = self.connect()
        except DatabaseUnavailable as exc:
            with self._guard:
                self._delay = min(max(self._delay * 2, BACKOFF_FIRST), BACKOFF_MAX)
                self._down_until = time.monotonic() + self._delay
                self._down_reason = str(exc)
            raise
        with self._guard:
            if self._delay:
                log.warning("database %s reachable again", self.url)
            self._delay, self._down_until = 0.0, 0.0
            self._made = [c for c in self._made if not c.closed] + [conn]
        self._local.conn = conn
        return conn

    def adopt(self, conn) -> None:
        """A connection made with connect() for a purpose of its own (a node's lock), closed
        with this database's by close_all()."""
        with self._guard:
            self._made = [c for c in self._made if not c.closed] + [conn]

    def __del__(self) -> None:
        # Its connections go with it (a command that ends, an App a test drops), closed.
        for conn in getattr(self, "_made", []):
            try:
                conn.close()
            except Exception:
                pass

    def close_all(self) -> None:
        """Close every thread's connection (a process that stops, a test that ends)."""
        with self._guard:
            made, self._made = self._made, []
        for conn in made:
            conn.close()
        self._local = threading.local()

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """psycopg's errors of a lost or refused connection as DatabaseUnavailable."""
        import psycopg

        try:
            yield
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            conn = getattr(self._local, "conn", None)
            if conn is not None and (conn.closed or conn.broken):
                self._local.conn = None
            raise DatabaseUnavailable(f"database {self.url}: {_first_line(exc)}") from exc

    # -- transactions -----------------------------------------------------------------------
    def current(self) -> Tx | None:
        return getattr(self._local, "tx", None)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tx]:
        """The transaction open in this thread, or a new one committed when the block ends."""
        tx = self.current()
        if tx is not None:
            yield tx
            return
        with self.errors():
            conn = self.connection()
            conn.execute("BEGIN")
        tx = self._local.tx = Tx(self, conn)
        try:
            with self.errors():
                try:
                    yield tx
                    tx.run_before()
                except BaseException:
                    if not conn.closed and not conn.broken:
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")  # the commit point
        finally:
            self._local.tx = None
        for callback in tx._after:
            callback()

    def query(self, sql: str, params: Any = None) -> list[tuple]:
        """Rows of one statement: in the transaction open in this thread, else on its own."""
        with self.errors():
            tx = self.current()
            conn = tx.conn if tx is not None else self.connection()
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description is not None else []

    def one(self, sql: str, params: Any = None) -> tuple | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    # -- schema -----------------------------------------------------------------------------
    def check_schema(self) -> None:
        """SchemaError unless the schema is the one this code knows (once per process)."""
        if self.schema_checked:
            return
        from leakline.store.pg.schema import check

        check(self)
        self.schema_checked = True


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
