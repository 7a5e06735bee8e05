"""The CLI through click's runner: config handling, init, cases list/show, help texts."""

import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from leakline.app import App
from leakline.cli import main
from leakline.store.spool import SpoolEntry
from mailbuilders import iso2022jp_mail, plain_mail


def invoke(*args, env=None, input=None):
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def write_config(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def store_report(app, raw, envelope=None):
    envelope = envelope or {"mail_from": "taro@example.com", "rcpt_tos": ["incident@example.com"],
                            "received_at": "2026-11-26T01:00:00+00:00"}
    return app.intake.process(SpoolEntry("test.0", dict(envelope, spool_id="test.0"), raw))


def test_init_writes_commented_sample_and_refuses_to_overwrite(tmp_path):
    target = tmp_path / "leakline.toml"
    assert invoke("init", str(target)).exit_code == 0
    text = target.read_text(encoding="utf-8")
    for key in ("data_dir", "listen", "timezone", "max_message_bytes", "case_prefix", "tls_cert",
                "incident_address", "domains", "language", "privacy_mark", "[[managers]]",
                "covers", "transport", "relay_host", "password_env"):
        assert key in text
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    again = invoke("init", str(target))
    assert again.exit_code == 1 and "not overwriting" in again.output
    # the sample is itself a valid configuration; its relative data_dir is beside the file
    from leakline.config import load

    assert load(target).service.data_dir == tmp_path / "leakline-data"
    (tmp_path / "leakline-data").mkdir(mode=0o700)
    assert invoke("--config", str(target), "cases", "list").exit_code == 0


@pytest.mark.parametrize("text, key", [
    ('[service]\nlisten = "nohost"\n', "service.listen"),
    ('[service]\ntimezone = "Mars/Base"\n', "service.timezone"),
    ('[service]\nmax_message_bytes = "big"\n', "service.max_message_bytes"),
    ('[organization]\nlanguage = "fr"\n', "organization.language"),
    ('[organization]\nincident_address = "nobody"\n', "organization.incident_address"),
    ('[[managers]]\nemail = "a@example.com"\nrole = "boss"\n', "managers[0].role"),
    ('[[managers]]\nrole = "executive"\n', "managers[0].email"),
    ('[mail]\ntransport = "pigeon"\n', "mail.transport"),
    ('[mail]\npassword = "hunter2"\n', "mail.password"),
    ('[service]\ncolour = "blue"\n', "service.colour"),
    ('[service\n', "not valid TOML"),
])
def test_bad_config_is_one_line_naming_the_key(tmp_path, text, key):
    path = write_config(tmp_path / "c.toml", text)
    result = invoke("--config", path, "cases", "list")
    assert result.exit_code == 1
    assert key in result.output
    assert "Traceback" not in result.output and result.output.count("\n") == 1


def test_config_from_environment_variable(tmp_path, monkeypatch):
    path = write_config(tmp_path / "c.toml", f'[service]\ndata_dir = "{tmp_path / "envdata"}"\n')
    monkeypatch.chdir(tmp_path)
    # issue 12: a read-only command names the data_dir it looked for (and creates nothing)
    result = invoke("cases", "list", env={"LEAKLINE_CONFIG": path})
    assert result.exit_code == 1 and str(tmp_path / "envdata") in result.output
    (tmp_path / "envdata").mkdir(mode=0o700)
    assert invoke("cases", "list", env={"LEAKLINE_CONFIG": path}).exit_code == 0


def test_built_in_defaults_work_with_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEAKLINE_CONFIG", raising=False)
    # issue 12: `cases list` no longer creates ./leakline-data; ingest (like serve) does
    assert invoke("ingest", "-", input=b"Subject: x\n\nhello\n").exit_code == 0
    result = invoke("cases", "list")
    assert result.exit_code == 0 and "no open cases" in result.output
    assert oct((tmp_path / "leakline-data").stat().st_mode & 0o777) == "0o700"


@pytest.fixture
def cli_config(tmp_path):
    data = tmp_path / "data"
    return write_config(tmp_path / "c.toml", f'[service]\ndata_dir = "{data}"\n'
                        '[organization]\nincident_address = "incident@example.com"\n')


def test_cases_list_and_show_json(cli_config):
    from leakline.config import load

    app = App(load(cli_config))
    app.prepare()
    first = store_report(app, iso2022jp_mail("①誤送信", "㈱髙橋様の名簿", message_id="<c1@example.com>"))
    store_report(app, plain_mail("紛失", "USB", message_id="<c2@example.com>"))
    listed = json.loads(invoke("--config", cli_config, "cases", "list", "--json").output)
    assert [c["subject"] for c in listed] == ["紛失", "①誤送信"]
    for row in listed:
        assert set(row) >= {"id", "status", "reporter", "subject", "received_at"}
        assert row["received_at"].endswith("+09:00")
    shown = json.loads(invoke("--config", cli_config, "cases", "show", first.case["id"], "--json").output)
    (message,) = shown["messages"]
    assert message["text"] == "㈱髙橋様の名簿"
    assert message["direction"] == "in" and message["message_id"] == "<c1@example.com>"
    assert set(message) >= {"message_id", "from", "subject", "received_at", "direction", "text"}
    human = invoke("--config", cli_config, "cases", "show", first.case["id"], "--full").output
    assert "㈱髙橋様の名簿" in human and first.case["id"] in human  # issue 12: bodies with --full
    table = invoke("--config", cli_config, "cases", "list").output
    assert "①誤送信" in table and "CASE" in table
    assert json.loads(invoke("--config", cli_config, "cases", "list", "--status", "closed",
                             "--json").output) == []


def test_unknown_case_is_an_error_exit_1(cli_config):
    from pathlib import Path

    Path(cli_config).with_name("data").mkdir(mode=0o700)
    result = invoke("--config", cli_config, "cases", "show", "INC-2026-9999")
    # issue 12: the message says where the ids are
    assert result.exit_code == 1 and "no such case INC-2026-9999; `leakline cases list` shows the ids" \
        in result.output
    result = invoke("--config", cli_config, "cases", "show", "nonsense")
    assert result.exit_code == 1 and "no such case nonsense" in result.output


def _commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))


def test_every_command_has_help_with_an_example():
    for path, command in _commands(main):
        assert command.help, f"{' '.join(path)} has no help"
        assert "Example" in command.help or "example" in command.help, f"{' '.join(path)}: no example"
        result = invoke(*path, "--help")
        assert result.exit_code == 0


def test_leakline_help_runs_as_a_console_script():
    out = subprocess.run([sys.executable, "-m", "leakline", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "serve" in out.stdout


def test_shunted_messages_are_announced(cli_config):
    from leakline.config import load

    app = App(load(cli_config))
    app.prepare()
    entry = SpoolEntry("s.0", {"spool_id": "s.0", "mail_from": "a@example.com"}, b"raw")
    app.spool.shunt_entry(entry, "test: intake kept failing")
    result = CliRunner().invoke(main, ["--config", cli_config, "cases", "list"])
    assert result.exit_code == 0
    assert "1 message(s) could not be processed" in result.output
