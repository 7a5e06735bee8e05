"""Finding 8 at the CLI: reporter text inert on a terminal; a full or failing disk, or a damaged
file, is one line naming the file and what to do; failed writes leave no temp files."""

import base64
import json
import subprocess
import sys

from conftest import cli
from leakline.output import terminal_safe
from mailbuilders import headers, plain_mail

HOSTILE = ("請求\x1b[2J\x1b[1;31m赤\x1b[0m\x1b]0;pwned\x07\x1b]8;;http://evil/\x1b\\link"
           "\x9b31m\x9d2;t\x9c\r上書き\x00\x08\x7f\x85終")
INERT = "請求赤link上書き終"


def store_report(app, subject: str, body: str) -> str:
    word = f"=?UTF-8?B?{base64.b64encode(subject.encode()).decode()}?="
    raw = headers(word, sender="taro@example.com", message_id="<esc@example.com>") + (
        b"Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(body.encode()).replace(b"\n", b"\r\n"))
    app.spool.write([(raw, {"mail_from": "taro@example.com", "rcpt_tos": ["incident@example.com"],
                            "received_at": "2026-11-26T01:00:00+00:00"})])
    app.pipeline.drain()
    return app.store.summaries("open")[0]["id"]


def test_terminal_safe_keeps_text_tab_and_newline_only():
    assert terminal_safe(HOSTILE) == INERT
    assert terminal_safe("行1\n\t行2【INC】") == "行1\n\t行2【INC】"
    assert terminal_safe("\x1b") == "" and terminal_safe("a\x1b[") == "a"


def test_reporter_escape_sequences_never_reach_the_terminal(cli_app):
    case_id = store_report(cli_app, HOSTILE, f"本文 {HOSTILE}\n二行目")
    stored = cli_app.store.get(case_id)
    assert "\x1b" in stored["subject"] + stored["messages"][0]["text"]  # the evidence is kept as sent
    for args in (("cases", "list"), ("cases", "show", case_id), ("audit", "show", case_id),
                 ("report", case_id, "--kind", "ppc-preliminary")):
        output = cli(cli_app, *args).output
        assert not any(c in output for c in "\x1b\x9b\x9d\x9c\x07\r\x00\x08\x7f\x85"), args
    assert "赤" in cli(cli_app, "cases", "show", case_id).output
    shown = json.loads(cli(cli_app, "cases", "show", case_id, "--json").output)
    assert shown["subject"] == stored["subject"]  # JSON carries the data exactly, escaped


def test_a_full_disk_is_one_line_and_leaves_no_temp_files(cli_app):
    case_id = store_report(cli_app, "満杯", "本文")
    result = cli(cli_app, "cases", "ack", case_id, "--by", "privacy@example.com",
                 env={"LEAKLINE_FAULT": "write:ENOSPC:*/cases/*"})
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: ") and f"{case_id}.json" in line
    assert "no space left on the device; free some space" in line
    folder = cli_app.store._case_path(case_id).parent
    assert sorted(p.name for p in folder.iterdir()) == [f"{case_id}.json"]
    assert not cli_app.store.get(case_id)["acks"]


def test_an_io_error_reading_a_case_is_one_line(cli_app):
    case_id = store_report(cli_app, "読めない", "本文")
    result = cli(cli_app, "cases", "show", case_id, env={"LEAKLINE_FAULT": "read:EIO:*/cases/*"})
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert f"{case_id}.json: input/output error" in line and "leakline store check" in line


def test_errors_through_the_real_console_have_no_traceback(cli_app):
    case_id = store_report(cli_app, "壊れた", "本文")
    cli_app.store._case_path(case_id).write_bytes(b'{"case": {"1": {"id": "INC')
    out = subprocess.run([sys.executable, "-m", "leakline", "--config", cli_app.config_path,
                          "cases", "show", case_id], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip() == (f"Error: {cli_app.store._case_path(case_id)}: not valid JSON "
                                  "(truncated or overwritten?); run `leakline store check --repair`")


def test_ingest_on_a_full_disk_exits_75_and_leaves_no_temp_file(cli_app):
    import os

    env = dict(os.environ, LEAKLINE_FAULT="write:ENOSPC:*/spool/*")
    out = subprocess.run([sys.executable, "-m", "leakline", "--config", cli_app.config_path,
                          "ingest", "-"], input=plain_mail("満杯", "本文"), capture_output=True,
                         env=env, timeout=60)
    assert out.returncode == 75 and b"No space left" in out.stderr
    assert list(cli_app.spool.tmp.iterdir()) == [] and cli_app.spool.segments() == []


def test_listener_on_a_full_disk_answers_451_and_leaves_no_temp_file(app, monkeypatch):
    from conftest import RunningServer
    from rawsmtp import RawSMTP

    srv = RunningServer(app)
    try:
        monkeypatch.setenv("LEAKLINE_FAULT", "write:ENOSPC:*/spool/*")
        with RawSMTP(srv.host, srv.port) as client:
            small = client.mail(plain_mail("小", "本文"))
            large = client.mail(plain_mail("大", "本文" * 200_000))  # spilled to spool/tmp
        assert small[0] == 451 and large[0] == 451
        assert list(app.spool.tmp.iterdir()) == [] and app.spool.segments() == []
    finally:
        monkeypatch.delenv("LEAKLINE_FAULT")
        srv.stop()
