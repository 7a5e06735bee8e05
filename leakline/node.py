"""This node, and what status and backup ask of the store backend behind it.

A node is one `leakline serve` with its own data_dir on one host. Its id is the host name and
the data_dir (`mx1.example.co.jp:/var/lib/leakline`): stable across restarts, the same for
`serve` and for `status` without writing anything, and never carried to another machine by a
restored backup (as an id kept in a file would be).

The store backend is `tinydb`, the file store (the default), or `postgresql`. `operations(config)`
returns what status and backup need of the backend: the PostgreSQL backend fills in
`PostgresOperations` (the work waiting in the database, the outbox entries a node left
`sending`, its backup advice).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from leakline.config import Config

# The file store's name is `[store] backend`'s default, "tinydb" (the PostgreSQL half of issue
# 15 adds that section); "file" is taken for it too.
FILE = "tinydb"
FILE_NAMES = (FILE, "file")
POSTGRESQL = "postgresql"


def node_id(config: Config) -> str:
    """`<host name>:<data_dir>`, the data_dir as an absolute path."""
    return f"{socket.gethostname()}:{os.path.abspath(config.service.data_dir)}"


def backend_name(config: Config) -> str:
    """`[store] backend` (the PostgreSQL half of issue 15 adds the section), else "tinydb"."""
    store = getattr(config, "store", None)
    name = str(getattr(store, "backend", None) or FILE)
    return FILE if name in FILE_NAMES else name


@dataclass(frozen=True)
class DatabaseWork:
    """What waits in a shared database: messages committed and not yet made cases (`waiting`;
    None where the backend has no such thing). The outbox entries a node left `sending` are
    read with the rest of the outbox (`outbox list --failed` lists them)."""

    waiting: int | None
    note: str


class FileOperations:
    """The file store: every message waits in this node's spool, nothing is ever `sending`."""

    name = FILE

    def __init__(self, config: Config):
        self.config = config

    def database_work(self, spool) -> DatabaseWork:
        return DatabaseWork(None, "n/a (file store)")

    def backup_refusal(self) -> str | None:
        """Why `leakline backup` cannot copy this store (None: it can)."""
        return None


class PostgresOperations(FileOperations):
    """The PostgreSQL backend (issue 15): `database_work` counts the messages committed but not
    yet processed; backups are the
    database's own (pg_dump), `leakline backup` only says so."""

    name = POSTGRESQL

    def database_work(self, spool) -> DatabaseWork:
        """Messages committed by any node and not yet made cases (`spool`: the App's, in the
        database)."""
        waiting = spool.waiting()
        return DatabaseWork(waiting, f"{waiting} message(s) waiting in the database")

    def backup_refusal(self) -> str | None:
        return ("the store is in PostgreSQL ([store] backend = \"postgresql\"): back it up with "
                "the database's own tools, e.g. pg_dump --format=custom (docs/deploy.md, "
                "\"Backup and restore\"); `leakline backup` copies only a file store")


def operations(config: Config) -> FileOperations:
    """The backend's operations for status and backup; ValueError for a backend unknown here."""
    name = backend_name(config)
    if name == FILE:
        return FileOperations(config)
    if name == POSTGRESQL:
        return PostgresOperations(config)
    raise ValueError(f"unknown store backend {name!r}")


def owner_refusal(config: Config) -> str | None:
    """Why this user should not run a command that may write into data_dir: root, on a data_dir
    another user owns (what root writes there, e.g. a rebuilt index shard or an applied journal,
    that user could no longer read). None when the caller is its owner, or it does not exist."""
    data_dir = config.service.data_dir
    try:
        owner = os.stat(data_dir).st_uid
    except FileNotFoundError:
        return None
    if os.geteuid() != 0 or owner == 0:
        return None
    import pwd

    try:
        name = pwd.getpwuid(owner).pw_name
    except KeyError:
        name = str(owner)
    return (f"{data_dir} belongs to {name}: run this as that user (sudo -u {name} leakline ...), "
            "not as root, so that what it writes stays readable by the service")
