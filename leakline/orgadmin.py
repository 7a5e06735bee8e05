"""What the service does to an organisation as a whole: list, export, purge, adopt a root store.

Each works on the organisation's subtree as the store left it (leakline/orgs.py), never on
another's, and what changes an organisation whole is written to the service log
(leakline/servicelog.py) before it is done. Purge and adopt take the serve lock: no `serve` may
run meanwhile (its worker would write into what is being removed or moved).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from leakline.casecheck import check_cases
from leakline.config import Config, UnknownOrg
from leakline.orgs import (ORGS, SERVICE_NAMES, has_data, org_data_dir, org_of_outbox_item,
                           root_store_entries, service_outbox)
from leakline.servelock import ServeLock
from leakline.servicelog import ServiceLog
from leakline.store.cases import Store
from leakline.store.files import DataLock, ensure_dir
from leakline.store.units import Units

# Never copied out of an organisation's subtree: the key its Message-IDs are signed with (a
# secret of the service, not the client's data) and lock files.
NOT_EXPORTED = frozenset({"secret", ".lock"})


class OrgAdminError(Exception):
    """A one-line reason an organisation cannot be exported, purged or adopted."""


def org_rows(config: Config) -> list[dict]:
    """One row per configured organisation (`leakline org list`)."""
    rows = []
    for org in config.organizations:
        o = org.organization
        rows.append({
            "id": org.id, "name": o.name, "incident_address": o.incident_address,
            "mail_from": org.from_address, "domains": list(o.domains), "language": o.language,
            "privacy_mark": o.privacy_mark, "case_prefix": org.case_prefix,
            "retention_days": org.retention_days, "ack_within_minutes": org.ack_within_minutes,
            "gdpr": o.gdpr, "sector": o.sector or None,
            "managers": [{"name": m.name, "email": m.email, "role": m.role} for m in org.managers],
            "templates_dir": str(o.templates_dir) if o.templates_dir else None,
            "data_dir": str(org_data_dir(config, org.id)), "has_data": has_data(config, org.id),
        })
    return rows


def orphaned(config: Config) -> list[str]:
    """Subtrees under data_dir/orgs/ of no configured organisation (removed from the file?)."""
    from leakline.orgs import org_folders

    return [name for name in org_folders(config.service.data_dir) if name not in config.organizations]


# -- export -------------------------------------------------------------------------------------
@dataclass
class Exported:
    files: int
    audit_ok: bool
    events: int
    cases: int


def export_org(config: Config, org_id: str, out: Path, now: datetime) -> Exported:
    """Everything of one organisation into `out`: its store under data/ (a store leakline can
    open), its outbox records, and manifest.json with the SHA-256 of every file."""
    org = _configured(config, org_id)
    if not has_data(config, org_id):
        raise OrgAdminError(f"organisation {org_id} has no data yet")
    if out.exists() and any(out.iterdir()):
        raise OrgAdminError(f"{out} is not empty")
    store = Store(org_data_dir(config, org_id), org.case_prefix)
    ensure_dir(out / "data")
    with store.lock.hold():  # a consistent copy: no case is saved while it is made
        _settle_journal(store.data_dir)  # its units applied and flushed: an empty journal
        for name in _store_entries(config, org_id):
            _copy(org_data_dir(config, org_id) / name, out / "data" / name)
        audit = store.audit.verify()
        cases = check_cases(store.data_dir, store.audit.events()) if audit.ok else None
    outbox = [row for row in _outbox_rows(config) if _belongs(config, row, org_id)]
    (out / "outbox.json").write_text(json.dumps(outbox, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "README.txt").write_text(_readme(org_id), encoding="utf-8")
    files = {str(p.relative_to(out)): _digest(p) for p in sorted(out.rglob("*")) if p.is_file()}
    manifest = {
        "org": org_id, "name": org.organization.name, "exported_at": now.isoformat(timespec="seconds"),
        "audit": {"ok": audit.ok, "events": audit.events, "reason": audit.reason or None,
                  "cases": cases.cases if cases else None,
                  "case_problems": cases.problems if cases else None},
        "outbox_messages": len(outbox), "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return Exported(len(files), audit.ok and bool(cases and cases.ok), audit.events,
                    cases.cases if cases else 0)


def _store_entries(config: Config, org_id: str) -> list[str]:
    folder = org_data_dir(config, org_id)
    names = set(os.listdir(folder)) - NOT_EXPORTED
    if not config.org_subtrees:  # the store at the root: the service's own entries are not its
        names -= SERVICE_NAMES
    return sorted(names)


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, copy_function=shutil.copyfile)
    else:
        shutil.copyfile(source, target)


def _digest(path: Path) -> dict:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return {"sha256": sha.hexdigest(), "size": path.stat().st_size}


def _readme(org_id: str) -> str:
    return (f"Export of organisation {org_id}, written by leakline.\n\n"
            "data/          its store as leakline keeps it: cases/ (one file per case), raw/ (every\n"
            "               message received or sent, .eml), audit/chain.jsonl (the hash-chained\n"
            "               audit trail), index/, keys/, seq/ (the case sequence). The key our\n"
            "               Message-IDs are signed with is not exported.\n"
            "outbox.json    the outgoing messages of its cases still known to the outbox\n"
            "manifest.json  the SHA-256 and size of every file here, and whether the audit chain\n"
            "               and the case files verified when it was written\n")


def _outbox_rows(config: Config) -> list[dict]:
    root = config.service.data_dir
    box = service_outbox(config, datetime.now)
    if not (root / "outbox").is_dir():
        return []
    return box.list() + box.list(failed=True) + box.list_sent()


def _belongs(config: Config, row: dict, org_id: str) -> bool:
    return org_of_outbox_item(config, row.get("org"), row.get("case_id")) == org_id


def _configured(config: Config, org_id: str):
    try:
        return config.organizations[org_id]
    except UnknownOrg as exc:
        raise OrgAdminError(str(exc)) from None


# -- purge --------------------------------------------------------------------------------------
@dataclass
class Purged:
    files: int
    outbox: int
    maildir: int


def purge_org(config: Config, org_id: str, by: str, now: datetime) -> Purged:
    """Remove everything of one organisation (a client that leaves): its store, its outbox
    messages, the copies the Maildir transport delivered. The service log keeps that it was,
    with its audit chain's head, before anything is removed."""
    root = config.service.data_dir
    folder = _purge_folder(config, org_id)
    lock = _serve_lock(root)
    try:
        store = Store(folder, "X")
        head = store.audit.head()
        ours = _outgoing_ids(config, org_id)
        files = sum(len(f) for _, _, f in os.walk(folder)) if config.org_subtrees else \
            sum(1 for name in _store_entries(config, org_id) for _ in _walk(root / name))
        ServiceLog(root).append("org_purged", org_id, by, now, {
            "audit_events": head.get("seq", 0), "audit_head": head.get("hash"), "files": files,
            "outbox_messages": len(ours), "configured": org_id in config.organizations})
        outbox = service_outbox(config, lambda: now)
        removed = sum(outbox.forget(message_id) for message_id in ours)
        if not config.org_subtrees:  # the root journal stays: nothing in it may name the store
            _settle_journal(root)
        delivered = _purge_maildir(root / "mail-out", set(ours) | _case_mail_ids(store))
        _remove_store(config, org_id, folder)
    finally:
        lock.release()
    return Purged(files, removed, delivered)


