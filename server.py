"""The SMTP listener: accept mail for the incident addresses, spool it durably, then answer 250.

Listener only: parsing and cases happen in the intake worker, after the sender has its 250.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
from datetime import datetime, timezone
from typing import Callable

from aiosmtpd.smtp import SMTP

from leakline.app import App
from leakline.config import ConfigError
from leakline.config_orgs import OrgTable
from leakline.listener import ConnectionGate, LeaklineSMTP, Limits
from leakline.servelock import ServeLock
from leakline.worker import WorkerProcess
from leakline.store.body import MessageBody
from leakline.store.spool import Spool

log = logging.getLogger("leakline.server")

OK_250 = "250 2.0.0 Ok: queued as {spool_id}"
ERR_451 = "451 4.3.0 Requested action aborted: could not store the message, try again later"
ERR_550 = "550 5.1.1 <{address}>: recipient address rejected: this server accepts only {incident}"
# With several organisations the answer names none of them: a prober learns no client's address.
ERR_550_ANY = "550 5.1.1 <{address}>: recipient address rejected: not an incident address here"
POLL_SECONDS = 1.0


class GroupCommitter:
    """Write messages that arrive together as one spool segment with one fsync.

    No caller gets its spool id (and so its 250) before its batch is on disk; each message
    succeeds or fails on its own (`Spool.write_each`). The committer owns the bodies it is
    given and discards their temp files once the batch is written, whatever the outcome.
    """

    def __init__(self, spool: Spool, on_committed: Callable[[], None]):
        self.spool = spool
        self.on_committed = on_committed
        self._pending: list[tuple[bytes | MessageBody, dict, asyncio.Future]] = []
        self._flushing = False

    async def store(self, raw: bytes | MessageBody, envelope: dict) -> str:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.append((raw, envelope, future))
        if not self._flushing:
            self._flushing = True
            loop.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                items = [(raw, envelope) for raw, envelope, _ in batch]
                try:
                    results = await loop.run_in_executor(None, self._commit, items)
                except Exception as exc:  # not even the fallback ran: every message gets 451
                    results = [exc] * len(batch)
                for (_, _, future), result in zip(batch, results):
                    if future.done():
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
                if any(not isinstance(r, Exception) for r in results):
                    self.on_committed()
        finally:
            self._flushing = False

    def _commit(self, items: list) -> list:
        try:
            return self.spool.write_each(items)
        finally:
            for raw, _ in items:
                if isinstance(raw, MessageBody):
                    raw.discard()


class IncidentHandler:
    """RCPT picks the organisation (one dict lookup, however many there are); the spool entry
    records which organisations the message is for (`orgs`), in the order first named."""

    def __init__(self, organizations: OrgTable, committer: GroupCommitter):
        self.organizations = organizations
        only = list(organizations)
        self.only = only[0].organization.incident_address if len(only) == 1 else None
        self.committer = committer

    def new_body(self) -> MessageBody:
        return self.committer.spool.new_body()

    async def handle_EHLO(self, server, session, envelope, hostname: str, responses: list[str]):
        session.host_name = hostname
        # aiosmtpd offers AUTH after STARTTLS even with no authenticator: offer nothing we lack.
        return [line for line in responses if not line[4:].upper().startswith("AUTH")]

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options):
        if self.organizations.for_address(address) is None:
            return ERR_550.format(address=address, incident=self.only) if self.only else \
                ERR_550_ANY.format(address=address)
        if not any(a.lower() == address.lower() for a in envelope.rcpt_tos):
            envelope.rcpt_tos.append(address)  # the same RCPT TO 1,000 times is stored once
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        body = envelope.body  # LeaklineSMTP's MessageEnvelope: DATA as it was spooled
        meta = {
            "mail_from": envelope.mail_from or "",
            "rcpt_tos": list(envelope.rcpt_tos),
            "orgs": list(dict.fromkeys(self.organizations.for_address(a) for a in envelope.rcpt_tos)),
            "peer": str(session.peer[0]) if session.peer else None,
            "helo": session.host_name,
            "received_at": datetime.now(timezone.utc).isoformat(),
        }
        try:
            spool_id = await self.committer.store(body, meta)
        except Exception as exc:
            log.error("could not spool a message (peer %s): %s: %s", meta["peer"],
                      type(exc).__name__, exc)
            return ERR_451
        return OK_250.format(spool_id=spool_id)

    async def handle_exception(self, error: Exception) -> str:
        # aiosmtpd answers 500 for a handler exception: our fault must never be a 5xx.
        log.error("SMTP session error: %s", type(error).__name__)
        return ERR_451


def smtp_factory(app: App, handler: IncidentHandler, tls_context: ssl.SSLContext | None):
    service = app.config.service
    limits = Limits(command_line=service.max_command_line_bytes,
                    data_line=service.max_data_line_bytes, message=service.max_message_bytes)
    gate = ConnectionGate(service.max_connections, service.max_connections_per_peer,
                          service.is_trusted_relay)

    def factory() -> SMTP:
        return LeaklineSMTP(handler, limits=limits, gate=gate, enable_SMTPUTF8=True,
                            decode_data=False, tls_context=tls_context,
                            require_starttls=service.require_starttls)
    return factory


def tls_context_for(app: App) -> ssl.SSLContext | None:
    service = app.config.service
    if not service.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(str(service.tls_cert), str(service.tls_key))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"service.tls_cert: cannot load {service.tls_cert} / {service.tls_key}: "
                          f"{getattr(exc, 'strerror', None) or exc}") from None
    return context


async def serve(app: App, *, stop: asyncio.Event | None = None,
                announce: Callable[[str], None] = print) -> None:
    """Run the listener and its worker processes until `stop` is set (or SIGINT/SIGTERM).

    Raises AlreadyServing when another `serve` holds the data_dir.
    """
    app.prepare()
    lock = ServeLock(app.data_dir)
    lock.acquire()
    try:
        # Only under the lock: temp files of a serve that is still running are not stale.
        app.spool.remove_stale_tmp()
        repaired = _quick_store_check(app)
        await _serve(app, lock, stop, announce, repaired)
    finally:
        lock.release()


async def _serve(app: App, lock: ServeLock, stop: asyncio.Event | None,
                 announce: Callable[[str], None], repaired: list[str]) -> None:
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread (tests): the caller sets `stop`
    worker = WorkerProcess(app.config)
    committer = GroupCommitter(app.spool, on_committed=worker.wake)
    handler = IncidentHandler(app.config.organizations, committer)
    service = app.config.service
    server = await loop.create_server(smtp_factory(app, handler, tls_context_for(app)),
                                      host=service.host, port=service.port)
    port = server.sockets[0].getsockname()[1]
    lock.record(service.host, port)
    worker.start()
    supervisor = loop.create_task(_supervise(worker, stop))
    announce(f"leakline listening on {service.host}:{port} for {_addresses(app.config)}; "
             f"data in {app.data_dir}")
    for line in repaired:
        announce(f"store: repaired {line}")
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
        supervisor.cancel()
        await loop.run_in_executor(None, worker.stop)
        announce("leakline stopped")


def _addresses(config) -> str:
    orgs = list(config.organizations)
    if len(orgs) == 1:
        return orgs[0].organization.incident_address
    shown = ", ".join(org.organization.incident_address for org in orgs[:3])
    return f"{len(orgs)} organisations ({shown}{', …' if len(orgs) > 3 else ''})"


def _quick_store_check(app: App) -> list[str]:
    """Sequences and index shards only (never every case): rebuilt from the case files if damaged.
    Every organisation that has data; one without has nothing to check (nor is it created)."""
    from leakline.orgs import has_data
    from leakline.store.health import quick_check

    repairs = []
    for org_id in app.config.organizations.ids():
        if not has_data(app.config, org_id):
            continue
        report = quick_check(app.tenant(org_id).store)
        for line in report.problems:
            log.warning("store: %s: damaged: %s", org_id, line)
        prefix = f"{org_id}: " if app.config.org_subtrees else ""
        repairs += [prefix + line for line in report.repairs]
    return repairs


async def _supervise(worker: WorkerProcess, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.sleep(POLL_SECONDS)
        worker.ensure_running()
