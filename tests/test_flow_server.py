"""The whole path with a real server: smtplib -> listener -> worker process -> Maildir, as a new
user sees it after `leakline serve` with the defaults (the Maildir transport)."""

from __future__ import annotations

import smtplib
import time

from conftest import RunningServer, make_config, wait_for
from leakline.app import App
from mailbuilders import cp932_to_iso2022jp, encoded_word
from test_flow_harness import BOSS, OFFICER, REPORTER, read_maildir

SUBJECT = "USBメモリ紛失の報告"
BODY = ("営業部の山田です。\n"
        "本日、顧客名簿(約80名分の氏名・住所・電話番号)を保存したUSBメモリを紛失しました。\n"
        "外出先で気づきました。暗号化はしていません。\n")
REPORT_ID = "<usb-report-1@sales.example.com>"


def iso2022jp_report() -> bytes:
    headers = [f"From: {encoded_word('山田太郎', 'ISO-2022-JP')} <{REPORTER}>",
               "To: incident@example.com", f"Subject: {encoded_word(SUBJECT, 'ISO-2022-JP')}",
               "Date: Thu, 26 Nov 2026 10:00:00 +0900", f"Message-ID: {REPORT_ID}",
               "MIME-Version: 1.0", "Content-Type: text/plain; charset=ISO-2022-JP",
               "Content-Transfer-Encoding: 7bit"]
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + cp932_to_iso2022jp(BODY).replace(
        b"\n", b"\r\n")


def check_common(sent, case_id: str) -> None:
    msg = sent.msg
    assert msg["Message-ID"].endswith(".leakline@example.com>")
    assert msg["Message-ID"] != REPORT_ID
    assert f"[{case_id}]" in msg["Subject"]
    raw_subject = next(line for line in sent.raw.split(b"\n") if line.startswith(b"Subject:"))
    assert b"=?utf-8?" in raw_subject.lower() and raw_subject.isascii()
    (sender,) = msg["From"].addresses
    assert sender.display_name == "テスト株式会社" and sender.addr_spec == "incident@example.com"
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p for p in msg.iter_parts()]
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert case_id in sent.text and case_id in sent.html
    assert msg["X-Leakline-Case"] == case_id


def test_a_report_sent_to_the_server_gets_guidance_and_escalations_in_the_maildir(tmp_path):
    app = App(make_config(tmp_path / "data"))
    maildir = app.config.service.data_dir / "mail-out"
    server = RunningServer(app)
    try:
        started = time.monotonic()
        with smtplib.SMTP(server.host, server.port, timeout=10) as client:
            client.sendmail(REPORTER, ["incident@example.com"], iso2022jp_report())
        sent = wait_for(lambda: (found := read_maildir(maildir)) and len(found) >= 3 and found,
                        timeout=10)
        took = time.monotonic() - started
    finally:
        server.stop()
    assert took < 8.0, f"guidance and escalations took {took:.2f} s"  # speed: bench/, not here

    (case_row,) = app.store.summaries("all")
    case_id = case_row["id"]
    assert case_row["subject"] == SUBJECT and case_row["category"] == "loss"
    by_recipient = {s.envelope_to: s for s in sent}
    assert sorted(by_recipient) == [(BOSS,), (OFFICER,), (REPORTER,)]

    guidance = by_recipient[(REPORTER,)]
    check_common(guidance, case_id)
    msg = guidance.msg
    assert guidance.envelope_from == "" and b"Return-Path: <>\n" in guidance.raw
    assert msg["In-Reply-To"] == REPORT_ID and REPORT_ID in msg["References"]
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["To"].addresses[0].addr_spec == REPORTER
    text = guidance.text
    for expected in ("山田太郎 さん", f"受付番号: {case_id}", "通知済み: 個人情報保護管理者、上長",
                     "一人で対応しない", "後回しにしない", "証拠を残す",
                     "■ 今すぐやること(紛失)", "■ わかる範囲で、このメールに返信してください",
                     # the fact form, pre-filled with what was read (issue 11)
                     "\n発覚日時: ", "漏えいした情報: 氏名", "人数: 約80名\n", "委託元: \n", "暗号化: なし\n"):
        assert expected in text, expected
    assert "一人で対応しない" in guidance.html and "<script" not in guidance.html

    for manager in (OFFICER, BOSS):
        escalation = by_recipient[(manager,)]
        check_common(escalation, case_id)
        assert escalation.envelope_from == "incident@example.com"
        assert escalation.msg["Auto-Submitted"] == "auto-generated"
        assert "【要対応】" in escalation.msg["Subject"]
        assert REPORTER in escalation.text and "顧客名簿" in escalation.text
        assert f"leakline cases ack {case_id} --by {manager}" in escalation.text

    case = app.store.get(case_id)
    assert {m["status"] for m in case["messages"] if m["direction"] == "out"} == {"sent"}
    assert [m["kind"] for m in case["messages"] if m["direction"] == "in"] == ["report"]


