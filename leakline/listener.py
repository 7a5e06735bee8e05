"""The listener's SMTP session: aiosmtpd's SMTP with the limits an open port needs.

aiosmtpd keeps DATA as a list of line objects and lets a command line grow to its stream limit.
Here a command line longer than `max_command_line_bytes` is answered `500 5.5.2` and the
connection closed; DATA goes to a `MessageBody` as it arrives (spilled to spool/tmp when large),
with its own line limit and the message limit (552); connections are capped in total and per
peer (421). Everything else (the command loop, STARTTLS, the envelope rules) stays aiosmtpd's.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Callable

from aiosmtpd.smtp import SMTP, Envelope, syntax

log = logging.getLogger("leakline.server")

ERR_421_BUSY = b"421 4.7.0 Too many connections, try again later\r\n"
ERR_500_COMMAND = b"500 5.5.2 Command line too long, closing connection\r\n"
ERR_500_DATA_LINE = "500 5.5.2 Line too long (limit {limit} bytes)"
ERR_552_SIZE = "552 5.3.4 Message too big (limit {limit} bytes)"
ERR_502_AUTH = "502 5.5.1 AUTH not available"
READ_LIMIT = 64 * 1024  # the stream buffer: DATA arrives in pieces of about this size


@dataclass(frozen=True)
class Limits:
    command_line: int
    data_line: int
    message: int


class ConnectionGate:
    """Counts open connections in total and per peer address; 421 past either cap.

    Trusted relays (an MTA in front connects from one address) are exempt from the per-peer cap.
    """

    def __init__(self, total: int, per_peer: int,
                 is_trusted: Callable[[str | None], bool] = lambda peer: False):
        self.total = total
        self.per_peer = per_peer
        self.is_trusted = is_trusted  # Service.is_trusted_relay: the trust model's one reading
        self.open = 0
        self.by_peer: dict[str, int] = {}

    def admit(self, peer: str | None) -> bool:
        count = self.by_peer.get(peer, 0)
        if self.open >= self.total or (count >= self.per_peer and not self.is_trusted(peer)):
            return False
        self.open += 1
        self.by_peer[peer] = count + 1
        return True

    def release(self, peer: str | None) -> None:
        self.open -= 1
        left = self.by_peer.get(peer, 1) - 1
        if left > 0:
            self.by_peer[peer] = left
        else:
            self.by_peer.pop(peer, None)


class DataStream:
    """RFC 5321 DATA piece by piece: the end line, dot-unstuffing, the line and size limits."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.at_line_start = True
        self.line_bytes = 0
        self.size = 0
        self.refusal: str | None = None

    def take(self, piece: bytes) -> bytes | None:
        """The bytes of `piece` that belong to the message (b"" once refused); None at the end."""
        if self.at_line_start:
            if piece == b".\r\n":
                return None
            if piece[:1] == b".":
                piece = piece[1:]
        self.size += len(piece)
        self.line_bytes += len(piece)
        if self.refusal is None:
            if self.size > self.limits.message:
                self.refusal = ERR_552_SIZE.format(limit=self.limits.message)
            elif self.line_bytes > self.limits.data_line:
                self.refusal = ERR_500_DATA_LINE.format(limit=self.limits.data_line)
        self.at_line_start = piece.endswith(b"\r\n")
        if self.at_line_start:
            self.line_bytes = 0
        return piece if self.refusal is None else b""


class MessageEnvelope(Envelope):
    def __init__(self) -> None:
        super().__init__()
        self.body = None  # the MessageBody of DATA, handed to the handler


class LeaklineSMTP(SMTP):
    line_length_limit = READ_LIMIT

    def __init__(self, handler, *, limits: Limits, gate: ConnectionGate, **kwargs):
        self.limits = limits
        self.gate = gate
        self._long_run = re.compile(rb"[^\n]{%d}" % (limits.command_line + 1))
        self._guarding = True  # command mode: watch the line length
        self._partial = 0      # bytes since the last LF
        self._admitted = self._refused = False
        self._peer: str | None = None
        super().__init__(handler, data_size_limit=limits.message, **kwargs)

    def _create_envelope(self) -> Envelope:
        return MessageEnvelope()

    # -- connection caps -----------------------------------------------------------------
    def connection_made(self, transport) -> None:
        if self.transport is None:  # not the second call that STARTTLS makes
            peer = transport.get_extra_info("peername")
            self._peer = str(peer[0]) if peer else None
            if not self.gate.admit(self._peer):
                self._refused = True
                log.warning("refused a connection from %s: too many connections", self._peer)
                transport.write(ERR_421_BUSY)
                transport.close()
                return
            self._admitted = True
        super().connection_made(transport)

    def connection_lost(self, error) -> None:
        if self._refused:
            return
        if self._admitted:
            self._admitted = False
            self.gate.release(self._peer)
        super().connection_lost(error)

    def eof_received(self):
        return False if self._refused else super().eof_received()

    # -- command lines ---------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._guarding and self._command_line_too_long(data):
            log.warning("closed a connection from %s: command line over %d bytes", self._peer,
                        self.limits.command_line)
            self._guarding = False
            self.transport.write(ERR_500_COMMAND)
            self.transport.close()
            return
        super().data_received(data)

    def _command_line_too_long(self, data: bytes) -> bool:
        limit = self.limits.command_line
        first = data.find(b"\n")
        if first < 0:
            self._partial += len(data)
            return self._partial > limit
        if self._partial + first > limit:
            return True
        last = data.rfind(b"\n")
        self._partial = len(data) - last - 1
        return self._partial > limit or self._long_run.search(data, first + 1, last) is not None

    # -- commands ------------------------------------------------------------------------
    async def smtp_AUTH(self, arg: str) -> None:
        await self.push(ERR_502_AUTH)

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        body = self.event_handler.new_body()
        self._guarding = False  # the message's lines have their own limit
        try:
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            refusal = await self._receive(body)
        except BaseException:
            body.discard()
            raise
        finally:
            self._guarding, self._partial = True, 0
        if refusal:
            body.discard()
            self._set_post_data_state()
            await self.push(refusal)
            return
        self.envelope.body = body  # the handler owns it from here (the group commit discards it)
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push(status)

    async def _receive(self, body) -> str | None:
        stream = DataStream(self.limits)
        loop = asyncio.get_running_loop()
        while True:
            try:
                piece = await self._reader.readuntil(b"\r\n")
            except asyncio.LimitOverrunError as exc:
                piece = await self._reader.read(exc.consumed)
            except asyncio.IncompleteReadError:
                raise ConnectionResetError("connection closed during DATA") from None
            kept = stream.take(piece)
            if kept is None:
                return stream.refusal
            if stream.refusal and len(body):
                await loop.run_in_executor(None, body.discard)
            if kept and body.append(kept):
                await loop.run_in_executor(None, body.spill)
