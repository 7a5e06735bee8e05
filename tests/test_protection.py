"""Data protection: private files, a refused open data_dir, nothing personal in the logs."""

import os
import signal
import smtplib
import stat
import subprocess
import sys

from click.testing import CliRunner

from conftest import free_port, wait_for
from leakline.app import App
from leakline.cli import main
from leakline.config import load
from mailbuilders import plain_mail


def test_every_file_is_0600_and_every_folder_0700(running, app):
    with smtplib.SMTP(running.host, running.port) as client:
        client.sendmail("taro@example.com", ["incident@example.com"],
                        plain_mail("病歴を含む名簿", "秘密", message_id="<p@example.com>"))
    wait_for(lambda: app.store.summaries("open"))
    for root, dirs, files in os.walk(app.data_dir):
        for name in dirs:
            assert stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode) == 0o700, name
        for name in files:
            assert stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode) == 0o600, name


def test_data_dir_open_to_others_is_refused_with_the_fix(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    path = tmp_path / "c.toml"
    path.write_text(f'[service]\ndata_dir = "{data}"\n')
    result = CliRunner().invoke(main, ["--config", str(path), "cases", "list"])
    assert result.exit_code == 1
    assert f"chmod -R go-rwx {data}" in result.output


def test_logs_carry_ids_and_sender_but_no_content(tmp_path):
    port = free_port()
    path = tmp_path / "c.toml"
    path.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\nlisten = "127.0.0.1:{port}"\n')
    log = open(tmp_path / "log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "leakline", "--config", str(path), "serve"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: b"listening" in (tmp_path / "log").read_bytes())
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail("taro@example.com", ["incident@example.com"],
                            plain_mail("件名に病歴ひみつ", "本文に患者の氏名やまだ", message_id="<log-1@example.com>"))
        app = App(load(path))
        case_id = wait_for(lambda: app.store.summaries("open"))[0]["id"]
        wait_for(lambda: case_id.encode() in (tmp_path / "log").read_bytes())
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        log.close()
    text = (tmp_path / "log").read_text(encoding="utf-8")
    assert "taro@example.com" in text and "<log-1@example.com>" in text
    for secret in ("病歴ひみつ", "やまだ", "患者"):
        assert secret not in text