def test_leakline_serve_with_the_defaults_answers_within_two_seconds(tmp_path):
    """The README's service command in a fresh folder: only the port is set (a free one)."""
    import signal
    import subprocess
    import sys

    from conftest import free_port

    port = free_port()
    (tmp_path / "leakline.toml").write_text(f'[service]\nlisten = "127.0.0.1:{port}"\n')
    proc = subprocess.Popen([sys.executable, "-m", "leakline", "serve"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert b"listening" in proc.stdout.readline()
        started = time.monotonic()
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail(REPORTER, ["incident@example.com"], iso2022jp_report())
        maildir = tmp_path / "leakline-data" / "mail-out"
        # The default managers: one privacy officer; so the guidance and one escalation.
        sent = wait_for(lambda: (found := read_maildir(maildir)) and len(found) >= 2 and found,
                        timeout=10)
        took = time.monotonic() - started
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        proc.stdout.close()
    assert took < 8.0, f"guidance and escalation took {took:.2f} s"  # speed: bench/, not here
    assert sorted(s.envelope_to for s in sent) == [("privacy@example.com",), (REPORTER,)]
    guidance = next(s for s in sent if s.envelope_to == (REPORTER,))
    assert "一人で対応しない" in guidance.text and guidance.envelope_from == ""


def test_the_reporters_side_through_the_real_server(tmp_path):
    """Issue 12 over SMTP: a second incident from the same sender within the window gets its
    guidance, and a follow-up naming the case as 【INC-…】 lands on it and is answered."""
    from mailbuilders import plain_mail

    app = App(make_config(tmp_path / "data"))
    maildir = app.config.service.data_dir / "mail-out"
    server = RunningServer(app)
    try:
        with smtplib.SMTP(server.host, server.port, timeout=10) as client:
            client.sendmail(REPORTER, ["incident@example.com"], iso2022jp_report())
            wait_for(lambda: len(read_maildir(maildir)) >= 3, timeout=10)
            client.sendmail(REPORTER, ["incident@example.com"],
                            plain_mail("FAX誤送信", "申込書を別の会社にFAXしました。", sender=REPORTER,
                                       message_id="<fax-1@sales.example.com>"))
            wait_for(lambda: len(read_maildir(maildir)) >= 6, timeout=10)
            client.sendmail(REPORTER, ["incident@example.com"],
                            plain_mail("【INC-2026-0001】見つかりました", "USBメモリは見つかりませんでしたが、追加の連絡です。",
                                       sender=REPORTER, message_id="<more-1@sales.example.com>"))
            sent = wait_for(lambda: (found := read_maildir(maildir)) and len(found) >= 7 and found,
                            timeout=10)
    finally:
        server.stop()
    to_reporter = [s for s in sent if s.to == [REPORTER]]
    # Maildir names do not order mails delivered in the same instant: find each by what it is.
    assert sorted(s.subject.split("]")[0] + "]" for s in to_reporter) == \
        ["[INC-2026-0001]", "[INC-2026-0001]", "[INC-2026-0002]"]
    (second_guidance,) = [s for s in to_reporter if s.subject.startswith("[INC-2026-0002]")]
    assert "■ やってはいけないこと" in second_guidance.text
    (answer,) = [s for s in to_reporter if "内容は担当者が確認します" in s.text]
    assert answer.subject.startswith("[INC-2026-0001]")
    assert [row["id"] for row in app.store.summaries("all")] == ["INC-2026-0001", "INC-2026-0002"]


def test_a_relative_data_dir_as_the_built_in_default_has_delivers_the_replies(tmp_path, monkeypatch):
    """The built-in defaults keep data_dir relative ("leakline-data", no config file): every
    reply's evidence must still be found by the sender. It once looked for it under
    leakline-data/leakline-data/ and no reply was ever delivered."""
    from pathlib import Path

    monkeypatch.chdir(tmp_path)
    app = App(make_config(Path("leakline-data")))
    assert not app.config.service.data_dir.is_absolute()
    server = RunningServer(app)
    try:
        with smtplib.SMTP(server.host, server.port, timeout=10) as client:
            client.sendmail(REPORTER, ["incident@example.com"], iso2022jp_report())
        sent = wait_for(lambda: (found := read_maildir(Path("leakline-data/mail-out"))) and
                        len(found) >= 3 and found, timeout=20)
    finally:
        server.stop()
    assert sent and {REPORTER, BOSS} <= {s.envelope_to[0] for s in sent}
