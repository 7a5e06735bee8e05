"""The SMTP listener: accept mail for the incident address, spool it durably, then answer 250.

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
from leakline.servelock import ServeLock
from leakline.worker import WorkerProcess
from store.spool import Spool

log = logging.getLogger("leakline.server")

OK_250 = "250 2.0.0 Ok: queued as {spool_id}"
ERR_451 = "451 4.3.0 Requested action aborted: could not store the message, try again later"
ERR_550 = "550 5.1.1 <{address}>: recipient address rejected: this server accepts only {incident}"
POLL_SECONDS = 1.0


class GroupCommitter:
    """Write messages that arrive together as one spool segment with one fsync.

    No caller gets its spool id (and so its 250) before its batch is on disk.
    """

    def __init__(self, spool: Spool, on_committed: Callable[[], None]):
        self.spool = spool
        self.on_committed = on_committed
        self._pending: list[tuple[bytes, dict, asyncio.Future]] = []
        self._flushing = False

    async def store(self, raw: bytes, envelope: dict) -> str:
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
                    ids = await loop.run_in_executor(None, self.spool.write, items)
                except Exception as exc:
                    for _, _, future in batch:
                        future.done() or future.set_exception(exc)
                    continue
                for (_, _, future), spool_id in zip(batch, ids):
                    future.done() or future.set_result(spool_id)
                self.on_committed()
        finally:
            self._flushing = False


class IncidentHandler:
    def __init__(self, incident_address: str, committer: GroupCommitter):
        self.incident_address = incident_address.lower()
        self.committer = committer

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options):
        if address.lower() != self.incident_address:
            return ERR_550.format(address=address, incident=self.incident_address)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        meta = {
            "mail_from": envelope.mail_from or "",
            "rcpt_tos": list(envelope.rcpt_tos),
            "peer": str(session.peer[0]) if session.peer else None,
            "helo": session.host_name,
            "received_at": datetime.now(timezone.utc).isoformat(),
        }
        try:
            spool_id = await self.committer.store(raw, meta)
        except Exception:
            log.exception("could not spool a message from %s", meta["mail_from"])
            return ERR_451
        return OK_250.format(spool_id=spool_id)

    async def handle_exception(self, error: Exception) -> str:
        # aiosmtpd answers 500 for a handler exception: our fault must never be a 5xx.
        log.error("SMTP session error: %s", type(error).__name__)
        return ERR_451


def smtp_factory(app: App, handler: IncidentHandler, tls_context: ssl.SSLContext | None):
    service = app.config.service

    class LeaklineSMTP(SMTP):
        # Phone mailers send lines far over RFC 5321's 1000 bytes: accept them.
        line_length_limit = service.max_message_bytes

    def factory() -> SMTP:
        return LeaklineSMTP(handler, data_size_limit=service.max_message_bytes,
                            enable_SMTPUTF8=True, decode_data=False,
                            tls_context=tls_context, require_starttls=False)
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
    """Run the listener and its worker process until `stop` is set (or SIGINT/SIGTERM).

    Raises AlreadyServing when another `serve` holds the data_dir.
    """
    app.prepare()
    lock = ServeLock(app.data_dir)
    lock.acquire()
    try:
        await _serve(app, lock, stop, announce)
    finally:
        lock.release()


async def _serve(app: App, lock: ServeLock, stop: asyncio.Event | None,
                 announce: Callable[[str], None]) -> None:
    loop = asyncio.get_running_loop()
    stop = stop or asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread (tests): the caller sets `stop`
    worker = WorkerProcess(app.config)
    committer = GroupCommitter(app.spool, on_committed=worker.wake)
    handler = IncidentHandler(app.config.organization.incident_address, committer)
    service = app.config.service
    server = await loop.create_server(smtp_factory(app, handler, tls_context_for(app)),
                                      host=service.host, port=service.port)
    port = server.sockets[0].getsockname()[1]
    lock.record(service.host, port)
    worker.start()
    supervisor = loop.create_task(_supervise(worker, stop))
    announce(f"leakline listening on {service.host}:{port} for "
             f"{app.config.organization.incident_address}; data in {app.data_dir}")
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
        supervisor.cancel()
        await loop.run_in_executor(None, worker.stop)
        announce("leakline stopped")


async def _supervise(worker: WorkerProcess, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await asyncio.sleep(POLL_SECONDS)
        worker.ensure_running()
