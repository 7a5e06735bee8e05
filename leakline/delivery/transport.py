"""Transports that hand one outbox item to the world: a local Maildir, or an SMTP relay.

Both expose `async deliver(item) -> None` and raise only TemporaryFailure (try again later) or
PermanentFailure (this message will never go through as it is). The classification rule for
SMTP: a 5xx answer to MAIL, RCPT or DATA is about the message and is permanent; anything about
the session (connection, timeout, greeting, HELO, STARTTLS, AUTH, TLS certificates) is a relay or
configuration problem an admin can fix, so it is temporary and the message waits in the queue.
That includes 530/534/535/538 (authentication or encryption required) even when answered to MAIL.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from pathlib import Path
from typing import Protocol

import aiosmtplib

from leakline.config import Config, ConfigError, Mail
from leakline.store.files import FILE_MODE, ensure_dir, flush_file_system, write_all
from leakline.store.outbox import Item, message_key


# 5xx answers that mean "fix the relay settings", not "this message will never go".
SESSION_CODES = frozenset({530, 534, 535, 538})


class DeliveryError(Exception):
    """Base of the two outcomes a transport reports; `recipients` are the ones it concerns."""

    def __init__(self, message: str, recipients: tuple[str, ...] = ()):
        super().__init__(message)
        self.recipients = recipients


class TemporaryFailure(DeliveryError):
    """4xx, refused connection, timeout, disconnect: try again later."""


class PermanentFailure(DeliveryError):
    """5xx to the message (sender, recipients or content): dead-letter it."""


class Transport(Protocol):
    async def deliver(self, item: Item) -> None: ...


def transport_for(config: Config, *, tls_context: ssl.SSLContext | None = None) -> Transport:
    """The transport `[mail] transport` names: the Maildir `<data_dir>/mail-out/` or the relay."""
    if config.mail.transport == "smtp":
        return SmtpTransport(config.mail, tls_context=tls_context)
    return MaildirTransport(config.service.data_dir / "mail-out")


class MaildirTransport:
    """Delivers into a Maildir (tmp/, new/, cur/) that any mail client can open.

    Like a local delivery agent it prepends `Return-Path:` (the envelope sender, `<>` for the
    null sender) and `Envelope-To:`, and stores LF line endings as Maildir readers expect.

    Each outbox entry has one file name (its creation time and outbox key), so a delivery
    repeated after a crash (the file written, the process killed before the outbox recorded it)
    finds its file in new/ or cur/ and writes no second copy. Files are not fsynced one by one:
    `flush()` makes a batch durable with one syncfs before the sender records it as sent.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._unflushed = False
        self._in_cur: set[str] | None = None  # names in cur/ when this process first delivered

    def ensure(self) -> None:
        ensure_dir(self.path)
        for sub in ("tmp", "new", "cur"):
            ensure_dir(self.path / sub)

    async def deliver(self, item: Item) -> None:
        try:
            self.write(item)
        except OSError as exc:
            raise TemporaryFailure(f"maildir {self.path}: {exc}") from exc

    def write(self, item: Item) -> Path:
        self.ensure()
        name = self.file_name(item)
        final = self.path / "new" / name
        if self._delivered(name):
            return final
        trace = (f"Return-Path: <{item.envelope_from}>\r\n"
                 f"Envelope-To: {', '.join(item.recipients)}\r\n").encode("ascii", "replace")
        data = (trace + item.message_bytes()).replace(b"\r\n", b"\n")
        tmp = self.path / "tmp" / name
        # O_TRUNC, not O_EXCL: a file a crash left half-written in tmp/ is written anew.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        try:
            write_all(fd, data)
        except OSError:
            os.unlink(tmp)  # a half-written file must not linger in tmp/
            raise
        finally:
            os.close(fd)
        os.rename(tmp, final)
        self._unflushed = True
        return final

    def flush(self) -> None:
        """Make what was delivered since the last flush durable (one syncfs, not one per file)."""
        if self._unflushed:
            flush_file_system(self.path)
            self._unflushed = False

    def _delivered(self, name: str) -> bool:
        if (self.path / "new" / name).exists():
            return True
        if self._in_cur is None:  # once per process: a reader moves read mail to cur/NAME:2,S
            self._in_cur = {n.partition(":")[0] for n in os.listdir(self.path / "cur")}
        return name in self._in_cur

    @staticmethod
    def file_name(item: Item) -> str:
        # The Maildir convention time.unique.host, unique per outbox entry; / and : escaped.
        host = socket.gethostname().replace("/", r"\057").replace(":", r"\072")
        return f"{int(item.created_at.timestamp())}.L{message_key(item.id)}.{host}"


