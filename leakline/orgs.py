"""Where each organisation's data lives, and which organisations a message is for.

Layout of data_dir:
    spool/ outbox/ mail-out/ serve.lock .lock service-log.jsonl   the service's, shared by all
    orgs/<id>/                                                   one organisation's store (cases,
                                                                 raw, audit chain, keys, ...)
A config with the single [organization] of today keeps that organisation's store at the root
of data_dir, where it always was: an installation upgraded to this version changes nothing on
disk. A config with [[organizations]] puts every organisation in orgs/<id>/; a store left at
the root by a single-organisation config is given to one of them by `leakline org adopt ID`
(a person decides whose cases they are), and until then the service refuses to start.
The store is a black box here: an organisation's subtree is whatever `store.cases.Store` keeps
under the folder it is given.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime
from pathlib import Path
from typing import Callable

from leakline.config import Config
from leakline.store.cases import Store
from leakline.store.files import DataLock
from leakline.store.outbox import Outbox
from leakline.store.units import Units

ORGS = "orgs"
SERVICE_LOG = "service-log.jsonl"
# What belongs to the service at the root of data_dir; anything else there is the store of a
# single-organisation config.
# `journal`: the outbox's units of work (each organisation's units join them: store/units.py).
SERVICE_NAMES = frozenset({"spool", "outbox", "mail-out", ORGS, "serve.lock", ".lock", SERVICE_LOG,
                           "journal", "log"})  # log/: serve's last errors (leakline/errorlog.py)
# Folders only a case store makes: their presence at the root means a single-organisation store.
STORE_MARKERS = ("cases", "index", "seq")


class Unroutable(LookupError):
    """A spooled message names no organisation that is configured (intake shunts it)."""


def org_data_dir(config: Config, org_id: str) -> Path:
    """The folder of one organisation's store."""
    data_dir = config.service.data_dir
    return data_dir / ORGS / org_id if config.org_subtrees else data_dir


def service_outbox(config: Config, now: Callable[[], datetime], root_store: Store | None = None,
                   org_unit: Callable[[str], contextlib.AbstractContextManager] | None = None,
                   db=None) -> Outbox:
    """The service's outbox. A single-organisation store at the root of data_dir shares its lock
    and units of work with it, as it always did. With [[organizations]] the outbox keeps a journal
    of its own at the root, and every change of an organisation's message is made in a unit of
    that organisation's store (`org_unit`, by default a Store of its folder), which the outbox's
    joins: lock order organisation, then outbox; one journal orders all of a message's changes."""
    if config.store.shared:  # the outbox rows of the shared database (store/pg/outbox.py)
        from leakline.backend import shared_outbox

        return shared_outbox(config, now, db)
    root = config.service.data_dir
    if not config.org_subtrees:
        if root_store is not None:
            return Outbox(root, root_store.lock, now, root_store.units)
        return Outbox(root, DataLock.at(root / ".lock"), now)
    if org_unit is None:
        stores: dict[str, Store] = {}

        def org_unit(org_id: str):
            if org_id not in stores:
                stores[org_id] = Store(org_data_dir(config, org_id), config.service.case_prefix)
            return stores[org_id].unit_of_work()

    def unit_for_org(org_id: str):
        # A message of an organisation since removed from the file: the outbox's own unit.
        return org_unit(org_id) if org_id in config.organizations else contextlib.nullcontext()
    lock = DataLock.at(root / ".lock")
    return Outbox(root, lock, now, Units(root, lock, joinable=True), unit_for_org=unit_for_org)


def root_store_entries(data_dir: Path) -> list[str]:
    """The entries at the root of data_dir that are a single-organisation store ([] if none)."""
    try:
        names = set(os.listdir(data_dir))
    except FileNotFoundError:
        return []
    if not any(marker in names for marker in STORE_MARKERS):
        return []
    return sorted(names - SERVICE_NAMES)


def org_folders(data_dir: Path) -> list[str]:
    """The organisation ids that have a subtree under data_dir/orgs/."""
    try:
        return sorted(name for name in os.listdir(data_dir / ORGS)
                      if not name.startswith(".") and (data_dir / ORGS / name).is_dir())
    except FileNotFoundError:
        return []


def has_data(config: Config, org_id: str) -> bool:
    """Whether the organisation's store exists yet (before its first message it does not).
    In a shared database every configured organisation has its store."""
    if config.store.shared:
        return True
    if not config.org_subtrees:
        return config.service.data_dir.is_dir()
    return (config.service.data_dir / ORGS / org_id).is_dir()


def orgs_for_envelope(config: Config, envelope: dict) -> list[str]:
    """The organisations a spooled message is for: those the listener recorded (`orgs`), else
    those whose incident address is among its recipients (an entry spooled by `ingest`, by an
    older version, or for an organisation since renamed). A single-organisation config takes
    every message, as it always did. Unroutable when none is configured: the message is
    shunted for a person, never dropped."""
    table = config.organizations
    if config.orgs is None:
        return table.ids()
    named = envelope.get("orgs")
    wanted = [str(org_id) for org_id in named] if isinstance(named, list) else []
    if not wanted or any(org_id not in table for org_id in wanted):
        found = (table.for_address(str(rcpt)) for rcpt in envelope.get("rcpt_tos") or [])
        wanted = [org_id for org_id in found if org_id]
    if not wanted:
        raise Unroutable("no configured organisation has any of its recipients ("
                         f"{', '.join(map(str, envelope.get('rcpt_tos') or [])) or 'none'})")
    return list(dict.fromkeys(wanted))


def org_of_outbox_item(config: Config, org: str | None, case_id: str | None) -> str | None:
    """The organisation an outbox message belongs to: the one it was queued for, else (a record
    from before organisations, or of one since renamed) the one its case id's prefix names."""
    table = config.organizations
    if org and org in table:
        return org
    if config.orgs is None:
        return table.ids()[0]
    return table.for_case_id(case_id)


def shunted_for(config: Config, rows: list[dict]) -> list[dict]:
    """The shunted messages (`Spool.shunted`) of the organisation `config` is scoped to; a
    damaged segment or a message for no organisation is counted for every one (a person must look)."""
    if not config.org_subtrees:
        return rows
    mine = []
    for row in rows:
        try:
            orgs = orgs_for_envelope(config, {"rcpt_tos": row.get("rcpt_tos") or [],
                                              "orgs": row.get("orgs")})
        except Unroutable:
            orgs = [config.org.id]
        if config.org.id in orgs:
            mine.append(row)
    return mine
