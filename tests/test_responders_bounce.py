"""Bounces: recognised (intake.bounce, the one detector), tied to the message that failed, and
never answered. The corpus of real formats is tests/test_bounce_corpus.py."""

import email
import email.policy
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from leakline.intake.bounce import read_bounce
from leakline.config import Config, Organization
from leakline.responders import guards
from leakline.delivery.compose import compose

CONFIG = Config(organization=Organization(name="株式会社サンプル", incident_address="incident@example.com",
                                          domains=("example.com",)))
ORIGINAL_ID = "<1764147780.1234.5678.leakline@example.com>"

POSTFIX_DSN = f"""\
Return-Path: <>
Received: from mx.example.net by mx.example.com; Wed, 26 Nov 2026 18:04:00 +0900
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: incident@example.com
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
 boundary="4ABC.1764147840/mx.example.net"
Message-Id: <20261126090400.4ABC@mx.example.net>

This is a MIME-encapsulated message.

--4ABC.1764147840/mx.example.net
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<boss@partner.example>: host mx.partner.example[192.0.2.7] said: 550 5.1.1
    <boss@partner.example>: Recipient address rejected: User unknown

--4ABC.1764147840/mx.example.net
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
X-Postfix-Queue-ID: 4ABC
X-Postfix-Sender: rfc822; incident@example.com
Arrival-Date: Wed, 26 Nov 2026 18:03:58 +0900 (JST)

Final-Recipient: rfc822; boss@partner.example
Original-Recipient: rfc822;boss@partner.example
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.partner.example
Diagnostic-Code: smtp; 550 5.1.1 <boss@partner.example>: Recipient address
    rejected: User unknown

--4ABC.1764147840/mx.example.net
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: =?utf-8?b?5qCq5byP5Lya56S+44K144Oz44OX44Or?= <incident@example.com>
To: boss@partner.example
Subject: =?utf-8?b?W0lOQy0yMDI2LTAwMDFd?=
Message-ID: {ORIGINAL_ID}
Auto-Submitted: auto-generated

--4ABC.1764147840/mx.example.net--
"""


def parse(raw: str | bytes):
    data = raw.encode() if isinstance(raw, str) else raw
    return email.message_from_bytes(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
                                    policy=email.policy.compat32)


def test_postfix_dsn_is_a_bounce_with_details():
    bounce = read_bounce(parse(POSTFIX_DSN), "<>")
    assert bounce.original_message_id == ORIGINAL_ID
    assert bounce.failed == ("boss@partner.example",) and bounce.permanent
    assert bounce.details()["final_recipient"] == "boss@partner.example"
    assert bounce.status == "5.1.1"
    assert bounce.diagnostic == "550 5.1.1 <boss@partner.example>: Recipient address rejected: User unknown"
    assert [b["action"] for b in bounce.blocks] == ["failed"]


def test_dsn_is_never_answered():
    reasons = guards.no_auto_reply_reasons(parse(POSTFIX_DSN), "<>", CONFIG)
    names = {r.split(":")[0] for r in reasons}
    assert {"null_sender", "system_sender", "delivery_report", "auto_submitted"} <= names


def _dsn_with_attached_original() -> tuple[bytes, str]:
    """A Gmail-style DSN carrying the whole original, which here is one of our escalations."""
    sent = compose(kind="escalation", to=["gone@partner.example"], subject="個人情報漏えいの報告",
                   text="本文", html=None, config=CONFIG, case_id="INC-2026-0001",
                   now=datetime(2026, 11, 26, 18, 3, tzinfo=ZoneInfo("Asia/Tokyo")))
    original = sent.message.as_bytes(policy=email.policy.SMTP).decode("ascii")
    raw = f"""\
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: incident@example.com
Subject: Delivery Status Notification (Failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain; charset=UTF-8

Your message wasn't delivered to gone@partner.example because the account is disabled.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com

Final-Recipient: rfc822; ok@partner.example
Action: delivered
Status: 2.0.0

Final-Recipient: rfc822; gone@partner.example
Action: failed
Status: 5.2.1
Diagnostic-Code: smtp; 550 5.2.1 The email account that you tried to reach is disabled.

--b1
Content-Type: message/rfc822

{original}
--b1--
"""
    return raw.encode(), sent.message_id


def test_attached_original_message_gives_the_message_id_and_failed_recipient():
    raw, message_id = _dsn_with_attached_original()
    bounce = read_bounce(parse(raw), "")
    assert bounce.original_message_id == message_id
    assert bounce.failed == ("gone@partner.example",)
    assert bounce.status == "5.2.1"
    assert [b["action"] for b in bounce.blocks] == ["delivered", "failed"]


QMAIL_BOUNCE = f"""\
From: MAILER-DAEMON@mail.example.org
To: incident@example.com
Subject: failure notice

Hi. This is the qmail-send program at mail.example.org.
I'm afraid I wasn't able to deliver your message to the following addresses.

<old@example.org>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Return-Path: <incident@example.com>
Message-ID: {ORIGINAL_ID}
Subject: test
"""


def test_plain_text_bounce_from_null_sender_mailer_daemon():
    bounce = read_bounce(parse(QMAIL_BOUNCE), "<>")
    assert bounce.original_message_id == ORIGINAL_ID
    assert bounce.failed == ("old@example.org",)


def test_same_text_from_a_person_is_not_a_bounce():
    assert read_bounce(parse(QMAIL_BOUNCE), "old@example.org") is not None  # From MAILER-DAEMON
    person = QMAIL_BOUNCE.replace("MAILER-DAEMON@mail.example.org", "taro@example.com")
    assert read_bounce(parse(person), "taro@example.com") is None
    assert read_bounce(parse(person), "<>") is None  # the null sender alone makes no bounce


def test_forwarded_message_from_a_person_is_not_a_bounce():
    original = EmailMessage()
    original["From"] = "customer@outside.example"
    original["Subject"] = "届いたメール"
    original.set_content("誤って届いたメールです")
    report = EmailMessage()
    report["From"] = "taro@example.com"
    report["Subject"] = "Fwd: 誤送信"
    report.set_content("転送します")
    report.add_attachment(original)
    msg = parse(report.as_bytes())
    assert read_bounce(msg, "taro@example.com") is None


def test_read_receipt_is_not_a_bounce_but_is_not_answered():
    mdn = POSTFIX_DSN.replace("report-type=delivery-status", "report-type=disposition-notification")
    msg = parse(mdn)
    assert read_bounce(msg, "taro@example.com") is None
    assert any(r.startswith("delivery_report") for r in guards.no_auto_reply_reasons(msg, "taro@example.com", CONFIG))