def _settle_journal(folder: Path) -> None:
    """Apply, flush and empty a store's journal of units of work (store/units.py): a journal that
    stays behind (or goes along) must hold nothing that names files of the store moved away."""
    if (folder / "journal").is_dir():
        units = Units(folder, DataLock.at(folder / ".lock"))
        units.prepare()
        units.checkpoint()


def _purge_folder(config: Config, org_id: str) -> Path:
    """The folder to purge: a configured organisation's, or one left by an organisation since
    removed from the file (a client that left before its data did)."""
    if config.org_subtrees:
        folder = config.service.data_dir / ORGS / org_id
        if org_id not in config.organizations and not folder.is_dir():
            _configured(config, org_id)  # raises: no such organisation
        return folder
    _configured(config, org_id)
    return config.service.data_dir


def _serve_lock(root: Path) -> ServeLock:
    from leakline.servelock import AlreadyServing

    lock = ServeLock(root)
    try:
        lock.acquire()
    except AlreadyServing as exc:
        raise OrgAdminError(str(exc)) from None
    return lock


def _walk(path: Path):
    if path.is_dir():
        for _, _, files in os.walk(path):
            yield from files
    else:
        yield path


def _outgoing_ids(config: Config, org_id: str) -> list[str]:
    """The outbox messages of the organisation (of one no longer configured: those it queued)."""
    rows = _outbox_rows(config)
    if org_id in config.organizations:
        return [r["id"] for r in rows if _belongs(config, r, org_id)]
    return [r["id"] for r in rows if r.get("org") == org_id]


