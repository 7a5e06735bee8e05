"""Finding 6 at the listener: command-line, DATA-line and size limits, connection caps, RCPT
folding, STARTTLS required, no AUTH. A real server on a free port, raw sockets where smtplib
would clean the input."""

import hashlib
import smtplib
import socket
import threading

import pytest

from conftest import RunningServer, make_config, wait_for
from leakline.app import App
from leakline.config import ConfigError
from leakline.listener import DataStream, Limits
from mailbuilders import plain_mail
from rawsmtp import RawSMTP

HEAD = (b"From: taro@example.com\r\nTo: incident@example.com\r\nSubject: long\r\n"
        b"Content-Type: text/plain; charset=UTF-8\r\n\r\n")


@pytest.fixture
def server(tmp_path):
    servers = []

    def start(**service):
        app = App(make_config(tmp_path / f"d{len(servers)}", service=service))
        srv = RunningServer(app)
        servers.append(srv)
        return srv
    yield start
    for srv in servers:
        srv.stop()


def stored_raws(app, count):
    rows = wait_for(lambda: len(app.store.summaries("all")) >= count and app.store.summaries("all"))
    return [app.store.raw_path(app.store.get(r["id"])["messages"][0]["raw"]).read_bytes()
            for r in rows]


@pytest.mark.parametrize("line", [b"EHLO " + b"a" * 100_000,            # no line break at all
                                  b"MAIL FROM:<" + b"x" * 6000 + b"@example.com>\r\n"])
def test_an_overlong_command_line_is_answered_500_and_the_connection_closed(running, line):
    with RawSMTP(running.host, running.port) as client:
        client.command(b"EHLO client.example.com")
        client.send(line)
        code, text = client.reply()
        assert (code, text[:5]) == (500, b"5.5.2")
        assert client.closed_by_server()


def test_a_command_line_flood_costs_no_memory_and_ends_the_session(running, app):
    with RawSMTP(running.host, running.port) as client:
        try:
            for _ in range(200):  # 20 MB without a line break, if the server kept reading
                client.send(b"x" * 100_000)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert client.closed_by_server()
    # The listener still serves everyone else.
    with smtplib.SMTP(running.host, running.port, timeout=10) as smtp:
        smtp.sendmail("taro@example.com", ["incident@example.com"], plain_mail("次", "本文"))


def test_data_without_line_breaks_over_the_line_limit_is_refused(running, app):
    with RawSMTP(running.host, running.port) as client:
        code, text = client.mail(HEAD + b"A" * 3_000_000)
    assert (code, text[:5]) == (500, b"5.5.2")
    assert app.spool.segments() == [] and list(app.spool.tmp.iterdir()) == []


def test_data_is_spooled_to_disk_as_it_arrives_and_stored_exactly(server):
    srv = server(max_data_line_bytes=30_000_000)
    app = srv.app
    body = HEAD + bytes(range(256)) * 8000 + b"\r\n" + b"B" * 2_000_000 + b"\r\n"
    with RawSMTP(srv.host, srv.port) as client:
        client.command(b"EHLO client.example.com")
        client.command(b"MAIL FROM:<taro@example.com>")
        client.command(b"RCPT TO:<incident@example.com>")
        assert client.command(b"DATA")[0] == 354
        client.send(body[:1_500_000])
        # Half the message is on disk in spool/tmp before the client finished sending.
        part = wait_for(lambda: [p for p in app.spool.tmp.iterdir() if p.stat().st_size > 500_000])
        assert part[0].stat().st_mode & 0o777 == 0o600
        client.send(body[1_500_000:] + b".\r\n")
        code, _ = client.reply()
    assert code == 250
    (raw,) = stored_raws(app, 1)
    assert hashlib.sha256(raw).hexdigest() == hashlib.sha256(body).hexdigest()
    assert list(app.spool.tmp.iterdir()) == []


def test_dot_stuffing_round_trips_exactly(running, app):
    raw = HEAD + b".\r\n..\r\n.leading dot\r\nmiddle . dot\r\n...\r\n"
    with smtplib.SMTP(running.host, running.port, timeout=10) as smtp:
        smtp.sendmail("taro@example.com", ["incident@example.com"], raw)
    (stored,) = stored_raws(app, 1)
    assert stored == raw


def test_a_message_over_the_size_limit_is_552_even_without_line_breaks(server):
    srv = server(max_message_bytes=100_000, max_data_line_bytes=200_000)
    with RawSMTP(srv.host, srv.port) as client:
        code, text = client.mail(HEAD + b"C" * 150_000)
        assert (code, text[:5]) == (552, b"5.3.4")
        # The session goes on: the next message is accepted.
        code, _ = client.mail(plain_mail("小さい", "本文"))
    assert code == 250


def test_connections_past_max_connections_are_answered_421(server):
    srv = server(max_connections=3)
    held = [RawSMTP(srv.host, srv.port) for _ in range(3)]
    try:
        assert all(c.greeting[0] == 220 for c in held)
        with pytest.raises(smtplib.SMTPConnectError) as err:
            smtplib.SMTP(srv.host, srv.port, timeout=10)
        assert err.value.smtp_code == 421
    finally:
        for c in held:
            c.close()
    # Closed connections are released.
    wait_for(lambda: _greets(srv))


def _greets(srv) -> bool:
    try:
        with smtplib.SMTP(srv.host, srv.port, timeout=10) as smtp:
            return smtp.noop()[0] == 250
    except smtplib.SMTPConnectError:
        return False


