"""Issue 12, running it: config errors, --config anywhere, data_dir rules, serve's start, the
serve lock, the spool warning, --version and completion. Through the real CLI and server."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import free_port, wait_for
from leakline.cli import main

WORKTREE = Path(__file__).resolve().parent.parent


def invoke(*args, env=None, input=None):
    return CliRunner().invoke(main, list(args), env=env, input=input)


def config_file(tmp_path: Path, text: str = "", name: str = "c.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- configuration --------------------------------------------------------------------------

def test_every_config_error_at_once_with_did_you_mean(tmp_path):
    path = config_file(tmp_path, '[service]\ndta_dir = "x"\nlisten = "nohost"\n'
                                 '[organisation]\nname = "x"\n'
                                 '[organization]\nlangauge = "ja"\n'
                                 '[mail]\ntransport = "smpt"\n'
                                 '[[managers]]\nemail = "a@example.com"\nrole = "privacy_oficer"\n')
    result = invoke("--config", str(path), "cases", "list")
    assert result.exit_code == 1
    out = result.output
    assert "6 errors" in out
    for expected in ("service.dta_dir: unknown key; did you mean data_dir?",
                     "service.listen: expected HOST:PORT",
                     "organisation: unknown section; did you mean organization?",
                     "organization.langauge: unknown key; did you mean language?",
                     "mail.transport: must be one of maildir, smtp, got 'smpt'; did you mean smtp?",
                     "managers[0].role: must be one of privacy_officer, supervisor, executive, got "
                     "'privacy_oficer'; did you mean privacy_officer?"):
        assert expected in out, out
    assert "Traceback" not in out


def test_config_is_accepted_after_the_subcommand(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    path = config_file(tmp_path, f'[service]\ndata_dir = "{data}"\n')
    for args in (["cases", "list", "--config", str(path)], ["cases", "list", f"--config={path}"],
                 ["deadlines", "--config", str(path)], ["outbox", "list", "--config", str(path)]):
        result = invoke(*args, env={"LEAKLINE_CONFIG": str(tmp_path / "missing.toml")})
        assert result.exit_code == 0, (args, result.output)
    # the later one wins over the group's
    broken = config_file(tmp_path, "[service\n", name="broken.toml")
    assert invoke("--config", str(broken), "cases", "list", "--config", str(path)).exit_code == 1
    assert invoke("--config", str(path), "cases", "list", "--config", str(broken)).exit_code == 1
    assert invoke("cases", "list", "--config", str(broken)).exit_code == 1


def test_a_relative_data_dir_is_relative_to_the_config_file(tmp_path, monkeypatch):
    etc = tmp_path / "etc"
    etc.mkdir()
    path = config_file(etc, '[service]\ndata_dir = "var/leakline"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = invoke("--config", str(path), "ingest", "-", input=b"Subject: x\n\nhello\n")
    assert result.exit_code == 0, result.output
    assert (etc / "var" / "leakline" / "spool").is_dir()
    assert not (elsewhere / "var").exists()
    # with a relative --config too, from another folder
    monkeypatch.chdir(tmp_path)
    assert invoke("--config", "etc/c.toml", "cases", "list").exit_code == 0


@pytest.mark.parametrize("args", [
    ["cases", "list"], ["cases", "list", "--json"], ["cases", "show", "INC-2026-0001"],
    ["deadlines"], ["outbox", "list"], ["outbox", "list", "--sent"], ["audit", "verify"],
    ["report", "INC-2026-0001", "--kind", "ppc_final"], ["purge", "--dry-run"],
    ["cases", "ack", "INC-2026-0001", "--by", "privacy@example.com"],
])
def test_read_commands_on_a_missing_data_dir_stop_with_one_line_and_create_nothing(tmp_path, args):
    data = tmp_path / "nowhere" / "data"
    path = config_file(tmp_path, f'[service]\ndata_dir = "{data}"\n')
    result = invoke("--config", str(path), *args)
    assert result.exit_code == 1
    assert result.output == (f"Error: no leakline data at {data}; run where `serve` runs or pass "
                             "--config\n")
    assert not (tmp_path / "nowhere").exists()


def test_a_config_without_managers_or_mail_stays_valid(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    path = config_file(tmp_path, f'[service]\ndata_dir = "{data}"\n[cli]\nuser = "PO@Example.com"\n')
    from leakline.config import load

    config = load(path)
    assert config.managers and config.mail.transport == "maildir" and config.cli.user == "po@example.com"
    assert invoke("--config", str(path), "cases", "list").exit_code == 0


# -- version and completion -------------------------------------------------------------------

def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.startswith("leakline ")
    from importlib.metadata import version

    assert version("leakline") in result.output


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o"), ("zsh", "#compdef leakline"),
                                           ("fish", "complete --no-files --command leakline")])
def test_completion_prints_the_script(shell, marker):
    result = invoke("completion", shell)
    assert result.exit_code == 0 and marker in result.output and "_LEAKLINE_COMPLETE" in result.output


def complete(words: str) -> list[str]:
    """What bash completion offers for `words` (the last one being completed)."""
    parts = words.split(" ")
    env = {"_LEAKLINE_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(parts) - 1)}
    result = CliRunner().invoke(main, [], env=env, prog_name="leakline")
    return [line.split(",", 1)[1] for line in result.output.splitlines()]


def test_completion_offers_phases_steps_kinds_categories_and_case_ids(tmp_path, monkeypatch):
    assert complete("leakline phase close INC-2026-0001 ") == [
        "report", "containment", "publication", "prevention", "authorities"]
    assert "ppc_preliminary" in complete("leakline phase close INC-2026-0001 authorities --step ")
    assert complete("leakline report INC-2026-0001 --kind ppc") == ["ppc_preliminary", "ppc_final"]
    assert "misdirected_email" in complete("leakline cases assess INC-2026-0001 --category ")
    # case ids of the configured data_dir
    from leakline.app import App
    from leakline.config import load
    from mailbuilders import plain_mail
    from leakline.store.spool import SpoolEntry

    path = config_file(tmp_path, f'[service]\ndata_dir = "{tmp_path / "data"}"\n')
    app = App(load(path))
    app.prepare()
    app.intake.process(SpoolEntry("t.0", {"spool_id": "t.0", "mail_from": "taro@example.com",
                                          "received_at": "2026-03-05T01:00:00+00:00"},
                                  plain_mail("紛失", "USB", message_id="<c@example.com>")))
    monkeypatch.setenv("LEAKLINE_CONFIG", str(path))
    assert complete("leakline cases show inc") == ["INC-2026-0001"]


# -- serve ------------------------------------------------------------------------------------

def start_serve(path: Path, cwd: Path | None = None):
    env = {**os.environ, "PYTHONPATH": str(WORKTREE)}
    # Unbuffered: communicate() reads the descriptors, not what readline() buffered.
    proc = subprocess.Popen([sys.executable, "-m", "leakline", "--config", str(path), "serve"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env, bufsize=0)
    first = proc.stdout.readline().decode()
    return proc, first


def stop(proc) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    return out.decode(), err.decode()


def serve_config(tmp_path: Path, extra: str = "") -> Path:
    return config_file(tmp_path, f'[service]\ndata_dir = "data"\nlisten = "127.0.0.1:{free_port()}"\n'
                                 '[[managers]]\nname = "PO"\nemail = "po@example.com"\n'
                                 'role = "privacy_officer"\n'
                                 '[[managers]]\nname = "Ext"\nemail = "boss@gmail.com"\nrole = "executive"\n'
                                 + extra)


def test_serve_says_what_it_runs_on_and_refuses_a_second_serve(tmp_path):
    path = serve_config(tmp_path)
    proc, first = start_serve(path, cwd=tmp_path)
    try:
        assert "listening" in first, first
        again = subprocess.run([sys.executable, "-m", "leakline", "--config", str(path), "serve"],
                               capture_output=True, text=True, timeout=60,
                               env={**os.environ, "PYTHONPATH": str(WORKTREE)})
        assert again.returncode == 1
        assert f"already running on {tmp_path / 'data'} (pid {proc.pid}, port " in again.stderr
        assert again.stderr.count("\n") == 1
        holder = json.loads((tmp_path / "data" / "serve.lock").read_text())
        port = int(re.search(r"listening on 127\.0\.0\.1:(\d+) ", first).group(1))
        assert holder == {**holder, "pid": proc.pid, "host": "127.0.0.1", "port": port}
    finally:
        out, err = stop(proc)
    assert f"config: {path}" in out
    assert "manager: PO <po@example.com> (privacy_officer)" in out
    assert f"transport: maildir: outgoing mail is written to {tmp_path / 'data' / 'mail-out'}/" in out
    assert "warning: manager boss@gmail.com is outside organization.domains (example.com)" in err
    assert "po@example.com is outside" not in err


def test_serve_on_built_in_defaults_says_so(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(WORKTREE)}
    env.pop("LEAKLINE_CONFIG", None)
    port = free_port()
    # the built-in port may be taken on a shared machine: a config would change more than we test
    proc = subprocess.Popen([sys.executable, "-c", f"""
