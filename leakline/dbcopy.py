"""`leakline db copy`: move a service's data from the file store to a PostgreSQL database, or
back, and prove the copy (issue 15).

Both sides are read and written as the item stream of store/pg/transfer.py. The target must
be empty (a database with the schema of `db upgrade` and no data, or an empty folder): a copy
never merges into data that is already somewhere. A database target is written in ONE
transaction: an interrupted copy leaves it empty. Then the target is read back the same way
and compared with the source: the number of items of each kind, the SHA-256 of every item
(documents as canonical JSON, evidence and mail as bytes), and `audit verify` of every
organisation's chain with its cases.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from leakline.config import Config
from leakline.store.pg.transfer import KINDS, DbSide, fingerprint
from leakline.store.pg.transfer_files import FileSide


class CopyError(Exception):
    """The copy cannot start (a source that is not there, a target that is not empty)."""


@dataclass
class CopyReport:
    counts: Counter = field(default_factory=Counter)
    target_counts: Counter = field(default_factory=Counter)
    digest: str = ""
    target_digest: str = ""
    audit: dict[str, str] = field(default_factory=dict)  # org -> "N events" or the problem
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [f"copied {kind}: {self.counts[kind]}" for kind in KINDS if self.counts[kind]]
        out.append(f"source SHA-256 {self.digest}")
        out.append(f"target SHA-256 {self.target_digest}")
        out += [f"audit verify {org}: {text}" for org, text in sorted(self.audit.items())]
        out += [f"PROBLEM: {p}" for p in self.problems]
        out.append("copy verified" if self.ok else "copy NOT verified")
        return out


def is_url(text: str) -> bool:
    return text.startswith(("postgresql://", "postgres://"))


def copy_store(config: Config, source: str, target: str, password_env: str = "",
               progress: Callable | None = None, summarize=None) -> CopyReport:
    if summarize is None:
        from leakline.listing import listing_fields as summarize
    src = _open(config, source, password_env, summarize, orgs=None)
    if isinstance(src, FileSide):
        src.settle()
    items = list(_keys_only(src.items()))
    orgs = sorted({org for _, org, _ in items if org is not None})
    dst = _open(config, target, password_env, summarize, orgs=orgs)
    _require_empty(dst, target)
    report = CopyReport()
    bar = progress or _no_bar
    with bar(src.items(), len(items), "copying") as stream:
        if isinstance(dst, DbSide):
            with dst.begin() as tx:
                for item in stream:
                    dst.put(tx, item)
                    report.counts[item[0]] += 1
        else:
            for item in stream:
                dst.put(item)
                report.counts[item[0]] += 1
            dst.finish()
    report.digest = _digest(src.items(), Counter())
    report.target_digest = _digest(dst.items(), report.target_counts)
    if report.counts != report.target_counts:
        report.problems.append(f"counts differ: source {dict(report.counts)}, "
                               f"target {dict(report.target_counts)}")
    if report.digest != report.target_digest:
        report.problems.append("the target's items do not hash as the source's")
    _verify_audit(dst, orgs, report)
    return report


def _keys_only(items):
    for kind, org, ident, _ in items:
        yield kind, org, ident


class _no_bar:
    def __init__(self, items, total, label):
        self.items = items

    def __enter__(self):
        return self.items

    def __exit__(self, *exc):
        return False


def _open(config: Config, where: str, password_env: str, summarize, orgs: list[str] | None):
    if is_url(where):
        from leakline.store.pg.db import Database

        db = Database(where, password_env)
        db.check_schema()
        return DbSide(db, summarize)
    root = Path(where)
    if orgs is None:  # a source: it must be a file store
        if not root.is_dir():
            raise CopyError(f"no leakline data at {os.path.abspath(root)}")
        orgs = _file_orgs(config, root)
    return FileSide(root, _org_folders(config, root, orgs), summarize)


def _file_orgs(config: Config, root: Path) -> list[str]:
    if not config.org_subtrees:
        return [config.org.id]
    found = {p.name for p in (root / "orgs").glob("*") if p.is_dir()}
    return sorted(found | set(config.organizations.ids()))


def _org_folders(config: Config, root: Path, orgs: list[str]) -> dict[str, Path]:
    if config.org_subtrees:
        return {org: root / "orgs" / org for org in orgs}
    if len(orgs) > 1:
        raise CopyError(f"the source holds {len(orgs)} organisations ({', '.join(orgs)}); "
                        "copy them with a configuration of [[organizations]]")
    return {org: root for org in orgs} or {config.org.id: root}


def _require_empty(side, where: str) -> None:
    if isinstance(side, DbSide):
        if not side.empty():
            raise CopyError(f"{where} already holds data: copy into an empty database")
        return
    root = side.root
    if root.exists() and any(root.iterdir()):
        raise CopyError(f"{os.path.abspath(root)} is not empty: copy into an empty folder")


def _digest(items, counts: Counter) -> str:
    """One SHA-256 over the sorted fingerprints of every item (order of reading aside)."""
    prints = []
    for kind, org, ident, payload in items:
        counts[kind] += 1
        prints.append(f"{kind}\t{org}\t{ident}\t{fingerprint(kind, payload)}")
    return hashlib.sha256("\n".join(sorted(prints)).encode()).hexdigest()


def _verify_audit(side, orgs: list[str], report: CopyReport) -> None:
    from leakline.casecheck import check_store_cases

    for org in orgs:
        if isinstance(side, DbSide):
            from leakline.store.pg.cases import PgStore

            store = PgStore(side.db, org)
        else:
            from leakline.store.cases import Store

            store = Store(side.orgs[org])
        result = store.audit.verify()
        if not result.ok:
            report.problems.append(f"{org}: audit chain broken: {result}")
            report.audit[org] = "BROKEN"
            continue
        cases = check_store_cases(store, store.audit.events())
        report.problems += [f"{org}: {p}" for p in cases.problems]
        report.audit[org] = f"{result.events} events, {cases.cases} cases agree"
