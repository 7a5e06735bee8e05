"""Shared harness of the test_flow_* tests (no tests here): the real App, driven by hand.

`Flow` is the wiring `leakline serve` runs, minus the threads: spool a message, drain the pipeline,
let the outbox sender make one pass, let the scheduler make one pass, all at the time of a clock
the test advances. Nothing of ours is replaced; only time is.
"""

from __future__ import annotations

import asyncio
import email
import email.parser
import email.policy
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from zoneinfo import ZoneInfo

from clock import Clock
from leakline.app import App
from leakline.config import Config
from mailbuilders import plain_mail

JST = ZoneInfo("Asia/Tokyo")
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=JST)

REPORTER = "taro@sales.example.com"
REPORTER_FROM = f"=?UTF-8?B?5bGx55Sw5aSq6YOO?= <{REPORTER}>"  # 山田太郎
OFFICER, BOSS, EXEC = "privacy@example.com", "boss@example.com", "exec@example.com"
REPORT_SUBJECT = "メール誤送信の報告"
REPORT_BODY = ("お客様120名分の氏名とメールアドレスを含むファイルを、誤って取引先に送信してしまいました。\n"
               "先ほど気づきました。\n")


@dataclass(frozen=True)
class Sent:
    """One message as it left us: its bytes, parsed, and the envelope the transport used."""

    raw: bytes
    envelope_from: str  # '' for the null sender
    envelope_to: tuple[str, ...]

    @property
    def msg(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    @property
    def message_id(self) -> str:
        return str(self.msg["Message-ID"])

    @property
    def to(self) -> list[str]:
        return [addr.lower() for _, addr in getaddresses([str(self.msg["To"])])]

    @property
    def subject(self) -> str:
        return str(self.msg["Subject"])

    @property
    def text(self) -> str:
        return self.msg.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.msg.get_body(("html",)).get_content()


def read_maildir(path: Path) -> list[Sent]:
    """What the Maildir transport delivered, in `path`/new (Return-Path and Envelope-To read back)."""
    found = []
    folder = path / "new"
    for file in sorted(folder.iterdir()) if folder.is_dir() else []:
        raw = file.read_bytes()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        found.append(Sent(raw, str(msg["Return-Path"]).strip().strip("<>"),
                          tuple(a.strip() for a in str(msg["Envelope-To"]).split(","))))
    return found


def from_sink(received) -> list[Sent]:
    """What the capturing relay (tests/smtp_sink.py) received."""
    return [Sent(r.data, r.mail_from.strip("<>"), tuple(r.rcpt_tos)) for r in received]


def reply_to(sent: Sent, body: str, *, sender: str, extra: tuple[str, ...] = (),
             message_id: str | None = None, prefix: str = "Re: ") -> bytes:
    """A reply to one of our messages, threaded as mail clients thread (In-Reply-To, References)."""
    thread = [f"In-Reply-To: {sent.message_id}", f"References: {sent.message_id}"]
    return plain_mail(prefix + sent.subject, body, sender=sender, message_id=message_id,
                      extra=[*thread, *extra])


def quoted(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines())


class Flow:
    """One App over a data_dir at a hand-driven clock, with its outbox sender built as serve does."""

    def __init__(self, config: Config, clock: Clock):
        self.config = config
        self.clock = clock
        self.app = App(config, now=clock)
        self.app.prepare()
        # background_tasks builds the sender (on_sent, on_dead_letter) that serve runs;
        # the loops themselves are not run: the test makes each pass itself.
        for coroutine in self.app.background_tasks(asyncio.Event()):
            coroutine.close()
        self.store = self.app.store
        self._seen: set[bytes] = set()

    # -- mail in -------------------------------------------------------------------------------
    def receive(self, raw: bytes, mail_from: str | None = None, peer: str = "127.0.0.1") -> None:
        """Spool one message as the listener does; `mail_from` '' is the null sender. The peer
        is a trusted relay (loopback) unless the test says otherwise."""
        if mail_from is None:
            head = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
            mail_from = (getaddresses([str(head["From"] or "")]) or [("", "")])[0][1]
        self.app.spool.write([(raw, {"mail_from": mail_from, "rcpt_tos": ["incident@example.com"],
                                     "peer": peer,
                                     "received_at": self.clock().isoformat()})])

    def drain(self) -> int:
        return self.app.pipeline.drain()

    def deliver(self):
        return asyncio.run(self.app.sender.run_once())

    def tick(self) -> int:
        return self.app.scheduler.run_once()

    def run(self, raw: bytes | None = None, mail_from: str | None = None,
            peer: str = "127.0.0.1") -> list[Sent]:
        """Receive (optionally), drain, deliver; return what was newly delivered."""
        if raw is not None:
            self.receive(raw, mail_from, peer)
        self.drain()
        self.deliver()
        return self.new_mail()

    # -- mail out ------------------------------------------------------------------------------
    def delivered(self) -> list[Sent]:
        return read_maildir(self.config.service.data_dir / "mail-out")

    def new_mail(self) -> list[Sent]:
        fresh = [s for s in self.delivered() if s.raw not in self._seen]
        self._seen.update(s.raw for s in fresh)
        return fresh

    # -- cases ---------------------------------------------------------------------------------
    def case_ids(self) -> list[str]:
        return [row["id"] for row in self.store.summaries("all")]

    def case(self, case_id: str | None = None) -> dict:
        if case_id is None:
            (case_id,) = self.case_ids()
        return self.store.get(case_id)

    def actions(self, case_id: str) -> list[str]:
        return [event["action"] for event in self.store.audit.for_case(case_id)]


def outgoing(case: dict, kind: str | None = None) -> list[dict]:
    return [m for m in case["messages"]
            if m["direction"] == "out" and (kind is None or m["kind"] == kind)]


def to_addr(sent_list: list[Sent], address: str) -> list[Sent]:
    return [s for s in sent_list if address in s.to]


def report(subject: str = REPORT_SUBJECT, body: str = REPORT_BODY, *, sender: str = REPORTER_FROM,
           message_id: str = "<report-1@sales.example.com>", extra: tuple[str, ...] = ()) -> bytes:
    return plain_mail(subject, body, sender=sender, message_id=message_id, extra=list(extra))
