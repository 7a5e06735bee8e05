"""A capturing SMTP relay for tests: a real aiosmtpd server on a free localhost port.

    with SmtpSink() as sink:                   # plain SMTP
        ...deliver to sink.host:sink.port...
        sink.received[0].mail_from             # '<>' for the null sender (aiosmtpd 1.4.6)

    sink.fail("451 4.3.0 Try again later", times=2)   # the next 2 DATA answered 451
    sink.fail("550 5.7.1 Rejected")                   # every DATA answered 550
    sink.refuse_rcpt("nobody@example.org", "550 5.1.1 No such user")
    sink.stop(); ...; sink.start()             # connection refused meanwhile, same port after

TLS: `SmtpSink(tls="starttls")` or `tls="implicit"` with the self-signed certificate below (valid
until 2124, for localhost and 127.0.0.1); `sink.client_tls_context()` trusts it. With `users`,
MAIL is refused with 530 until the client has authenticated (AUTH PLAIN/LOGIN).
"""

from __future__ import annotations

import collections
import email
import email.policy
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from leakline.config import Mail

HOST = "127.0.0.1"

CERT_PEM = """-----BEGIN CERTIFICATE-----
MIIBWzCCAQGgAwIBAgIUYeh66pAfd34xu3uMG0Ao3YiKwsIwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI1MDEwMTAwMDAwMFoYDzIxMjQxMjMx
MDAwMDAwWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQ3BnBlAAWQzNZ1nxtr4UY7p/nV1B8DN+IB99VgjZEpY0RnBh+Ai732
aQT8UfrrPnEk+xiWrFQZL84WxoIgneiFoy8wLTAaBgNVHREEEzARgglsb2NhbGhv
c3SHBH8AAAEwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEA9JUH
kfrT38YIjIcbK1ScfHZXBDKZUJjr1kvmA5PIVNYCIChO5TPDw7LI3wivIyFEwk2Q
VO1g1U7+TnlDzvg0Uftq
-----END CERTIFICATE-----
"""

KEY_PEM = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgo8IkpNCXnHvTKNd8
w2+qp9I3Rk35wDLH7H6iYOWalZKhRANCAAQ3BnBlAAWQzNZ1nxtr4UY7p/nV1B8D
N+IB99VgjZEpY0RnBh+Ai732aQT8UfrrPnEk+xiWrFQZL84WxoIgneiF
-----END PRIVATE KEY-----
"""


def free_port() -> int:
    # aiosmtpd 1.4.6's Controller cannot take port=0: it connects to self.port to check that the
    # server is up, so ask the OS for a free port first.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_tls_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert.write_text(CERT_PEM)
        key.write_text(KEY_PEM)
        context.load_cert_chain(cert, key)
    return context


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    authenticated_as: str | None = None
    tls: bool = False

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)

    @property
    def message_id(self) -> str | None:
        return self.message["Message-ID"]


@dataclass
class _Handler:
    sink: SmtpSink
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.sink.users is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.sink.rcpt_replies.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            reply = self.sink.data_replies.popleft() if self.sink.data_replies else None
            if reply is None:
                reply = self.sink.data_reply
            if reply:
                self.sink.rejected += 1
                return reply
            login = session.auth_data.login.decode() if session.auth_data else None
            self.sink.received.append(Received(
                envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content,
                login, server.transport.get_extra_info("ssl_object") is not None))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        users = self.sink.users or {}
        ok = (isinstance(auth_data, LoginPassword)
              and users.get(auth_data.login.decode()) == auth_data.password.decode())
        # handled=False: aiosmtpd answers the failure (535) itself.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


class SmtpSink:
    def __init__(self, *, tls: str | None = None, users: dict[str, str] | None = None):
        if tls not in (None, "starttls", "implicit"):
            raise ValueError(f"tls: None, 'starttls' or 'implicit', not {tls!r}")
        self.tls = tls
        self.users = users
        self.host = HOST
        self.port = free_port()
        self.received: list[Received] = []
        self.rejected = 0
        self.data_replies: collections.deque[str] = collections.deque()
        self.data_reply: str | None = None
        self.rcpt_replies: dict[str, str] = {}
        self._handler = _Handler(self)
        self._controller: Controller | None = None

    def fail(self, reply: str, times: int | None = None) -> None:
        """Answer DATA with `reply` the next `times` messages, or always (None)."""
        if times is None:
            self.data_reply = reply
        else:
            self.data_replies.extend([reply] * times)

    def accept(self) -> None:
        self.data_reply = None
        self.data_replies.clear()

    def refuse_rcpt(self, address: str, reply: str) -> None:
        self.rcpt_replies[address.lower()] = reply

    def start(self) -> SmtpSink:
        context = server_tls_context() if self.tls else None
        options = {}
        if self.users is not None:
            # STARTTLS: AUTH is offered only after it, as on a real relay. Implicit TLS and the
            # plain test relay offer it at once; MAIL is refused (530) until AUTH either way.
            options.update(authenticator=self._handler.authenticate,
                           auth_require_tls=self.tls == "starttls")
        self._controller = Controller(
            self._handler, hostname=self.host, port=self.port,
            ssl_context=context if self.tls == "implicit" else None,
            tls_context=context if self.tls == "starttls" else None,
            require_starttls=self.tls == "starttls", **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def count_by_message_id(self) -> collections.Counter:
        return collections.Counter(r.message_id for r in self.received)

    def mail_config(self, **overrides) -> Mail:
        values = dict(transport="smtp", relay_host=self.host, relay_port=self.port,
                      starttls=self.tls == "starttls", tls=self.tls == "implicit")
        values.update(overrides)
        return Mail(**values)

    @staticmethod
    def client_tls_context() -> ssl.SSLContext:
        return ssl.create_default_context(cadata=CERT_PEM)
