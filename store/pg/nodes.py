"""The processes that claim work in the database, and whether each is still alive.

A process that claims (a node's intake worker, its sender) registers a row in `nodes` and
holds a session advisory lock (LOCK_NAMESPACE, its lock_key) on a connection of its own for as
long as it lives. PostgreSQL releases that lock the moment the session ends: the process was
killed (its socket closed), or its machine went away (TCP keepalives, within about 25 s). So
"alive" is a fact the database keeps, not a heartbeat that can lag: `LIVE_NODES` is the ids
whose lock is held, and what a dead node claimed is taken over at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from leakline.store.pg.db import Database, DatabaseUnavailable

log = logging.getLogger("leakline.store.pg")
LOCK_NAMESPACE = 0x4C4C  # classid of our advisory locks ("LL"); objid: the node's lock_key

LIVE_NODES = (f"SELECT n.id FROM nodes n JOIN pg_locks l ON l.locktype = 'advisory' "
              f"AND l.granted AND l.classid = {LOCK_NAMESPACE}::oid "
              f"AND l.objid = n.lock_key::oid AND l.objsubid = 2")


class Node:
    """This process as a node of the service (`role`: intake, sender), registered on demand."""

    def __init__(self, db: Database, role: str):
        self.db = db
        self.role = role
        self.id = f"{socket.gethostname()}:{os.getpid()}:{role}"
        self._conn = None
        self._key: int | None = None
        self._guard = threading.Lock()

    def ensure(self) -> str:
        """The node's id, its lock held (taken again after the database came back)."""
        with self._guard:
            conn = self._conn
            if conn is not None and not conn.closed and not conn.broken and _alive(conn):
                return self.id
            if conn is not None:
                conn.close()  # its session, and with it the lock, is gone: take it again
            self._conn = None
            conn = self.db.connect(application_name=f"leakline {self.role}")
            try:
                with self.db.errors():
                    if self._key is None:
                        self._key = conn.execute("SELECT nextval('node_lock_keys')::int").fetchone()[0]
                        conn.execute("INSERT INTO nodes (id, host, pid, role, lock_key) VALUES "
                                     "(%s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
                                     "lock_key = EXCLUDED.lock_key, started_at = now()",
                                     (self.id, socket.gethostname(), os.getpid(), self.role,
                                      self._key))
                    conn.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_NAMESPACE, self._key))
                    # The rows of nodes that died go (what they held is known by their id in the
                    # spool and outbox rows, and a node without a row counts as dead).
                    conn.execute(f"DELETE FROM nodes WHERE id <> %s AND id NOT IN ({LIVE_NODES})",
                                 (self.id,))
            except BaseException:
                conn.close()
                raise
            self._conn = conn
            self.db.adopt(conn)  # closed with the database's own (close_all)
            log.info("node %s holds its lock in %s", self.id, self.db.url)
            return self.id

    def close(self) -> None:
        with self._guard:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _alive(conn) -> bool:
    """Whether the lock's session still stands (a restarted database ended it without the
    client knowing until it asks): one round trip per claim."""
    try:
        conn.execute("SELECT 1")
        return True
    except Exception:  # psycopg's errors of a dead connection, whichever
        return False


def live_nodes(db: Database) -> set[str]:
    return {node for (node,) in db.query(LIVE_NODES)}


__all__ = ["LIVE_NODES", "LOCK_NAMESPACE", "Node", "DatabaseUnavailable", "live_nodes"]
