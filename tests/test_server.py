"""The listener against a real smtplib client: durable 250s, refusals, duplicates, threading."""

import smtplib

import pytest

from conftest import RunningServer, wait_for
from leakline.app import App
from mailbuilders import iso2022jp_mail, plain_mail, shift_jis_mail


def incoming(case):
    return [m for m in case["messages"] if m["direction"] == "in"]


def send(srv, raw: bytes, sender="taro@example.com", rcpt="incident@example.com"):
    with smtplib.SMTP(srv.host, srv.port, timeout=10) as client:
        return client.sendmail(sender, [rcpt], raw)


def send_reply(srv, raw: bytes, sender="taro@example.com"):
    """The server's answer to DATA (code, text)."""
    with smtplib.SMTP(srv.host, srv.port, timeout=10) as client:
        client.ehlo()
        client.mail(sender)
        client.rcpt("incident@example.com")
        return client.data(raw)


def test_accepts_report_and_answers_with_spool_id(running, app):
    code, text = send_reply(running, iso2022jp_mail("①誤送信", "㈱髙橋様へ誤送信", message_id="<a1@example.com>"))
    assert code == 250
    assert b"queued as" in text
    cases = wait_for(lambda: app.store.summaries("open"))
    assert [c["subject"] for c in cases] == ["①誤送信"]
    case = app.store.get(cases[0]["id"])
    assert case["messages"][0]["text"] == "㈱髙橋様へ誤送信"
    assert case["messages"][0]["envelope"]["spool_id"].encode() in text
    raw = app.store.raw_path(case["messages"][0]["raw"]).read_bytes()
    assert b"Message-ID: <a1@example.com>" in raw


def test_listener_prints_where_it_listens(running):
    assert f"127.0.0.1:{running.port}" in running.lines[0]


def test_other_recipient_is_refused_550(running):
    with smtplib.SMTP(running.host, running.port) as client:
        client.ehlo()
        client.mail("taro@example.com")
        code, text = client.rcpt("someone@example.com")
    assert code == 550 and text.startswith(b"5.1.1")


def test_oversize_is_refused_552(tmp_path):
    from conftest import make_config

    app = App(make_config(tmp_path / "d", service={"max_message_bytes": 10_000}))
    srv = RunningServer(app)
    try:
        big = plain_mail("big", "x" * 20_000)
        with pytest.raises(smtplib.SMTPSenderRefused) as err:  # declared with SIZE=
            send(srv, big)
        assert err.value.smtp_code == 552
        code, _ = send_reply(srv, big)  # not declared: refused after DATA
        assert code == 552
        assert app.spool.segments() == []
    finally:
        srv.stop()


