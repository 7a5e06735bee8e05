"""The private Postfix that issue 15's multi-node tests will put in front of leakline nodes,
proven with stand-in SMTP receivers (tests/smtp_sink.py), not leakline: inbound mail goes to the
first node, to the second when the first is down or answers 451, waits in the queue while both
are down; outbound Japanese mail lands in the Maildir byte for byte."""

from __future__ import annotations

import email
import email.policy
import re
import smtplib
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest

import mta_config as cf
from conftest import wait_for
from mta_helpers import INCIDENT, SENDER, send
from smtp_sink import SmtpSink

pytestmark = pytest.mark.postfix

JST = timezone(timedelta(hours=9))

SUBJECT = "【至急】顧客名簿入りUSBメモリ紛失の件"
BODY = "営業部の田中です。\n顧客120名分の名簿を紛失しました。㈱髙橋商事の分も含みます。\n"


def report(subject: str = SUBJECT) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = SENDER
    msg["To"] = INCIDENT
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="sales.example.com")
    msg.set_content(BODY, charset="utf-8", cte="base64")
    return msg


@pytest.fixture
def nodes():
    """Two stand-in nodes on free ports, running; a test stops or fails them as it needs."""
    first, second = SmtpSink().start(), SmtpSink().start()
    yield first, second
    first.stop()
    second.stop()


def arrived(node: SmtpSink, message_id: str, postfix, timeout: float = 30.0):
    def found():
        assert "status=bounced" not in postfix.log(), postfix.log()
        return [r for r in node.received if r.message_id == message_id]

    try:
        return wait_for(found, timeout=timeout, interval=0.05)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nqueue: {postfix.queue()}\n{postfix.log()}") from None


def test_inbound_mail_goes_to_the_first_node_and_only_incident_is_taken(relay_postfix, nodes):
    first, second = nodes
    postfix = relay_postfix([first.port, second.port])
    # What runs here is what the deploy guide shows (tests/mta_config.py), values aside.
    config = "".join(path.read_text() for path in sorted(postfix.conf.iterdir()))
    for snippet in cf.RELAY:  # the pipe's: tests/test_deploy_guide.py
        assert snippet.render(**postfix.values) in config, snippet.name
    msg = report()
    send(postfix.port, msg.as_bytes(policy=email.policy.SMTP))
    (got,) = arrived(first, msg["Message-ID"], postfix)
    assert got.mail_from == SENDER and got.rcpt_tos == (INCIDENT,)
    assert got.message["Subject"] == SUBJECT
    wait_for(lambda: postfix.queue() == [], timeout=30)
    assert second.received == []
    # The MX relays nothing else: another address of the domain, or another domain.
    with pytest.raises(smtplib.SMTPRecipientsRefused, match="550"):
        send(postfix.port, b"Subject: x\r\n\r\nx\r\n", recipients=["sales@example.com"])
    with pytest.raises(smtplib.SMTPRecipientsRefused, match="554"):
        send(postfix.port, b"Subject: x\r\n\r\nx\r\n", recipients=["someone@example.org"])


@pytest.mark.parametrize("mechanism", ["list", "fallback_relay"])
def test_with_the_first_node_down_mail_goes_to_the_second(relay_postfix, nodes, mechanism):
    first, second = nodes
    first.stop()
    postfix = relay_postfix([first.port, second.port], mechanism)
    msg = report()
    send(postfix.port, msg.as_bytes(policy=email.policy.SMTP))
    arrived(second, msg["Message-ID"], postfix)
    log = postfix.log()
    assert f"connect to 127.0.0.1[127.0.0.1]:{first.port}: Connection refused" in log
    assert re.search(rf"relay=127\.0\.0\.1\[127\.0\.0\.1\]:{second.port},.*status=sent", log)


