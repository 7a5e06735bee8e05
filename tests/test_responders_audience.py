"""Who may see case data: our domains, verified (issue 9), unless authentication failed for them."""

import email
import email.policy
from email.message import EmailMessage

import pytest

from leakline.config import Config, Escalation, Organization
from leakline.responders.audience import classify_sender, parse_authentication_results, reply_kind

CONFIG = Config(organization=Organization(incident_address="incident@example.com",
                                          domains=("example.com", "example.co.jp")))
RELAY = {"peer": "127.0.0.1"}  # the default trusted relay: loopback


def parsed(sender: str, *auth_results: str):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "incident@example.com"
    msg["Subject"] = "誤送信"
    for value in auth_results:
        msg["Authentication-Results"] = value
    msg.set_content("お客様の情報を誤って送信しました。")
    return email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)


def test_colleague_is_internal():
    audience = classify_sender(parsed("山田太郎 <taro@example.com>"), CONFIG, RELAY)
    assert audience.internal and audience.flags == () and audience.verified_by == "trusted_relay"


def test_our_domain_unverified_is_external():
    audience = classify_sender(parsed("山田太郎 <taro@example.com>"), CONFIG, {"peer": "203.0.113.9"})
    assert not audience.internal and audience.flags == ("external",)
    assert "nothing verified it" in audience.reasons[0]


def test_subdomain_and_second_domain_are_internal():
    assert classify_sender(parsed("jiro@sales.example.com"), CONFIG, RELAY).internal
    assert classify_sender(parsed("hanako@example.co.jp"), CONFIG, RELAY).internal


@pytest.mark.parametrize("sender", [
    "customer@outside.example",
    "taro@example.com.attacker.test",
    "taro@notexample.com",
    '"taro@example.com" <evil@attacker.test>',
])
def test_outside_senders_are_external_even_from_a_trusted_relay(sender):
    audience = classify_sender(parsed(sender), CONFIG, RELAY)
    assert not audience.internal
    assert audience.flags == ("external",)
    assert audience.reasons


def test_a_from_naming_two_addresses_is_spoof_suspected():
    audience = classify_sender(parsed("taro@example.com, evil@attacker.test"), CONFIG, RELAY)
    assert not audience.internal
    assert audience.flags == ("external", "spoof_suspected")


def test_dmarc_fail_for_our_domain_is_spoof_suspected():
    msg = parsed("taro@example.com",
                 "mx.example.com; spf=pass smtp.mailfrom=attacker.test; dkim=none; "
                 "dmarc=fail (p=none dis=none) header.from=example.com")
    audience = classify_sender(msg, CONFIG, RELAY)
    assert not audience.internal
    assert audience.flags == ("external", "spoof_suspected")
    assert "dmarc=fail" in audience.reasons[0]


@pytest.mark.parametrize("result", [
    "mx.example.com; spf=softfail (domain of transitioning taro@example.com does not designate "
    "203.0.113.9 as permitted sender) smtp.mailfrom=taro@example.com",
    "mx.example.com; spf=fail smtp.mailfrom=example.com",
    "mx.example.com; dkim=fail (bad signature) header.d=example.com header.s=sel1",
    "mx.example.com 1; dmarc=fail",
])
def test_failed_checks_about_our_domain(result):
    audience = classify_sender(parsed("taro@example.com", result), CONFIG, RELAY)
    assert "spoof_suspected" in audience.flags


def test_any_of_several_folded_headers_can_report_the_failure():
    raw = (b"Authentication-Results: relay.example.com; spf=pass smtp.mailfrom=example.com\r\n"
           b"Authentication-Results: mx.example.com; (a comment (nested));\r\n"
           b"\tdkim=pass header.d=example.com;\r\n"
           b"\tdmarc=fail header.from=example.com\r\n"
           b"From: taro@example.com\r\nTo: incident@example.com\r\nSubject: x\r\n\r\nbody\r\n")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert classify_sender(msg, CONFIG, RELAY).flags == ("external", "spoof_suspected")


def test_passing_checks_and_other_domains_failures_do_not_count():
    msg = parsed("taro@example.com",
                 "mx.example.com; spf=pass smtp.mailfrom=example.com; "
                 "dkim=fail header.d=newsletter-vendor.example.net; dkim=pass header.d=example.com; "
                 "dmarc=pass header.from=example.com",
                 "mx.example.com; spf=softfail smtp.mailfrom=bounces.vendor.example.net")
    assert classify_sender(msg, CONFIG, RELAY).internal


def test_failure_for_an_outside_sender_is_just_external():
    msg = parsed("customer@outside.example", "mx.example.com; dmarc=fail header.from=outside.example")
    assert classify_sender(msg, CONFIG, RELAY).flags == ("external",)


def test_parse_authentication_results():
    results = parse_authentication_results(
        'mx.google.com; dkim=pass header.i=@example.com header.s=s1 header.b="abc;def"; '
        "spf=softfail (google.com: domain of x@example.com) smtp.mailfrom=x@example.com; "
        "dmarc=fail (p=REJECT sp=REJECT dis=NONE) header.from=example.com")
    assert [(r.method, r.result) for r in results] == [("dkim", "pass"), ("spf", "softfail"), ("dmarc", "fail")]
    assert results[2].props == {"header.from": "example.com"}
    assert parse_authentication_results("mx.example.com; none") == []


def test_reply_kind():
    internal = classify_sender(parsed("taro@example.com"), CONFIG, RELAY)
    external = classify_sender(parsed("customer@outside.example"), CONFIG, RELAY)
    no_receipts = Config(organization=CONFIG.organization, escalation=Escalation(external_receipt=False))
    assert reply_kind(internal, CONFIG) == "guidance"
    assert reply_kind(external, CONFIG) == "receipt"
    assert reply_kind(external, no_receipts) is None