class SmtpTransport:
    """Delivers through a relay with aiosmtplib, one connection per message.

    `mail.starttls` requires STARTTLS, `mail.tls` is implicit TLS, neither is plain SMTP (no
    opportunistic upgrade: a local relay with a self-signed certificate would fail it).
    `tls_context` replaces the system trust store, e.g. for a relay with a private CA.
    """

    def __init__(self, mail: Mail, *, tls_context: ssl.SSLContext | None = None,
                 timeout: float = 60.0, local_hostname: str | None = None):
        if mail.username and mail.password() is None:
            raise ConfigError(f"mail.password_env: environment variable {mail.password_env} "
                              "is not set")
        self.mail = mail
        self.tls_context = tls_context
        self.timeout = timeout
        self.local_hostname = local_hostname

    def _client(self) -> aiosmtplib.SMTP:
        password = self.mail.password()
        if self.mail.username and password is None:
            raise TemporaryFailure(f"environment variable {self.mail.password_env} is not set")
        return aiosmtplib.SMTP(
            hostname=self.mail.relay_host, port=self.mail.relay_port,
            use_tls=self.mail.tls, start_tls=self.mail.starttls,
            username=self.mail.username or None, password=password if self.mail.username else None,
            tls_context=self.tls_context, timeout=self.timeout,
            local_hostname=self.local_hostname,
        )

    async def deliver(self, item: Item) -> None:
        data = item.message_bytes()
        client = self._client()
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            client.close()
            raise TemporaryFailure(f"relay {self._where()}: {_describe(exc)}") from exc
        try:
            refused = await client.sendmail(item.envelope_from, list(item.recipients), data,
                                            mail_options=self._options(client, item, data))
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _refusal({e.recipient: e.code for e in exc.recipients}, exc) from exc
        except aiosmtplib.SMTPResponseException as exc:
            permanent = exc.code >= 500 and exc.code not in SESSION_CODES
            cls = PermanentFailure if permanent else TemporaryFailure
            raise cls(f"relay {self._where()}: {_describe(exc)}", item.recipients) from exc
        except aiosmtplib.SMTPNotSupported as exc:
            raise PermanentFailure(f"relay {self._where()}: {exc}", item.recipients) from exc
        except ValueError as exc:  # an address that cannot go on an SMTP command line
            raise PermanentFailure(f"bad address: {exc}", item.recipients) from exc
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
            raise TemporaryFailure(f"relay {self._where()}: {_describe(exc)}") from exc
        finally:
            await _quit(client)
        errors, _ = refused
        if errors:
            raise _refusal({addr: resp.code for addr, resp in errors.items()}, None)

    @staticmethod
    def _options(client: aiosmtplib.SMTP, item: Item, data: bytes) -> list[str]:
        options = []
        if not data.isascii() and client.supports_extension("8bitmime"):
            options.append("BODY=8BITMIME")
        if not all(a.isascii() for a in (item.envelope_from, *item.recipients)):
            options.append("SMTPUTF8")
        return options

    def _where(self) -> str:
        return f"{self.mail.relay_host}:{self.mail.relay_port}"


def _refusal(codes: dict[str, int], exc: Exception | None) -> DeliveryError:
    """Some recipients refused. Any 4xx among them: retry those (5xx ones fail on a later try)."""
    detail = ", ".join(f"{addr} {code}" for addr, code in sorted(codes.items()))
    recipients = tuple(sorted(codes))
    if all(code >= 500 for code in codes.values()):
        return PermanentFailure(f"recipients refused: {detail}", recipients)
    return TemporaryFailure(f"recipients refused: {detail}", recipients)


def _describe(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{code} {text}" if code else text


async def _quit(client: aiosmtplib.SMTP) -> None:
    # The message is accepted or refused by now; a failing QUIT must not turn that into a retry.
    if client.is_connected:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError):
            pass
    client.close()