@pytest.mark.parametrize("mechanism", ["list", "fallback_relay"])
def test_a_451_from_the_first_node_sends_the_mail_to_the_second(relay_postfix, nodes,
                                                                 mechanism):
    """What a node answers while its database is down: the other node takes the mail at once,
    in the same delivery attempt."""
    first, second = nodes
    first.fail("451 4.3.0 database unavailable, try again later")
    postfix = relay_postfix([first.port, second.port], mechanism)
    msg = report()
    send(postfix.port, msg.as_bytes(policy=email.policy.SMTP))
    arrived(second, msg["Message-ID"], postfix)
    assert first.received == [] and first.rejected == 1
    assert "status=deferred" not in postfix.log()


def test_with_both_nodes_down_mail_waits_and_goes_to_the_first_to_return(relay_postfix, nodes):
    first, second = nodes
    first.stop()
    second.stop()
    postfix = relay_postfix([first.port, second.port])
    msg = report()
    send(postfix.port, msg.as_bytes(policy=email.policy.SMTP))

    def deferred():
        return [m for m in postfix.queue() if m["queue_name"] == "deferred"]

    (queued,) = wait_for(deferred, timeout=30, interval=0.1)
    assert [r["address"] for r in queued["recipients"]] == [INCIDENT]
    second.start()  # same port as before
    arrived(second, msg["Message-ID"], postfix)
    wait_for(lambda: postfix.queue() == [], timeout=30)
    assert first.received == []


def leakline_like(to: str) -> EmailMessage:
    """Composed as responders/compose.py does: UTF-8, base64 body, encoded-word subject."""
    msg = EmailMessage()
    msg["From"] = "テスト株式会社 <incident@example.com>"
    msg["To"] = to
    msg["Subject"] = "[INC-2026-0001] 報告を受け付けました【至急】"
    msg["Date"] = format_datetime(datetime(2026, 11, 26, 18, 3, tzinfo=JST))
    msg["Message-ID"] = make_msgid(domain="example.com")
    msg["Auto-Submitted"] = "auto-replied"
    msg.set_content("報告を受け付けました。\n①証拠を保全してください。髙橋様、ご連絡ください。\n",
                    charset="utf-8", cte="base64")
    return msg


def eight_bit(to: str) -> EmailMessage:
    """Raw UTF-8 in the headers and an 8bit body: needs SMTPUTF8 and 8BITMIME end to end."""
    msg = leakline_like(to)
    msg.set_content(msg.get_content(), charset="utf-8", cte="8bit")
    return msg


@pytest.mark.parametrize("build, policy, to, options", [
    (leakline_like, email.policy.SMTP, "taro@sales.example.com", {}),
    (eight_bit, email.policy.SMTPUTF8, "山田@営業.example.jp",
     {"mail_options": ["SMTPUTF8", "BODY=8BITMIME"]}),
], ids=["base64", "8bit-smtputf8"])
def test_outbound_japanese_mail_lands_in_the_mailbox_intact(relay_postfix, nodes, build, policy,
                                                            to, options):
    postfix = relay_postfix([port.port for port in nodes])
    msg = build(to)
    raw = msg.as_bytes(policy=policy)
    send(postfix.outbound_port, raw, sender="", recipients=[to], **options)
    (data,) = wait_for(postfix.delivered, timeout=30)
    # virtual(8) adds its trace headers on top; every byte sent follows, with LF line ends.
    assert data.endswith(raw.replace(b"\r\n", b"\n"))
    got = email.message_from_bytes(data, policy=email.policy.default)
    assert got["Subject"] == msg["Subject"] and got["To"] == to
    assert got["Return-Path"] == "<>" and got["Delivered-To"] == to
    assert got.get_content() == msg.get_content()
    assert [r.message_id for n in nodes for r in n.received] == []  # nothing went inbound


def test_only_the_nodes_may_send_through_the_outbound_listener(relay_postfix, nodes):
    postfix = relay_postfix([port.port for port in nodes])
    # 127.0.0.2 is loopback too, but not in the listener's mynetworks (127.0.0.1/32).
    with pytest.raises(smtplib.SMTPRecipientsRefused, match="554"):
        send(postfix.outbound_port, leakline_like(SENDER).as_bytes(), sender="",
             recipients=[SENDER], source="127.0.0.2")
    assert postfix.delivered() == []