def test_per_peer_cap_applies_to_untrusted_peers_only(server):
    untrusted = server(max_connections_per_peer=2, trusted_relays=[])
    trusted = server(max_connections_per_peer=2)  # loopback is a trusted relay by default
    for srv, refused in ((untrusted, True), (trusted, False)):
        held = [RawSMTP(srv.host, srv.port) for _ in range(2)]
        try:
            third = RawSMTP(srv.host, srv.port)
            assert (third.greeting[0] == 421) is refused
            third.close()
        finally:
            for c in held:
                c.close()


def test_a_connection_flood_is_capped_and_reports_still_get_through(server):
    srv = server(max_connections=20, max_connections_per_peer=10, trusted_relays=[])
    socks = []
    try:
        for _ in range(60):
            socks.append(socket.create_connection((srv.host, srv.port), timeout=10))
        greetings = [s.recv(100)[:3] for s in socks]
        assert greetings.count(b"220") == 10 and greetings.count(b"421") == 50
    finally:
        for s in socks:
            s.close()
    wait_for(lambda: _greets(srv))


def test_a_thousand_identical_rcpt_to_are_stored_once(running, app):
    with RawSMTP(running.host, running.port) as client:
        client.command(b"EHLO client.example.com")
        client.command(b"MAIL FROM:<taro@example.com>")
        client.send(b"RCPT TO:<incident@example.com>\r\n" * 1000)
        assert all(client.reply()[0] == 250 for _ in range(1000))
        assert client.command(b"DATA")[0] == 354
        client.send(plain_mail("宛先", "本文") + b".\r\n")
        assert client.reply()[0] == 250
    rows = wait_for(lambda: app.store.summaries("open"))
    assert app.store.get(rows[0]["id"])["messages"][0]["envelope"]["rcpt_tos"] == \
        ["incident@example.com"]


def _tls_files(tmp_path):
    from smtp_sink import CERT_PEM, KEY_PEM

    (tmp_path / "cert.pem").write_text(CERT_PEM)
    (tmp_path / "key.pem").write_text(KEY_PEM)
    return {"tls_cert": str(tmp_path / "cert.pem"), "tls_key": str(tmp_path / "key.pem")}


def test_require_starttls_refuses_mail_before_starttls(server, tmp_path):
    from smtp_sink import SmtpSink

    srv = server(require_starttls=True, **_tls_files(tmp_path))
    with smtplib.SMTP(srv.host, srv.port, timeout=10) as smtp:
        smtp.ehlo()
        code, text = smtp.mail("taro@example.com")
        assert code == 530
        smtp.starttls(context=SmtpSink.client_tls_context())
        smtp.ehlo()
        assert not smtp.has_extn("auth")
        smtp.sendmail("taro@example.com", ["incident@example.com"], plain_mail("TLS", "本文"))
    assert stored_raws(srv.app, 1)


def test_require_starttls_needs_a_certificate(tmp_path):
    with pytest.raises(ConfigError, match="require_starttls"):
        make_config(tmp_path, service={"require_starttls": True})


def test_no_auth_is_offered_or_accepted(running):
    with smtplib.SMTP(running.host, running.port, timeout=10) as smtp:
        smtp.ehlo()
        assert not smtp.has_extn("auth")
        code, _ = smtp.docmd("AUTH", "PLAIN AGZvbwBiYXI=")
        assert code == 502


def test_limits_are_checked_in_the_config(tmp_path):
    with pytest.raises(ConfigError, match="trusted_relays"):
        make_config(tmp_path, service={"trusted_relays": ["not-an-ip"]})
    with pytest.raises(ConfigError, match="max_command_line_bytes"):
        make_config(tmp_path, service={"max_command_line_bytes": 100})
    config = make_config(tmp_path, service={"trusted_relays": ["10.0.0.0/8", "192.0.2.1"]})
    assert config.service.trusted_relays == ("10.0.0.0/8", "192.0.2.1/32")


def test_data_stream_unstuffs_dots_across_pieces_and_applies_limits():
    stream = DataStream(Limits(command_line=4096, data_line=12, message=1000))
    assert stream.take(b"..a\r\n") == b".a\r\n"
    assert stream.take(b"12345") == b"12345"          # a long line, in pieces
    assert stream.take(b".678\r\n") == b".678\r\n"     # not at a line start: the dot stays
    assert stream.refusal is None
    assert stream.take(b"123456789") == b"123456789"
    assert stream.take(b"0123") == b""                 # past the line limit: nothing more kept
    assert stream.refusal and stream.refusal.startswith("500 5.5.2")
    assert stream.take(b"\r\n") == b""
    assert stream.take(b".\r\n") is None


def test_many_clients_at_once_each_get_their_own_answer(running, app):
    """Small and spilled messages arriving together: every one is stored, once, intact."""
    raws = [plain_mail(f"同時{i}", "本文" * (i * 40_000), message_id=f"<together-{i}@example.com>")
            for i in range(8)]
    codes = []

    def send(raw):
        with smtplib.SMTP(running.host, running.port, timeout=30) as smtp:
            codes.append(smtp.sendmail("taro@example.com", ["incident@example.com"], raw))

    threads = [threading.Thread(target=send, args=(raw,)) for raw in raws]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [{}] * 8
    assert sorted(stored_raws(app, 8)) == sorted(raws)
