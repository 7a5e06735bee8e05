"""`leakline ingest` behind a real Postfix pipe transport: stored on exit 0, deferred on exit 75.

Each test starts a private Postfix (own config, queue and log in a temp folder, SMTP on a free
loopback port) that pipes mail for incident@example.com to `leakline ingest` as an
unprivileged user, and sends it a Japanese report with smtplib.
"""

from __future__ import annotations

import os
import re
import shutil
import smtplib
import sys

import pytest

from conftest import free_port, wait_for
from leakline.app import App
from leakline.config import load
from mailbuilders import iso2022jp_mail
from postfix_helpers import (Postfix, copy_runtime, ensure_user, missing_prerequisite,
                             pipe_command, private_dir)

SENDER = "taro@sales.example.com"
INCIDENT = "incident@example.com"


def unavailable(reason: str):
    # CI installs Postfix and runs as root: there a missing piece fails instead of skipping.
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def pipe_user():
    reason = missing_prerequisite()
    if reason:
        unavailable(reason)
    return ensure_user()


@pytest.fixture(scope="module")
def command(pipe_user):
    """How Postfix runs leakline: this tree's code, importable by the pipe user."""
    runtime = private_dir("leakline-runtime-", 0o755)
    try:
        copy_runtime(runtime)
        command = pipe_command(runtime, pipe_user)
        if not command:
            unavailable(f"no Python that user {pipe_user.pw_name} can run imports leakline "
                        f"(this one is {sys.executable})")
        yield command
    finally:
        shutil.rmtree(runtime)


@pytest.fixture
def mta(request, pipe_user, command):
    """A running private Postfix, the leakline data_dir it delivers to, and the config file.

    Mail reaches leakline through the pipe transport, or the README's alias when the test is
    parametrized with "alias".
    """
    root = private_dir("leakline-postfix-")
    data_dir = root / "data"
    data_dir.mkdir(mode=0o700)
    shutil.chown(data_dir, pipe_user.pw_uid, pipe_user.pw_gid)
    config = root / "leakline.toml"
    config.write_text(f'[service]\ndata_dir = "{data_dir}"\n\n[organization]\n'
                      f'name = "テスト株式会社"\nincident_address = "{INCIDENT}"\n',
                      encoding="utf-8")
    config.chmod(0o600)  # as `leakline init` leaves it: for the service user's eyes only
    shutil.chown(config, pipe_user.pw_uid, pipe_user.pw_gid)
    postfix = Postfix(root, free_port(), pipe_user, command, config,
                      route=getattr(request, "param", "pipe"))
    try:
        postfix.start()
        yield postfix, data_dir, config
    finally:
        postfix.stop()
        shutil.rmtree(root)


def send(postfix: Postfix, raw: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=10) as client:
        assert client.sendmail(SENDER, [INCIDENT], raw) == {}


def spooled(app: App, postfix: Postfix, timeout: float = 60.0) -> list:
    """The spool's entries once Postfix has delivered; fails at once if Postfix bounced."""

    def delivered():
        assert "status=bounced" not in postfix.log(), postfix.log()
        return app.spool.segments()

    try:
        segments = wait_for(delivered, timeout=timeout, interval=0.05)
    except AssertionError as exc:
        raise AssertionError(f"nothing spooled: {exc}\nqueue: {postfix.queue()}\n"
                             f"Postfix log:\n{postfix.log()}") from None
    return [entry for segment in segments for entry in app.spool.read(segment)]


def test_a_report_piped_by_postfix_becomes_a_case(mta):
    postfix, _, config = mta
    subject = "①顧客名簿入りUSBメモリ紛失"
    body = "顧客120名分の名簿を紛失しました。\n㈱髙橋商事の分も含みます。"
    raw = iso2022jp_mail(subject, body, sender=SENDER, message_id="<pf-1@sales.example.com>")
    send(postfix, raw)
    app = App(load(config))
    (entry,) = spooled(app, postfix)
    wait_for(lambda: postfix.queue() == [] and "status=sent" in postfix.log(), timeout=30)

    assert entry.envelope["mail_from"] == SENDER
    assert entry.envelope["rcpt_tos"] == [INCIDENT]
    # The evidence is the mail as Postfix delivered it: its trace headers, then every byte that
    # was sent (a pipe hands over LF line ends).
    assert entry.raw.startswith(f"Return-Path: <{SENDER}>\n".encode())
    assert entry.raw.endswith(raw.replace(b"\r\n", b"\n"))

    assert app.pipeline.drain() == 1
    (summary,) = app.store.summaries("open")
    case = app.store.get(summary["id"])
    assert case["subject"] == subject and case["reporter"] == SENDER
    (message,) = [m for m in case["messages"] if m["direction"] == "in"]
    assert message["text"].strip() == body
    assert message["envelope"]["mail_from"] == SENDER
    assert message["envelope"]["rcpt_tos"] == [INCIDENT]


def test_a_data_dir_the_pipe_user_cannot_write_defers_until_fixed(mta, pipe_user):
    postfix, data_dir, config = mta
    # As after `leakline serve` first ran as root: the folder is there, not the pipe user's.
    shutil.chown(data_dir, 0, 0)
    raw = iso2022jp_mail("②誤送信", "取引先へ誤ってメールを送りました。", sender=SENDER,
                         message_id="<pf-2@sales.example.com>")
    send(postfix, raw)

    def deferred():
        log = postfix.log()
        assert "status=bounced" not in log, log
        if re.search(r"dsn=4\.\d+\.\d+, status=deferred", log):  # a temporary failure
            return [m for m in postfix.queue() if m["queue_name"] == "deferred"]
        return []

    (queued,) = wait_for(deferred, timeout=60, interval=0.1)
    (recipient,) = queued["recipients"]
    assert recipient["address"] == INCIDENT
    assert "could not store the message" in recipient["delay_reason"]
    app = App(load(config))
    assert app.spool.segments() == []

    # The operator gives the folder back and flushes the queue: the same mail arrives, once.
    shutil.chown(data_dir, pipe_user.pw_uid, pipe_user.pw_gid)
    postfix.flush()
    (entry,) = spooled(app, postfix)
    assert entry.raw.endswith(raw.replace(b"\r\n", b"\n"))
    wait_for(lambda: postfix.queue() == [], timeout=30)
    assert app.pipeline.drain() == 1
    assert [s["subject"] for s in app.store.summaries("open")] == ["②誤送信"]


@pytest.mark.parametrize("mta", ["alias"], indirect=True)
def test_the_readme_alias_keeps_the_envelope_sender(mta):
    postfix, _, config = mta
    raw = iso2022jp_mail("③宛先誤り", "顧客リストを別の取引先に送付しました。", sender=SENDER,
                         message_id="<pf-3@sales.example.com>")
    send(postfix, raw)
    app = App(load(config))
    (entry,) = spooled(app, postfix)
    assert raw.replace(b"\r\n", b"\n") in entry.raw
    # local(8) exports SENDER/RECIPIENT and may prepend an mbox "From " line: ingest uses the
    # first and drops the second, so the guidance reply reaches the reporter.
    assert entry.envelope["mail_from"] == SENDER
    assert not entry.raw.startswith(b"From ")