import sys
from leakline import config
defaults = list(config.Service.__init__.__defaults__)
defaults[2] = {port}  # data_dir, host, port, ...
config.Service.__init__.__defaults__ = tuple(defaults)
from leakline.cli import main
sys.exit(main(["serve"]))
"""], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=env, bufsize=0)
    first = proc.stdout.readline().decode()
    out, err = stop(proc)
    assert f"listening on 127.0.0.1:{port} " in first, (first, err)
    assert "config: built-in defaults" in out
    assert "(built-in default; set [[managers]])" in out


def test_a_stale_lock_from_a_dead_serve_is_taken_over(tmp_path):
    path = serve_config(tmp_path)
    proc, first = start_serve(path, cwd=tmp_path)
    assert "listening" in first
    proc.kill()  # SIGKILL: the lock file stays, naming a dead pid
    proc.communicate(timeout=30)
    time.sleep(0.2)
    stale = json.loads((tmp_path / "data" / "serve.lock").read_text())
    assert stale["pid"] == proc.pid
    again, first = start_serve(path, cwd=tmp_path)
    try:
        assert "listening" in first, first
        assert json.loads((tmp_path / "data" / "serve.lock").read_text())["pid"] == again.pid
    finally:
        stop(again)


def test_cases_list_warns_of_spooled_mail_only_when_no_serve_holds_the_lock(tmp_path):
    path = serve_config(tmp_path)
    stored = invoke("--config", str(path), "ingest", "-", input=b"Subject: x\n\nhello\n")
    assert stored.exit_code == 0, stored.output
    result = invoke("--config", str(path), "cases", "list")
    assert result.exit_code == 0
    assert "mail is waiting in the spool (1 batch(es)) and no `leakline serve` is running" in result.output
    from leakline.servelock import ServeLock

    lock = ServeLock(tmp_path / "data")
    lock.acquire()  # a serve holds it (in this process: the probe still sees it held)
    try:
        assert "waiting in the spool" not in invoke("--config", str(path), "cases", "list").output
    finally:
        lock.release()
    proc, first = start_serve(path, cwd=tmp_path)
    try:
        assert "listening" in first
        wait_for(lambda: "INC-" in invoke("--config", str(path), "cases", "list").output, timeout=30)
        assert "waiting in the spool" not in invoke("--config", str(path), "cases", "list").output
    finally:
        stop(proc)


def test_ingest_with_a_broken_config_after_the_subcommand_still_exits_75(tmp_path):
    broken = config_file(tmp_path, "[service\n")
    result = invoke("ingest", "-", "--config", str(broken), input=b"Subject: x\n\nhello\n")
    assert result.exit_code == 75 and "not valid TOML" in result.output
