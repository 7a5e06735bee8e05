"""Wiring: the store, spool, intake and responders built from one Config (no globals).

The spool, the outbox and its sender serve the whole service; each organisation has its own
Tenant: a store over its own folder (leakline/orgs.py), and the intake, mailer, responder and
scheduler that see only that organisation's Config (Config.for_org). An App made from a Config
scoped to one organisation (or with only one) also offers that organisation's parts as
`app.store`, `app.intake`, `app.mailer`, `app.responder` and `app.scheduler`, as before.

A unit of work is one organisation's (its store's lock, then the outbox's): the outbox's changes
join it (store/units.py), so a case and the mail about it commit together. The parts that make
and answer cases are built at first use: a command that only reads (`cases list`) imports none.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from datetime import datetime, timezone
from typing import Callable

from functools import cached_property

from leakline.backend import (SHARED_IDLE_SECONDS, check_database, claiming, shared_database,
                              shared_spool)
from leakline.config import Config, OrgScopeError
from leakline.listing import listing_fields
from leakline.orgs import (org_data_dir, org_of_outbox_item, orgs_for_envelope, root_store_entries,
                           service_outbox)
from leakline.store.cases import Store
from leakline.store.files import ensure_dir
from leakline.store.spool import Spool

Clock = Callable[[], datetime]
log = logging.getLogger("leakline.app")
TENANT_PARTS = frozenset({"store", "intake", "mailer", "responder", "scheduler"})


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class DataDirError(Exception):
    """data_dir is missing, unwritable or open to other users."""


def check_data_dir(path) -> None:
    """Refuse a data_dir that other users can read: it holds the very data that leaked."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(mode):
        raise DataDirError(f"data_dir {path} is not a directory")
    if mode & 0o077:
        raise DataDirError(
            f"data_dir {path} is open to other users (mode {stat.S_IMODE(mode):o}); "
            f"fix it with: chmod -R go-rwx {path}")


def check_layout(config: Config) -> None:
    """With [[organizations]], a single-organisation store left at the root must first be given
    to one organisation: its cases would otherwise be nobody's, and new ones open beside them."""
    if not config.org_subtrees:
        return
    entries = root_store_entries(config.service.data_dir)
    if entries:
        raise DataDirError(
            f"data_dir {config.service.data_dir} holds the cases of a single-organisation "
            f"configuration at its root ({', '.join(entries[:6])}{', …' if len(entries) > 6 else ''}); "
            "give them to their organisation first: leakline org adopt ID (with serve stopped)")


def org_store(config: Config, now: Clock, db=None) -> Store:
    """The store of the organisation `config` is scoped to, over its own folder (or its rows
    of the shared database `db`, with `[store] backend = "postgresql"`)."""
    if db is not None:
        from leakline.store.pg.cases import PgStore

        return PgStore(db, config.org.id, config.service.case_prefix, now=now,
                       summarize=listing_fields)
    return Store(org_data_dir(config, config.org.id), config.service.case_prefix, now=now,
                 summarize=listing_fields)


class Tenant:
    """One organisation's part of the service."""

    def __init__(self, app: "App", config: Config, store: Store | None = None):
        self.app = app
        self.config = config
        self.org = config.org
        self.store = store or org_store(config, app.now, app.db)

    @cached_property
    def intake(self):
        from leakline.intake.processor import Intake

        return Intake(self.store, self.config)

    @cached_property
    def mailer(self):
        from leakline.delivery.mailer import Mailer

        return Mailer(self.store, self.app.outbox, self.config, self.app.now,
                      wake=self.app._wake_sender)

    @cached_property
    def responder(self):
        from leakline.responders.react import Responder

        return Responder(self.store, self.mailer, self.config, self.app.now)

    @cached_property
    def scheduler(self):
        from leakline.responders.scheduler import Scheduler

        return Scheduler(self.store, self.responder, self.config, self.app.now)

    def prepare(self) -> None:
        self.store.prepare()
        self.store.message_id_key()  # made at the first start, before any mail is signed


