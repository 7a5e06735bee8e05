"""`leakline ingest` as an MTA pipe runs it: exit 0 once stored, 75 when it could not store."""

import subprocess
import sys

from mailbuilders import iso2022jp_mail


def ingest(config_path, data: bytes, *args):
    return subprocess.run([sys.executable, "-m", "leakline", "--config", str(config_path),
                           "ingest", *args], input=data, capture_output=True, timeout=60)


def config_file(tmp_path, data_dir):
    path = tmp_path / "c.toml"
    path.write_text(f'[service]\ndata_dir = "{data_dir}"\n', encoding="utf-8")
    return path


def test_ingest_from_stdin_spools_the_message(tmp_path):
    from leakline.app import App
    from leakline.config import load

    path = config_file(tmp_path, tmp_path / "data")
    raw = iso2022jp_mail("①誤送信", "本文㈱", message_id="<p1@example.com>")
    result = ingest(path, raw, "-", "--sender", "taro@example.com")
    assert result.returncode == 0, result.stderr
    app = App(load(path))
    (segment,) = app.spool.segments()
    (entry,) = app.spool.read(segment)
    assert entry.raw == raw
    assert entry.envelope["mail_from"] == "taro@example.com"
    assert entry.envelope["spool_id"].encode() in result.stdout
    assert app.pipeline.drain() == 1
    assert app.store.summaries("open")[0]["subject"] == "①誤送信"


def test_ingest_from_file(tmp_path):
    path = config_file(tmp_path, tmp_path / "data")
    mail = tmp_path / "m.eml"
    mail.write_bytes(iso2022jp_mail("件名", "本文"))
    assert ingest(path, b"", str(mail)).returncode == 0


def test_unwritable_data_dir_exits_75(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")  # a file in the path: unwritable even for root
    result = ingest(config_file(tmp_path, blocker / "data"), iso2022jp_mail("件名", "本文"))
    assert result.returncode == 75
    assert b"could not store" in result.stderr


def test_broken_config_exits_75_so_the_mta_retries(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[service\n")
    assert ingest(path, iso2022jp_mail("件名", "本文")).returncode == 75


def test_missing_input_file_exits_75(tmp_path):
    path = config_file(tmp_path, tmp_path / "data")
    assert ingest(path, b"", str(tmp_path / "missing.eml")).returncode == 75


def test_alias_delivery_envelope_from_environment_and_mbox_line(tmp_path):
    """Postfix local(8) exports SENDER/RECIPIENT and may put an mbox From line first."""
    import os

    from leakline.app import App
    from leakline.config import load

    path = config_file(tmp_path, tmp_path / "data")
    raw = iso2022jp_mail("件名", "本文", message_id="<alias@example.com>")
    env = dict(os.environ, SENDER="taro@example.com", RECIPIENT="incident@example.com")
    result = subprocess.run([sys.executable, "-m", "leakline", "--config", str(path), "ingest"],
                            input=b"From taro@example.com Thu Nov 26 10:00:00 2026\n" + raw,
                            capture_output=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    (entry,) = App(load(path)).spool.read(App(load(path)).spool.segments()[0])
    assert entry.raw == raw
    assert entry.envelope["mail_from"] == "taro@example.com"
    assert entry.envelope["rcpt_tos"] == ["incident@example.com"]
