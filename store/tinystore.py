"""TinyDB behind the store: atomic, UTF-8 storage, one file per case plus small index shards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage

from leakline.store.files import atomic_write, dump_json, inject_fault


class AtomicJSONStorage(Storage):
    """TinyDB storage that never rewrites a file in place: temp file, fsync, os.replace."""

    def __init__(self, path: str | Path, create_dirs: bool = True):
        self.path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            inject_fault("read", self.path)
            with open(self.path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            return None
        return json.loads(data.decode("utf-8")) if data else None

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        atomic_write(self.path, dump_json(data))

    def close(self) -> None:
        pass


class StoreDamaged(Exception):
    """A file of the store that cannot be read back; says which and what to do."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}; run `leakline store check --repair`")
        self.path = path
        self.reason = reason


def read_tables(path: Path) -> dict[str, list[dict]]:
    """All documents of every table, read once (TinyDB's per-call reads are too slow for lists)."""
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        raw = db.storage.read() or {}
    return {
        table: [doc for _, doc in sorted(docs.items(), key=lambda kv: int(kv[0]))]
        for table, docs in raw.items()
    }


def checked_tables(path: Path) -> dict[str, list[dict]]:
    """read_tables, or StoreDamaged naming the file when it cannot be read back."""
    try:
        if path.stat().st_size == 0:  # we never write an empty file: a cut write or a wipe
            raise StoreDamaged(path, "empty file")
        tables = read_tables(path)
    except UnicodeDecodeError:
        raise StoreDamaged(path, "not UTF-8 text") from None
    except ValueError:
        raise StoreDamaged(path, "not valid JSON (truncated or overwritten?)") from None
    except (TypeError, AttributeError, KeyError):
        raise StoreDamaged(path, "not a TinyDB file") from None
    if not all(isinstance(doc, dict) for docs in tables.values() for doc in docs):
        raise StoreDamaged(path, "not a TinyDB file")
    return tables


def tables_bytes(tables: dict[str, list[dict]]) -> bytes:
    """The file TinyDB writes for these tables (documents numbered from 1), made directly: a unit
    of work serialises each case once, at its commit."""
    return dump_json({name: {str(number): doc for number, doc in enumerate(docs, 1)}
                      for name, docs in tables.items()})


def write_tables(path: Path, tables: dict[str, list[dict]]) -> None:
    """Replace the whole file with these tables, in one atomic write."""
    atomic_write(path, tables_bytes(tables))
