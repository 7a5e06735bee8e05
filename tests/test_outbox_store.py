"""The outbox store (files, states, restart) and the `leakline outbox` commands. Tests taking
`backend` run on the file store and on PostgreSQL; the others are about the files."""

from __future__ import annotations

import email
import email.policy
import json
import stat
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import OUTBOX_T0
from leakline.cli_outbox import outbox as outbox_cli
from leakline.config import Config, Service, StoreSettings
from leakline.store.files import DataLock
from leakline.store.outbox import Outbox, OutboxError, UnknownMessage

T0 = OUTBOX_T0

SUBJECT = "[INC-2026-0001] 報告を受け付けました"


def make_message(subject: str = SUBJECT, to: str = "taro@example.com",
                 message_id: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Example Co. <incident@example.com>"
    msg["To"] = to
    msg["Subject"] = subject
    if message_id != "":
        msg["Message-ID"] = message_id or make_msgid(domain="example.com")
    msg.set_content("報告を受け付けました。証拠を保全してください。\n")
    return msg


def enqueue(box: Outbox, **kw) -> str:
    return box.enqueue(make_message(**kw), envelope_from="", envelope_to=["taro@example.com"],
                       case_id="INC-2026-0001", kind="guidance")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def either(backend, clock):
    """The outbox on the backend of the test's leg."""
    return backend.outbox(clock)


def test_enqueue_keeps_the_message_as_serialized_in_one_private_table(box, tmp_path):
    message = make_message(message_id="<abc.123@example.com>")
    message_id = box.enqueue(message, envelope_from="", envelope_to=["taro@example.com"],
                             case_id="INC-2026-0001", kind="guidance")

    assert message_id == "<abc.123@example.com>"
    outbox = tmp_path / "outbox"
    assert mode(outbox) == 0o700
    assert {p.name for p in outbox.iterdir()} <= {"outbox.sqlite", "outbox.sqlite-wal",
                                                  "outbox.sqlite-shm"}  # no file a message
    for path in outbox.iterdir():
        assert mode(path) == 0o600
    [item] = box.due(T0)
    raw = item.message_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == SUBJECT
    assert parsed["Message-ID"] == "<abc.123@example.com>"


def test_mail_of_a_case_is_kept_once_the_outbox_naming_its_evidence(box, tmp_path):
    evidence = tmp_path / "raw" / "2026" / "11" / "x.eml"
    evidence.parent.mkdir(parents=True)
    evidence.write_bytes(b"Message-ID: <e@x>\r\n\r\nbody\r\n")
    box.enqueue_bytes(evidence.read_bytes(), message_id="<e@x>", envelope_from="",
                      envelope_to=["taro@example.com"], case_id="INC-2026-0001", kind="guidance",
                      subject="s", same_as=evidence)
    [item] = box.due(T0)
    assert item.path == evidence and item.message_bytes().endswith(b"body\r\n")


def test_bcc_recipients_are_in_the_envelope_only(either):
    message = make_message()
    message["Bcc"] = "boss@example.com"
    either.enqueue(message, envelope_from="", envelope_to=["taro@example.com", "boss@example.com"],
                case_id=None, kind="escalation")
    [item] = either.due(T0)
    assert b"boss@example.com" not in item.message_bytes()
    assert item.recipients == ("taro@example.com", "boss@example.com")
    assert message["Bcc"] == "boss@example.com"  # the caller's message is left as it was


def test_same_message_id_twice_is_a_no_op_even_after_sending(either, clock):
    first = enqueue(either, message_id="<dup@example.com>")
    assert enqueue(either, message_id="dup@example.com", subject="other") == first
    assert [row["subject"] for row in either.list()] == [SUBJECT]

    either.mark_sent(first)
    assert enqueue(either, message_id="<dup@example.com>") == first
    assert either.list() == []
    assert either.get(first)["state"] == "sent"


def test_a_message_without_message_id_gets_one_in_the_from_domain(either):
    message = make_message(message_id="")
    message_id = either.enqueue(message, envelope_from="", envelope_to=["a@example.org"],
                             case_id=None, kind="receipt")
    assert message_id.startswith("<") and message_id.endswith("@example.com>")
    assert message["Message-ID"] == message_id
    assert either.due(T0)[0].id == message_id


def test_due_list_and_retry_bookkeeping(either, clock):
    message_id = enqueue(either)
    [item] = either.due(T0)
    assert (item.id, item.envelope_from, item.recipients) == (message_id, "", ("taro@example.com",))
    assert item.message_bytes().startswith(b"From: Example Co.")

    either.mark_retry(message_id, "451 4.3.0 try later", T0 + timedelta(minutes=1))
    assert either.due(T0 + timedelta(seconds=59)) == []
    assert either.next_attempt_at() == T0 + timedelta(minutes=1)
    [row] = either.list()
    assert row == {
        "id": message_id, "case_id": "INC-2026-0001", "kind": "guidance",
        "to": ["taro@example.com"], "subject": SUBJECT, "state": "queued", "attempts": 1,
        "next_attempt_at": (T0 + timedelta(minutes=1)).isoformat(),
        "last_error": "451 4.3.0 try later", "created_at": T0.isoformat(),
        "pending_to": ["taro@example.com"],
    }


def test_the_queue_survives_a_restart(backend, clock):
    first = backend.outbox(clock)
    message_id = enqueue(first)
    first.mark_retry(message_id, "connection refused", T0 + timedelta(seconds=30))

    again = backend.outbox(clock)
    [item] = again.due(T0 + timedelta(seconds=30))
    assert (item.id, item.attempts, item.last_error) == (message_id, 1, "connection refused")
    assert item.message_bytes() == first.due(T0 + timedelta(hours=1))[0].message_bytes()


def test_sent_messages_leave_the_queue(backend, clock):
    box = backend.outbox(clock)
    message_id = enqueue(box)
    clock.advance(days=6)  # 2026-12-02
    box.mark_sent(message_id)

    assert box.due(clock()) == [] and box.list() == []
    assert [row["id"] for row in box.list_sent()] == [message_id]
    assert box.get(message_id)["sent_at"] == clock().isoformat()
    with pytest.raises(UnknownMessage):
        box.mark_sent(message_id)


def test_records_of_an_older_outbox_are_taken_in_once_and_their_files_kept(tmp_path, clock):
    """Before issue 13 the second half: a file each under queue/, sent/<month>/, failed/."""
    def legacy(folder: Path, key: str, record: dict) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{key}.json").write_text(json.dumps(record))
        (folder / f"{key}.eml").write_bytes(b"Message-ID: %s\r\n\r\nold\r\n" % record["id"].encode())
    base = {"case_id": "INC-2026-0001", "kind": "guidance", "envelope_from": "",
            "to": ["taro@example.com"], "subject": "s", "attempts": 0, "last_error": None,
            "created_at": T0.isoformat(), "queued_at": T0.isoformat()}
    root = tmp_path / "outbox"
    legacy(root / "queue", "a" * 32, {**base, "id": "<q@x>", "state": "queued",
                                      "next_attempt_at": T0.isoformat()})
    legacy(root / "sent" / "2026-11", "b" * 32, {**base, "id": "<s@x>", "state": "sent",
                                                 "sent_at": T0.isoformat()})
    legacy(root / "failed", "c" * 32, {**base, "id": "<f@x>", "state": "failed",
                                       "failed_at": T0.isoformat(), "last_error": "550"})
    box = Outbox(tmp_path, DataLock(tmp_path / ".lock"), clock)
    [item] = box.due(T0)
    assert item.id == "<q@x>" and item.message_bytes().endswith(b"old\r\n")
    assert [r["id"] for r in box.list_sent()] == ["<s@x>"]
    assert [r["id"] for r in box.list(failed=True)] == ["<f@x>"]
    assert not (root / "queue").exists()
    (aside,) = root.glob("files-imported-*")
    assert (aside / ".done").exists() and (aside / "sent" / "2026-11" / f"{'b' * 32}.eml").exists()
    again = Outbox(tmp_path, DataLock(tmp_path / ".lock"), clock)
    assert len(again.list()) == 1 and len(again.list_sent()) == 1  # once


def test_dead_letter_and_manual_retry(either, clock):
    message_id = enqueue(either)
    either.mark_failed(message_id, "550 5.1.1 no such user", alert=True)
    assert either.list() == [] and either.due(clock() + timedelta(days=30)) == []
    [row] = either.list(failed=True)
    assert (row["state"], row["attempts"], row["last_error"]) == ("failed", 1, "550 5.1.1 no such user")
    assert [i.id for i in either.pending_alerts()] == [message_id]

    clock.advance(days=7)
    row = either.retry(message_id.strip("<>"))
    assert row["state"] == "queued" and either.list(failed=True) == []
    [item] = either.due(clock())
    assert item.queued_at == clock() and item.created_at == T0
    assert either.pending_alerts() == []


def test_retry_refuses_unknown_and_sent_messages(either):
    with pytest.raises(UnknownMessage):
        either.retry("<nobody@example.com>")
    message_id = enqueue(either)
    either.mark_sent(message_id)
    with pytest.raises(OutboxError, match="already sent"):
        either.retry(message_id)


# -- the CLI ------------------------------------------------------------------------------------


@pytest.fixture
def config(backend, tmp_path) -> Config:
    return Config(service=Service(data_dir=tmp_path), store=StoreSettings(**backend.store_section()))


def run_cli(config: Config, *args: str):
    return CliRunner().invoke(outbox_cli, list(args), obj=config)


def test_cli_list_shows_the_queue_and_json(either, config):
    box = either
    assert run_cli(config, "list").output == "The outbox queue is empty.\n"
    message_id = enqueue(box)

    result = run_cli(config, "list")
    assert result.exit_code == 0
    header, line = result.output.splitlines()
    assert header.split()[:4] == ["ID", "CASE", "KIND", "TO"]
    assert message_id in line and SUBJECT in line and "2026-11-26 18:03" in line

    rows = json.loads(run_cli(config, "list", "--json").output)
    assert [(r["id"], r["subject"], r["state"]) for r in rows] == [(message_id, SUBJECT, "queued")]


def test_cli_failed_list_and_retry(either, config):
    box = either
    message_id = enqueue(box)
    box.mark_failed(message_id, "550 5.7.1 relaying denied")

    result = run_cli(config, "list", "--failed")
    assert result.exit_code == 0
    assert "FAILED" in result.output and "last error: 550 5.7.1 relaying denied" in result.output

    result = run_cli(config, "retry", message_id)
    assert result.exit_code == 0 and message_id in result.output
    assert run_cli(config, "list", "--failed").output == "No dead letters.\n"
    assert [r["id"] for r in box.list()] == [message_id]


def test_cli_retry_of_an_unknown_id_is_a_one_line_error(config):
    result = run_cli(config, "retry", "<nobody@example.com>")
    assert result.exit_code == 1
    assert result.output == "Error: <nobody@example.com>: no such message in the outbox\n"


@pytest.mark.parametrize("args", [[], ["list"], ["retry"]])
def test_cli_help_has_an_example(args):
    result = CliRunner().invoke(outbox_cli, [*args, "--help"])
    assert result.exit_code == 0 and "Example:" in result.output