def _case_mail_ids(store: Store) -> set[str]:
    """The Message-IDs of every mail the organisation's cases sent (they name the Maildir copies)."""
    ids = set()
    if not (store.data_dir / "index").is_dir():
        return ids
    for case in store.cases("all"):
        ids.update(m["message_id"] for m in case.get("messages", [])
                   if m.get("direction") == "out" and m.get("message_id"))
    return ids


def _purge_maildir(maildir: Path, message_ids: set[str]) -> int:
    import email.parser
    import email.policy

    parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    removed = 0
    for sub in ("new", "cur", "tmp"):
        folder = maildir / sub
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            with open(path, "rb") as fh:
                head = parser.parse(fh)
            if str(head.get("Message-ID", "")).strip() in message_ids:
                path.unlink()
                removed += 1
    return removed


def _remove_store(config: Config, org_id: str, folder: Path) -> None:
    """Moved aside whole first (one rename), then deleted: a crash leaves no half store that
    looks alive, only a `.purging-*` folder the next purge of it removes."""
    root = config.service.data_dir
    aside = root / ORGS / f".purging-{org_id}"
    if aside.exists():
        shutil.rmtree(aside)  # left by a purge a crash cut short
    if config.org_subtrees:
        if folder.is_dir():
            os.replace(folder, aside)
    else:
        ensure_dir(aside)
        for name in _store_entries(config, org_id) + ["secret"]:
            if (root / name).exists():
                os.replace(root / name, aside / name)
    if aside.exists():
        shutil.rmtree(aside)


# -- adopt --------------------------------------------------------------------------------------
def adopt_root_store(config: Config, org_id: str, by: str, now: datetime) -> list[str]:
    """Give the store a single-organisation config left at the root of data_dir to one of the
    [[organizations]]: its entries move into data_dir/orgs/<id>/ (case ids, audit chain and
    Message-ID key unchanged). Returns the names moved."""
    root = config.service.data_dir
    if not config.org_subtrees:
        raise OrgAdminError("adopt is for a configuration with [[organizations]]; this one has the "
                            "single [organization], whose store stays at the root of data_dir")
    _configured(config, org_id)
    target, staging = root / ORGS / org_id, root / ORGS / f".adopting-{org_id}"
    entries = root_store_entries(root)
    if not entries and not staging.exists():
        raise OrgAdminError(f"no single-organisation store at the root of {root}")
    if target.exists() and any(target.iterdir()):
        raise OrgAdminError(f"organisation {org_id} has data already ({target}); adopt into an "
                            "organisation that has none")
    lock = _serve_lock(root)
    try:
        _settle_journal(root)  # stays at the root, the outbox's from now on
        ServiceLog(root).append("org_adopted", org_id, by, now, {"entries": entries})
        ensure_dir(staging)
        for name in entries:  # each a rename; a crash midway is finished by running it again
            os.replace(root / name, staging / name)
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    finally:
        lock.release()
    return entries
