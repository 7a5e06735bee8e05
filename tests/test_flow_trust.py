"""Who is trusted, through the real wiring: crafted From headers, peers, Authentication-Results,
leakline's own DKIM check (resolver injected: no test touches the network), the ingest pipe.
"""

from __future__ import annotations

import socket

import dkim
import pytest

from conftest import RunningServer, make_config, wait_for
from leakline.intake.dkimcheck import DkimChecker
from leakline.app import App
from mailbuilders import plain_mail
from test_flow_harness import (OFFICER, REPORTER, REPORTER_FROM, Clock, Flow, outgoing, read_maildir,
                               report, to_addr)

OUTSIDE_PEER = "203.0.113.7"  # an internet host: no trusted relay
# A 1024-bit test key, made for these tests only (dkimpy refuses shorter ones).
TEST_KEY = b"""-----BEGIN RSA PRIVATE KEY-----
MIICXAIBAAKBgQC7mYUNhPw6/vsBN2vxisx9grbjfnnm5sZOP7IPylJ4Kna+UUjg
Bs8Mk4RCJkIK8awNcDTrSYvKxZyR4IaF3ZI1AxFOh5tLDz0gQnVISjEziE+ly3Fk
rVrNVWrvY4Y447wf5oGJhaYM378jI/x6uvtqLu2bceXX9cbcBt3vJTQVYQIDAQAB
AoGAGVmteR43V2GNWaS7mXBAIdXAEQ3OOz2EHp7M2QVmD4btdNpXFq7U28YzYRz6
X7A4p7g57nGJymTZu3yzsPM4BmaSdQ2wAhVX8lVx/CenXqGElfp4JZVaqg6OtYKZ
It+yRyJsjmtt2/ljutUlbcKPX0IwzPgZgo43waWgwOcRF+ECQQDlHkeRObm3PV8z
ddMdNqkPZ6edkcFLn9tAyIogIAgMdYnY4brCVkYxzZCUWd4CHtBWL6E4hVj0pTAn
T8gBwH6LAkEA0ZwzlzBRIZhkZoTYkXkWWzZnMlJW6IuOJJGgqH89Tf4Bc4BVH3V8
7j3Dyw9zGK8458WiFva8S4dtgoVoW5bFQwJAd8mU8UCU8FCN7YG0lpl1WjB/WcpS
nQ8+umgejx0wGBN7toCN+/zPRkqLRISXpdQmaGkOiVZuY7nZqzPzBbd2cQJBAL6r
ZyaNVg/ITvQOve2+hv6bw028JsBMShWrvsfnTn3Go81MHKKMPgN9fcAWIq1+nrX+
Sg63jNrrq0sCTcaapH8CQB9jzIT06HyUQlMbiX09NdaMS5Z/Of/HNKJfaYQlk0KP
ai/IyWaDrrNN2IAhUkBoi0BfUO7Qop9BLqRW47qFIPE=
-----END RSA PRIVATE KEY-----
"""
TEST_PUB = b"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC7mYUNhPw6/vsBN2vxisx9grbjfnnm5sZOP7IPylJ4Kna+UUjgBs8Mk4RCJkIK8awNcDTrSYvKxZyR4IaF3ZI1AxFOh5tLDz0gQnVISjEziE+ly3FkrVrNVWrvY4Y447wf5oGJhaYM378jI/x6uvtqLu2bceXX9cbcBt3vJTQVYQIDAQAB"


def guidance_to(sent, address):
    return [s for s in to_addr(sent, address) if "一人で対応しない" in s.text]


# -- one identity per message ---------------------------------------------------------------

CRAFTED_FROM = b'From: "\x81\\" <evil@evil.test>" <taro@example.com>\r\n'


def crafted_report(from_line: bytes = CRAFTED_FROM) -> bytes:
    return (from_line + b"To: incident@example.com\r\nSubject: USB lost\r\n"
            b"Message-ID: <crafted-1@evil.test>\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
            + "顧客名簿を入れたUSBメモリを紛失しました。".encode() + b"\r\n")


def raw_smtp(host: str, port: int, mail_from: str, data: bytes) -> list[bytes]:
    """One message over a plain socket, bytes as given (smtplib would not send this From)."""
    replies = []
    with socket.create_connection((host, port), timeout=10) as sock:
        reader = sock.makefile("rb")

        def reply() -> bytes:
            line = reader.readline()
            while line[3:4] == b"-":
                line = reader.readline()
            replies.append(line)
            return line

        reply()
        for command in (b"EHLO client.test", f"MAIL FROM:<{mail_from}>".encode(),
                        b"RCPT TO:<incident@example.com>", b"DATA"):
            sock.sendall(command + b"\r\n")
            reply()
        sock.sendall(data + b".\r\n")
        reply()
        sock.sendall(b"QUIT\r\n")
        reply()
    return replies


