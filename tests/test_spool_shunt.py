"""Finding 7: shunting counts attempts on disk; `leakline spool list|retry` bring mail back."""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import cli
from mailbuilders import plain_mail

ROOT = Path(__file__).resolve().parent.parent
ENVELOPE = {"mail_from": "taro@example.com", "rcpt_tos": ["incident@example.com"],
            "received_at": "2026-11-26T01:00:00+00:00"}

# A worker that dies inside the responders while processing the message, as a crash would.
KILLING_DRAIN = """
import os, sys
from leakline.app import App
from leakline.config import load
app = App(load(sys.argv[1]))
app.prepare()
app.pipeline.reactors.append(lambda result: os._exit(3))
app.pipeline.drain()
"""


def test_a_message_that_kills_the_worker_is_shunted_not_retried_forever(cli_app):
    raw = plain_mail("毒", "本文", message_id="<poison@example.com>")
    cli_app.spool.write([(raw, ENVELOPE)])
    runs = [subprocess.run([sys.executable, "-c", KILLING_DRAIN, cli_app.config_path],
                           cwd=ROOT, capture_output=True, timeout=60).returncode
            for _ in range(4)]
    assert runs == [3, 3, 3, 0]  # the fourth run finds three attempts on disk: shunted
    assert cli_app.spool.segments() == []
    (row,) = json.loads(cli(cli_app, "spool", "list", "--json").output)
    assert row["attempts"] == 3 and "worker stopped" in row["reason"]
    assert row["mail_from"] == "taro@example.com" and row["size"] == len(raw)
    result = cli(cli_app, "spool", "retry", row["id"])
    assert result.exit_code == 0 and "back in the spool" in result.output
    assert cli_app.pipeline.drain() == 1  # a healthy worker takes it
    assert [r["subject"] for r in cli_app.store.summaries("open")] == ["毒"]
    assert cli(cli_app, "spool", "list").output.strip() == "no shunted messages"


def test_a_storage_failure_shunts_after_three_tries_and_retry_all_brings_it_back(
        cli_app, monkeypatch):
    raw = plain_mail("満杯", "本文", message_id="<full@example.com>")
    cli_app.spool.write([(raw, ENVELOPE)])
    monkeypatch.setenv("LEAKLINE_FAULT", "write:ENOSPC:*/cases/*")
    for _ in range(3):
        cli_app.pipeline.drain()
    assert cli_app.spool.segments() == []
    leftovers = [p for p in (cli_app.data_dir / "cases").rglob("*") if p.is_file()]
    assert leftovers == []  # the failed writes left no temp files behind
    monkeypatch.delenv("LEAKLINE_FAULT")
    listed = cli(cli_app, "spool", "list")
    assert "No space left on device" in listed.output and "taro@example.com" in listed.output
    assert "1 message(s) could not be processed" in cli(cli_app, "cases", "list").output
    assert "back in the spool" in cli(cli_app, "spool", "retry", "--all").output
    cli_app.pipeline.drain()
    case = cli_app.store.get(cli_app.store.summaries("open")[0]["id"])
    assert cli_app.store.raw_path(case["messages"][0]["raw"]).read_bytes() == raw
    assert case["messages"][0]["envelope"]["mail_from"] == "taro@example.com"


def test_a_damaged_segment_is_moved_aside_and_the_others_are_processed(cli_app):
    cli_app.spool.write([(plain_mail("壊れた", "本文"), ENVELOPE)])
    cli_app.spool.write([(plain_mail("無事", "本文"), ENVELOPE)])
    first = cli_app.spool.segments()[0]
    first.write_bytes(b"LLSPOOL1 12 x\n" + first.read_bytes())
    cli_app.pipeline.drain()
    assert [r["subject"] for r in cli_app.store.summaries("open")] == ["無事"]
    (row,) = cli_app.spool.shunted()
    assert row["retryable"] is False and "bad record header" in row["reason"]
    assert Path(row["path"]).read_bytes().startswith(b"LLSPOOL1 12 x\n")
    result = cli(cli_app, "spool", "retry", row["id"])
    assert result.exit_code == 1 and "no shunted message" in result.output


def test_spool_retry_needs_an_id_or_all(cli_app):
    assert cli(cli_app, "spool", "retry").exit_code == 2
    result = cli(cli_app, "spool", "retry", "../../etc/passwd")
    assert result.exit_code == 1 and "no shunted message" in result.output


def test_the_attempt_count_lives_beside_the_segment(cli_app):
    cli_app.spool.write([(plain_mail("a", "b"), ENVELOPE)])
    (segment,) = cli_app.spool.segments()
    os.environ["LEAKLINE_FAULT"] = "write:EIO:*/cases/*"
    try:
        cli_app.pipeline.drain()
    finally:
        del os.environ["LEAKLINE_FAULT"]
    tries = json.loads(segment.with_name(segment.name + ".tries").read_bytes())
    (state,) = tries.values()
    assert state["attempts"] == 1 and "Input/output error" in state["error"]
    cli_app.pipeline.drain()
    assert cli_app.spool.segments() == [] and not list(cli_app.spool.new.glob("*.tries"))
