"""Loop and abuse guards, each with a real message that must trip it and one that must not."""

import email
import email.policy
from email.message import EmailMessage

import pytest

from leakline.config import Config, Mail, Organization
from leakline.responders import guards

CONFIG = Config(
    organization=Organization(name="株式会社サンプル", incident_address="incident@example.com",
                              domains=("example.com",)),
    mail=Mail(sender="leakline@notify.example.com"),
)


def parsed(extra_headers=(), *, sender="山田太郎 <taro@example.com>", body="USBメモリを紛失しました。"):
    """A report as it arrives: built, serialised and parsed back the way intake parses it."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "incident@example.com"
    msg["Subject"] = "紛失の報告"
    msg["Message-ID"] = "<abc123@mail.example.com>"
    for name, value in extra_headers:
        msg[name] = value
    msg.set_content(body)
    return email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)


def test_an_ordinary_report_may_be_answered():
    assert guards.no_auto_reply_reasons(parsed(), "taro@example.com", CONFIG) == []


CASES = [
    # (rule, headers, envelope sender, From)
    (guards.AutoSubmitted, [("Auto-Submitted", "auto-replied")], "taro@example.com", None),
    (guards.AutoSubmitted, [("Auto-Submitted", "auto-generated (vacation)")], "taro@example.com", None),
    (guards.NullSender, [], "<>", None),
    (guards.NullSender, [], "", None),
    (guards.NullSender, [], "MAILER-DAEMON", None),  # Postfix pipe(8)'s default null_sender
    (guards.SystemSender, [], "taro@example.com", "Mail Delivery System <MAILER-DAEMON@mx.example.net>"),
    (guards.SystemSender, [], "postmaster@example.net", None),
    (guards.SystemSender, [], "owner-staff@lists.example.com", None),
    (guards.SystemSender, [], "taro@example.com", "staff-request@lists.example.com"),
    (guards.SystemSender, [], "no-reply@service.example.net", None),
    (guards.ListHeaders, [("List-Id", "<staff.lists.example.com>")], "taro@example.com", None),
    (guards.ListHeaders, [("List-Unsubscribe", "<mailto:leave@lists.example.com>")], "taro@example.com", None),
    (guards.Precedence, [("Precedence", "bulk")], "taro@example.com", None),
    (guards.Precedence, [("Precedence", "junk")], "taro@example.com", None),
    (guards.Precedence, [("Precedence", "list")], "taro@example.com", None),
    (guards.Precedence, [("Precedence", "auto_reply")], "taro@example.com", None),
    (guards.VacationHeaders, [("X-Autoreply", "yes")], "taro@example.com", None),
    (guards.VacationHeaders, [("X-Autorespond", "vacation")], "taro@example.com", None),
    (guards.AutoResponseSuppress, [("X-Auto-Response-Suppress", "All")], "taro@example.com", None),
    (guards.AutoResponseSuppress, [("X-Auto-Response-Suppress", "DR, OOF, AutoReply")], "taro@example.com", None),
    (guards.XLoop, [("X-Loop", "incident@example.com")], "taro@example.com", None),
    (guards.XLoop, [("X-Loop", "Incident@Example.com")], "taro@example.com", None),
    (guards.OwnMessage, [("X-Leakline-Case", "INC-2026-0001")], "taro@example.com", None),
    (guards.OwnMessage, [], "taro@example.com", "株式会社サンプル <incident@example.com>"),
    (guards.OwnMessage, [], "taro@example.com", "leakline@notify.example.com"),
]


@pytest.mark.parametrize("rule, headers, mail_from, sender", CASES)
def test_rule_fires(rule, headers, mail_from, sender):
    msg = parsed(headers, **({"sender": sender} if sender else {}))
    reason = rule().check(msg, mail_from, CONFIG)
    assert reason
    assert any(r.startswith(rule.name + ":") for r in guards.no_auto_reply_reasons(msg, mail_from, CONFIG))


NEGATIVE = [
    (guards.AutoSubmitted, [("Auto-Submitted", "no")]),
    (guards.AutoSubmitted, [("Auto-Submitted", "No (a person wrote this)")]),
    (guards.SystemSender, [("Reply-To", "postmaster@example.net")]),
    (guards.ListHeaders, [("Listing", "x"), ("X-List", "y")]),
    (guards.Precedence, [("Precedence", "first-class")]),
    (guards.VacationHeaders, [("X-Autoreply", "no")]),
    (guards.AutoResponseSuppress, [("X-Auto-Response-Suppress", "None")]),
    (guards.AutoResponseSuppress, [("X-Auto-Response-Suppress", "DR, NDR")]),
    (guards.XLoop, [("X-Loop", "helpdesk@other.example.net")]),
    # A reporter's reply to our guidance refers to our Message-ID; it is not our own message.
    (guards.OwnMessage, [("In-Reply-To", "<1.2.3.leakline@notify.example.com>"),
                         ("References", "<1.2.3.leakline@notify.example.com>")]),
]


@pytest.mark.parametrize("rule, headers", NEGATIVE)
def test_rule_does_not_fire(rule, headers):
    msg = parsed(headers)
    assert rule().check(msg, "taro@example.com", CONFIG) is None


def test_own_message_id_is_recognised_but_a_colleague_s_is_not():
    ours = parsed()
    ours.replace_header("Message-ID", "<176.42.99.leakline@notify.example.com>")
    theirs = parsed()
    theirs.replace_header("Message-ID", "<176.42.99.outlook@example.com>")
    assert guards.OwnMessage().check(ours, "x@example.com", CONFIG)
    assert guards.OwnMessage().check(theirs, "x@example.com", CONFIG) is None


def test_every_fired_rule_is_reported():
    msg = parsed([("Auto-Submitted", "auto-replied"), ("Precedence", "bulk"), ("List-Id", "<l.example>")])
    reasons = guards.no_auto_reply_reasons(msg, "<>", CONFIG)
    names = [r.split(":")[0] for r in reasons]
    assert names == ["auto_submitted", "null_sender", "list_headers", "precedence"]


def test_rules_have_names_and_descriptions():
    names = [rule.name for rule in guards.RULES]
    assert len(names) == len(set(names))
    assert all(rule.description for rule in guards.RULES)


def test_hostile_headers_do_not_raise():
    raw = (b"From: =?utf-8?q?broken <\r\nTo: incident@example.com\r\nSubject: =?bogus?x?y?=\r\n"
           b"Auto-Submitted: \r\nMessage-ID: <<<@@>\r\n\r\nbody\r\n")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    reasons = guards.no_auto_reply_reasons(msg, "taro@example.com", CONFIG)
    assert "auto_submitted: Auto-Submitted: " in reasons