def test_a_from_that_reads_two_ways_gets_no_reply_to_either_address(tmp_path):
    """Issue 9 finding 1: classified by one reading, answered at the other's address."""
    app = App(make_config(tmp_path / "data"))
    server = RunningServer(app)
    try:
        replies = raw_smtp(server.host, server.port, "taro@example.com", crafted_report())
        assert replies[-2].startswith(b"250")
        maildir = app.config.service.data_dir / "mail-out"
        sent = wait_for(lambda: (found := read_maildir(maildir)) and found, timeout=20)
    finally:
        server.stop()
    addressed = {a for s in sent for a in s.to}
    assert addressed == {OFFICER}  # the case is escalated; nobody else is written to
    (case_id,) = [row["id"] for row in app.store.summaries("all")]
    case = app.store.get(case_id)
    assert {"spoof_suspected", "external"} <= set(case["flags"])
    assert case["reporter"] == ""
    message = case["messages"][0]
    assert message["from_problem"] and any("evil@evil.test" in r for r in message["from_readings"])
    assert "reply_suppressed" in [e["action"] for e in app.store.audit.for_case(case_id)]


@pytest.mark.parametrize("from_line", [
    b"From: taro@example.com, evil@evil.test\r\n",
    b"From: taro@example.com\r\nFrom: evil@evil.test\r\n",
    b"From: undisclosed-recipients:;\r\n",
    b'From: taro <ta ro@example.com>\r\n',
])
def test_a_from_that_names_not_exactly_one_address_gets_no_reply(tmp_path, from_line):
    flow = Flow(make_config(tmp_path / "data"), Clock())
    sent = flow.run(crafted_report(from_line), mail_from="taro@example.com")
    assert {a for s in sent for a in s.to} == {OFFICER}
    case = flow.case()
    assert "spoof_suspected" in case["flags"] and case["assessment"]


# -- what verifies a claim to our domain -----------------------------------------------------

def test_our_domain_from_an_untrusted_peer_is_external(tmp_path):
    flow = Flow(make_config(tmp_path / "data"), Clock())
    sent = flow.run(report(), peer=OUTSIDE_PEER)
    case = flow.case()
    assert "external" in case["flags"] and "spoof_suspected" not in case["flags"]
    assert guidance_to(sent, REPORTER) == []
    (receipt,) = to_addr(sent, REPORTER)
    assert case["id"] not in receipt.subject + receipt.text
    assert to_addr(sent, OFFICER)


def mx_config(tmp_path, **mail):
    """Behind an inbound MX: no trusted relay, our MTA's authserv-id."""
    return make_config(tmp_path / "data", service={"trusted_relays": []},
                       mail={"authserv_id": "mx.example.com", **mail})


@pytest.mark.parametrize("header, internal", [
    ("mx.example.com; spf=pass smtp.mailfrom=sales.example.com; dmarc=pass header.from=sales.example.com", True),
    ("mx.example.com; dkim=pass header.d=example.com; dmarc=none", True),
    ("mx.example.com; spf=pass smtp.mailfrom=attacker.example", False),
    ("evil.example; dmarc=pass header.from=sales.example.com", False),  # not our authserv-id
    ("mx.example.com.evil.example; dmarc=pass header.from=sales.example.com", False),
])
def test_only_our_authserv_id_verifies(tmp_path, header, internal):
    flow = Flow(mx_config(tmp_path), Clock())
    sent = flow.run(report(extra=(f"Authentication-Results: {header}",)), peer="127.0.0.1")
    case = flow.case()
    assert ("external" not in case["flags"]) is internal
    assert bool(guidance_to(sent, REPORTER)) is internal


def test_a_forged_pass_below_our_own_header_counts_for_nothing(tmp_path):
    flow = Flow(mx_config(tmp_path), Clock())
    flow.run(report(extra=(
        "Authentication-Results: mx.example.com; spf=none; dkim=none; dmarc=none",
        "Authentication-Results: mx.example.com; dmarc=pass header.from=sales.example.com")))
    assert "external" in flow.case()["flags"]


def test_ingest_is_untrusted_unless_configured(tmp_path):
    flow = Flow(make_config(tmp_path / "data"), Clock())
    assert guidance_to(flow.run(report(), peer="pipe"), REPORTER) == []
    trusting = Flow(make_config(tmp_path / "data2", service={"ingest_trusted": True}), Clock())
    assert guidance_to(trusting.run(report(), peer="pipe"), REPORTER)