def test_long_lines_from_phone_mailers_are_accepted(running, app):
    line = "長い行" * 1500  # about 13,500 bytes on one line
    raw = (b"From: taro@example.com\r\nTo: incident@example.com\r\nSubject: long\r\n"
           b"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           + line.encode() + b"\r\n")
    assert send_reply(running, raw)[0] == 250
    wait_for(lambda: app.store.summaries("open"))
    case = app.store.get(app.store.summaries("open")[0]["id"])
    assert case["messages"][0]["text"] == line


def test_smtputf8_addresses(running, app):
    raw = "From: 山田 <山田@example.com>\r\nTo: incident@example.com\r\nSubject: UTF8\r\n\r\n本文\r\n".encode()
    with smtplib.SMTP(running.host, running.port) as client:
        client.ehlo()
        assert client.has_extn("smtputf8")
        client.sendmail("山田@example.com", ["incident@example.com"], raw, mail_options=["SMTPUTF8"])
    wait_for(lambda: app.store.summaries("open"))
    assert app.store.summaries("open")[0]["reporter"] == "山田@example.com"


def test_storage_failure_answers_451_never_5xx(running, app):
    # A file where the spool's temp folder should be: the write fails (even as root).
    tmp = app.spool.tmp
    for child in tmp.iterdir():
        child.unlink()
    tmp.rmdir()
    tmp.write_text("in the way")
    code, text = send_reply(running, plain_mail("x", "y"))
    assert code == 451 and text.startswith(b"4.3.0")


def test_same_message_twice_is_one_entry(running, app):
    raw = shift_jis_mail("紛失", "ＵＳＢ紛失①", message_id="<dup-1@example.com>")
    send(running, raw)
    send(running, raw)
    raw_no_id = plain_mail("ID なし", "同じ内容")
    send(running, raw_no_id)
    send(running, b"Received: from relay\r\n" + raw_no_id)
    send(running, plain_mail("marker", "last"))
    wait_for(lambda: len(app.store.summaries("open")) == 3)
    assert app.spool.segments() == [] or wait_for(lambda: app.spool.segments() == [])
    for row in app.store.summaries("open"):
        assert len(incoming(app.store.get(row["id"]))) == 1


def test_follow_ups_join_their_case(running, app):
    send(running, plain_mail("USB紛失", "報告", message_id="<r1@example.com>"))
    case_id = wait_for(lambda: app.store.summaries("open"))[0]["id"]
    send(running, plain_mail(f"Re[2]: 返信: [{case_id}] USB紛失", "追記1", message_id="<r2@example.com>"))
    send(running, plain_mail("RE：別件名", "追記2", message_id="<r3@example.com>",
                             extra=["In-Reply-To: <r2@example.com>"]))
    send(running, plain_mail("転送: x", "追記3", message_id="<r4@example.com>",
                             extra=["References: <zzz@elsewhere> <r1@example.com>"]))
    send(running, plain_mail("新しい報告", "別の事故", message_id="<n1@example.com>"))
    wait_for(lambda: len(app.store.summaries("open")) == 2
             and len(incoming(app.store.get(case_id))) == 4)
    case = app.store.get(case_id)
    assert [m["text"] for m in incoming(case)] == ["報告", "追記1", "追記2", "追記3"]
    assert [m["kind"] for m in incoming(case)] == ["report", "followup", "followup", "followup"]


def test_case_ids_never_repeat_across_restarts(tmp_path):
    from conftest import make_config

    config = make_config(tmp_path / "d")
    ids = []
    for round_ in range(2):
        app = App(config)
        srv = RunningServer(app)
        try:
            send(srv, plain_mail(f"報告{round_}", "x", message_id=f"<seq{round_}@example.com>"))
            wait_for(lambda: len(app.store.summaries("all")) == round_ + 1)
        finally:
            srv.stop()
        ids = [r["id"] for r in app.store.summaries("all")]
    year = ids[0].split("-")[1]
    assert ids == [f"INC-{year}-0001", f"INC-{year}-0002"]


def test_spooled_but_unprocessed_mail_is_processed_at_start(tmp_path):
    from conftest import make_config

    app = App(make_config(tmp_path / "d"))
    app.prepare()
    app.spool.write([(plain_mail("停止中に届いた", "本文"), {"mail_from": "taro@example.com",
                                                        "rcpt_tos": ["incident@example.com"]})])
    srv = RunningServer(app)
    try:
        rows = wait_for(lambda: app.store.summaries("open"))
        assert rows[0]["subject"] == "停止中に届いた"
        wait_for(lambda: app.spool.segments() == [])
    finally:
        srv.stop()


def test_crash_between_case_write_and_index_row_is_repaired(app):
    from leakline.store.spool import SpoolEntry

    entry = SpoolEntry("s.0", {"mail_from": "a@example.com", "spool_id": "s.0"},
                       plain_mail("件名", "本文", message_id="<idx@example.com>"))
    result = app.intake.process(entry)
    index = app.store._index_path(result.case["id"])
    index.unlink()  # as if killed after the case file, before the index row
    assert app.store.summaries("all") == []
    again = app.intake.process(entry)
    assert again.duplicate
    assert [r["id"] for r in app.store.summaries("all")] == [result.case["id"]]


def test_starttls_offered_when_cert_and_key_are_set(tmp_path):
    from conftest import make_config
    from smtp_sink import CERT_PEM, KEY_PEM, SmtpSink

    (tmp_path / "cert.pem").write_text(CERT_PEM)
    (tmp_path / "key.pem").write_text(KEY_PEM)
    app = App(make_config(tmp_path / "d", service={"tls_cert": str(tmp_path / "cert.pem"),
                                                    "tls_key": str(tmp_path / "key.pem")}))
    srv = RunningServer(app)
    try:
        with smtplib.SMTP(srv.host, srv.port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("starttls")
            client.starttls(context=SmtpSink.client_tls_context())
            client.ehlo()
            client.sendmail("taro@example.com", ["incident@example.com"],
                            plain_mail("TLS", "暗号化された経路", message_id="<tls@example.com>"))
        rows = wait_for(lambda: app.store.summaries("open"))
        assert app.store.get(rows[0]["id"])["messages"][0]["text"] == "暗号化された経路"
    finally:
        srv.stop()


def test_plain_server_offers_no_starttls(running):
    with smtplib.SMTP(running.host, running.port, timeout=10) as client:
        client.ehlo()
        assert not client.has_extn("starttls")


def test_a_message_intake_keeps_failing_on_is_shunted_not_dropped(app):
    raw = plain_mail("件名", "本文", message_id="<shunt@example.com>")
    app.spool.write([(raw, {"mail_from": "taro@example.com", "rcpt_tos": ["incident@example.com"],
                            "received_at": "2026-11-26T01:00:00+00:00"})])
    (app.data_dir / "cases" / "2026").write_text("in the way")  # every case write now fails
    for attempt in range(3):
        assert app.spool.segments(), f"dropped after {attempt} attempts"
        app.pipeline.drain()
    assert app.spool.segments() == []
    (kept,) = app.spool.shunt.glob("*.eml")
    assert kept.read_bytes() == raw
    assert "NotADirectoryError" in kept.with_suffix(".json").read_text()
