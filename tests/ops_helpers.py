"""A real `leakline serve` in a subprocess and the real CLI beside it, for the operator's
commands (tests/test_status.py, tests/test_backup.py). No tests here."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import subprocess
import sys
from pathlib import Path

from conftest import free_port
from mailbuilders import plain_mail

WORKTREE = Path(__file__).resolve().parent.parent
INCIDENT = "incident@example.com"
REPORT = "本日、顧客名簿（約120名分、氏名・住所）を記載したメールを社外の別の宛先に誤送信しました。"


def write_config(tmp_path: Path, mail: str = "") -> Path:
    path = tmp_path / "leakline.toml"
    path.write_text(f'[service]\ndata_dir = "data"\nlisten = "127.0.0.1:{free_port()}"\n'
                    f'[organization]\nincident_address = "{INCIDENT}"\ndomains = ["example.com"]\n'
                    '[[managers]]\nname = "PO"\nemail = "po@example.com"\nrole = "privacy_officer"\n'
                    + (f"[mail]\n{mail}\n" if mail else ""), encoding="utf-8")
    return path


def environment(**extra: str) -> dict:
    return {**os.environ, "PYTHONPATH": str(WORKTREE), **extra}


class Serve:
    """`python -m leakline --config PATH serve`, started until it says "listening"."""

    def __init__(self, config: Path, **env: str):
        self.config = config
        self.proc = subprocess.Popen([sys.executable, "-m", "leakline", "--config", str(config),
                                      "serve"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=environment(**env), bufsize=0)
        first = self.proc.stdout.readline().decode()
        assert "listening" in first, first + self.proc.stderr.read().decode()
        self.port = int(first.split("127.0.0.1:")[1].split()[0])

    def send(self, subject: str, body: str = REPORT, sender: str = "taro@example.com",
             message_id: str | None = None) -> str:
        raw = plain_mail(subject, body, sender=sender, message_id=message_id)
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as client:
            client.ehlo()
            code, answer = client.mail(sender)
            assert code == 250, answer
            code, answer = client.rcpt(INCIDENT)
            assert code == 250, answer
            code, answer = client.data(raw)
        assert code == 250, answer
        return answer.decode()

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=90)
        return out.decode() + err.decode()


def run(config: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The real CLI, as a monitor or an operator runs it."""
    return subprocess.run([sys.executable, "-m", "leakline", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=120, env=environment(**env))


def status(config: Path, *args: str) -> tuple[int, dict]:
    done = run(config, "status", "--json", *args)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def codes(found: dict) -> list[str]:
    return [need["code"] for need in found["attention"]]