# -- leakline's own DKIM check ---------------------------------------------------------------

class Resolver:
    """DNS as the test says it is: the selector's key, counted lookups, an optional delay."""

    def __init__(self, clock=None, delay: float = 0.0, record: bytes | None = TEST_PUB):
        self.names: list[bytes] = []
        self.clock, self.delay, self.record = clock, delay, record

    def __call__(self, name: bytes, timeout: float = 5):
        self.names.append(name)
        if self.delay:
            self.clock.t += self.delay
        return self.record if name == b"sel._domainkey.sales.example.com." else None


class FakeMonotonic:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def signed(raw: bytes, domain: bytes = b"sales.example.com") -> bytes:
    return dkim.sign(raw, b"sel", domain, TEST_KEY,
                     include_headers=[b"from", b"to", b"subject", b"message-id"]) + raw


def dkim_flow(tmp_path, resolver, clock=None) -> Flow:
    flow = Flow(make_config(tmp_path / "data", service={"trusted_relays": []},
                            mail={"verify_dkim": True}), Clock())
    flow.app.intake.dkim = DkimChecker(resolver, clock=clock or FakeMonotonic())
    return flow


def test_a_valid_aligned_signature_verifies_the_sender(tmp_path):
    resolver = Resolver()
    flow = dkim_flow(tmp_path, resolver)
    sent = flow.run(signed(report()), peer=OUTSIDE_PEER)
    assert flow.case()["messages"][0]["trust"]["verified_by"] == "dkim"
    assert guidance_to(sent, REPORTER)
    assert resolver.names == [b"sel._domainkey.sales.example.com."]


def test_a_broken_signature_is_spoof_suspected(tmp_path):
    flow = dkim_flow(tmp_path, Resolver())
    tampered = signed(report()) + b"PS: added on the way\r\n"  # the body hash no longer holds
    sent = flow.run(tampered, peer=OUTSIDE_PEER)
    assert {"external", "spoof_suspected"} <= set(flow.case()["flags"])
    assert guidance_to(sent, REPORTER) == []


def test_a_signature_of_another_domain_verifies_nothing_and_costs_no_lookup(tmp_path):
    resolver = Resolver()
    flow = dkim_flow(tmp_path, resolver)
    flow.run(signed(report(), domain=b"attacker.example"), peer=OUTSIDE_PEER)
    assert "external" in flow.case()["flags"] and "spoof_suspected" not in flow.case()["flags"]
    assert resolver.names == []


def test_dns_past_the_budget_is_a_temporary_error_not_a_forgery(tmp_path):
    clock = FakeMonotonic()
    resolver = Resolver(clock, delay=1.5)  # the answer comes after the 1 s budget
    flow = dkim_flow(tmp_path, resolver, clock)
    sent = flow.run(signed(report()), peer=OUTSIDE_PEER)
    case = flow.case()
    assert "external" in case["flags"] and "spoof_suspected" not in case["flags"]
    assert len(resolver.names) == 1
    assert guidance_to(sent, REPORTER) == [] and to_addr(sent, OFFICER)


def test_no_dkim_check_for_a_trusted_relay(tmp_path):
    resolver = Resolver()
    flow = Flow(make_config(tmp_path / "data", mail={"verify_dkim": True}), Clock())
    flow.app.intake.dkim = DkimChecker(resolver, clock=FakeMonotonic())
    flow.run(signed(report()), peer="127.0.0.1")
    assert flow.case()["messages"][0]["trust"]["verified_by"] == "trusted_relay"
    assert resolver.names == []


# -- the configuration of trust ----------------------------------------------------------------

def test_trusted_relays_are_validated_cidrs_and_match_mapped_addresses():
    from leakline.config import ConfigError, from_dict

    config = from_dict({"service": {"trusted_relays": ["192.0.2.0/24", "2001:db8::1"]}})
    assert config.service.trusted_relays == ("192.0.2.0/24", "2001:db8::1/128")
    assert config.service.is_trusted_relay("192.0.2.77")
    assert config.service.is_trusted_relay("::ffff:192.0.2.77")
    assert not config.service.is_trusted_relay("127.0.0.1")
    assert not config.service.is_trusted_relay("pipe") and not config.service.is_trusted_relay(None)
    with pytest.raises(ConfigError, match="service.trusted_relays"):
        from_dict({"service": {"trusted_relays": ["10.0.0.0/33"]}})
    with pytest.raises(ConfigError, match="mail.verify_dkim"):
        from_dict({"mail": {"verify_dkim": "yes"}})
    assert from_dict({}).service.is_trusted_relay("::1")