class App:
    def __init__(self, config: Config, now: Clock = utc_now):
        self.config = config if config.scope or len(config.organizations) != 1 \
            else config.for_org(config.org.id)
        self.now = now
        self.data_dir = config.service.data_dir
        # [store] backend = "postgresql": spool, stores and outbox in one database every node
        # shares (store/pg/, leakline/backend.py); else files under data_dir.
        self.db = shared_database(config)
        self.spool = Spool(self.data_dir) if self.db is None else shared_spool(self.db, self.data_dir)
        self._tenants: dict[str, Tenant] = {}
        self._root_store: Store | None = None
        self._nodes: dict[str, object] = {}
        if not config.org_subtrees and self.db is None:
            # The one store at the root of data_dir: the outbox shares its lock and its units.
            self._root_store = org_store(self.config, now)
        self.outbox = service_outbox(config, now, self._root_store, self._org_unit, self.db)
        self.sender = None  # built by background_tasks, in the process that delivers
        # Where the sender runs in another process (serve): how to tell it mail was queued.
        self.on_mail_queued: Callable[[], None] | None = None
        self._prepared: set[str] = set()
        self._tenants_lock = threading.RLock()
        self._on_problem: Callable[[str], None] | None = None

    @cached_property
    def pipeline(self):
        if self.db is not None:
            from leakline.intake.dbpipeline import DbPipeline

            return DbPipeline(self.db, self.spool, self.route, self.node("intake"))
        from leakline.intake.pipeline import Pipeline

        return Pipeline(self.spool, None, route=self.route, checkpoint=self.checkpoint)

    def spool_waker(self):
        """What wakes an idle intake worker when another node accepted mail (None: the file
        spool, which only this node's listener fills)."""
        if self.db is None:
            return None
        from leakline.store.pg.spool import Waker

        return Waker(self.db)

    def node(self, role: str):
        """This process as a node of the shared database (`role`: intake, sender): the
        callable that registers it once and gives its id (store/pg/nodes.py)."""
        if role not in self._nodes:
            from leakline.store.pg.nodes import Node

            self._nodes[role] = Node(self.db, role)
        return self._nodes[role].ensure

    # -- organisations ------------------------------------------------------------------------
    def tenant(self, org_id: str, prepare: bool = True) -> Tenant:
        """The organisation's parts, built at first use (UnknownOrg for an id not configured);
        its store is prepared (folders, recovery) the first time this process uses it."""
        with self._tenants_lock:
            tenant = self._tenants.get(org_id)
            if tenant is None:
                tenant = self._tenants[org_id] = Tenant(self, self.config.for_org(org_id),
                                                        self._root_store)
                if self._on_problem is not None:
                    tenant.store.on_problem = self._on_problem
            if prepare and org_id not in self._prepared:
                tenant.prepare()
                self._prepared.add(org_id)
            return tenant

    def selected(self) -> Tenant:
        """The organisation this App was made for (a scoped Config, or the only one)."""
        return self.tenant(self.config.org.id, prepare=False)

    def __getattr__(self, name: str):
        # app.store, app.intake, ...: the selected organisation's (OrgScopeError if none is).
        if name in TENANT_PARTS:
            return getattr(self.selected(), name)
        raise AttributeError(name)

    def on_problem(self, report: Callable[[str], None]) -> None:
        """Where every store says what damage it found (a skipped case, a rebuilt shard)."""
        with self._tenants_lock:
            self._on_problem = report
            for tenant in self._tenants.values():
                tenant.store.on_problem = report

    def route(self, entry) -> list:
        """(intake, reactors) of every organisation a spooled message is for (Pipeline)."""
        return [(t.intake, [t.responder]) for t in
                (self.tenant(org_id) for org_id in orgs_for_envelope(self.config, entry.envelope))]

    def tenant_of(self, item) -> Tenant | None:
        """The organisation an outbox item belongs to, or None (no configured organisation)."""
        org_id = org_of_outbox_item(self.config, getattr(item, "org", None), item.case_id)
        return self.tenant(org_id) if org_id else None

    def _org_unit(self, org_id: str):
        """The unit of work of an organisation's store (Outbox.unit_for_org)."""
        return self.tenant(org_id).store.unit_of_work()

    def unit_for(self, item):
        """The unit the sender records an item's delivery in: its organisation's, or the
        outbox's own for an item of no configured organisation."""
        tenant = self.tenant_of(item)
        return tenant.store.units if tenant is not None else self.outbox.units

    def checkpoint(self) -> None:
        """Flush what this process's units wrote behind their journals (intake, when idle)."""
        with self._tenants_lock:
            stores = [self._tenants[org_id].store for org_id in self._prepared]
        for store in stores:
            store.checkpoint()
        if self.outbox.units is not getattr(self._root_store, "units", None):
            self.outbox.units.checkpoint()

    def _wake_sender(self) -> None:
        if self.sender is not None:
            self.sender.wake()
        elif self.on_mail_queued is not None:
            self.on_mail_queued()

    def transport(self):
        """The configured transport; ConfigError (e.g. the password variable unset) is clear."""
        from leakline.delivery.transport import transport_for

        return transport_for(self.config)

    def on_dead_letter(self, item) -> None:
        """Alert the organisation's privacy officers, once, and record the failure in its case.

        The alert first: should the case not save, the sender calls this again at the next
        start, and the alert's stable Message-ID keeps it single.
        """
        from leakline.responders.deadletter import alert_dead_letter
        from leakline.delivery.mailer import record_delivery

        tenant = self.tenant_of(item)
        if tenant is None:
            log.error("outbox: %s failed and belongs to no configured organisation: nobody alerted",
                      item.id)
            return
        if item.kind != "deadletter_alert":  # never alert about an alert
            alert_dead_letter(tenant.mailer, item, (self.outbox.get(item.id) or {}).get("attempts"))
        if item.case_id and tenant.store.exists(item.case_id):
            record_delivery(tenant.store, item.case_id, item.id, "failed", item.last_error)

    def prepare(self) -> None:
        check_data_dir(self.data_dir)
        check_layout(self.config)
        ensure_dir(self.data_dir)
        self.spool.prepare()
        if self.db is not None:
            check_database(self.db)
        self.outbox.prepare()  # an older outbox's records taken in, before any unit joins it
        try:
            self.tenant(self.config.org.id)
        except OrgScopeError:
            pass  # the service of several: each organisation is prepared at its first use

    def background_tasks(self, stop) -> list:
        """Coroutines the delivery process runs: the outbox sender, the scheduler."""
        from leakline.responders.scheduler import ServiceScheduler
        from leakline.delivery.sender import SenderWorker

        outbox = self.outbox if self.db is None else claiming(self.outbox, self.node("sender"))
        # On a shared database another node may queue mail, or die leaving mail queued: look
        # every few seconds (a node's death is noticed well within 30 s).
        idle = {} if self.db is None else {"max_idle": SHARED_IDLE_SECONDS}
        self.sender = SenderWorker(outbox, self.transport(), self.now,
                                   on_dead_letter=self.on_dead_letter, on_sent=self.record_sent,
                                   units_for=self.unit_for, **idle)
        return [self.sender.run(stop), ServiceScheduler(self.schedulers).run(stop)]

    def record_sent(self, item) -> None:
        """`sent` in the message's case, with its event (in the sender's unit of work: its
        organisation's, which the outbox's move to sent/ joined)."""
        from leakline.delivery.mailer import record_delivery

        tenant = self.tenant_of(item)
        if item.case_id and tenant is not None and tenant.store.exists(item.case_id):
            record_delivery(tenant.store, item.case_id, item.id, "sent")

    def schedulers(self) -> list:
        """The schedulers of every organisation that has data (the others have no cases)."""
        from leakline.orgs import has_data

        return [self.tenant(org_id).scheduler for org_id in self.config.organizations.ids()
                if self.db is not None or has_data(self.config, org_id)]
