"""docs/deploy.md and `leakline deploy systemd-unit` (issue 15): the guide's Postfix snippets are
the tested ones, its example configuration loads, its unit is the one the command prints for that
configuration, and systemd reads the unit without a complaint."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from leakline.cli import main
from leakline.config import load
from leakline.deploy import unit_settings

WORKTREE = Path(__file__).resolve().parent.parent
GUIDE = WORKTREE / "docs" / "deploy.md"
GUIDE_CONFIG = "/etc/leakline/leakline.toml"


def fenced_after(marker: str) -> str:
    """The fenced block right after `<!-- marker -->` in the guide."""
    found = re.search(rf"<!-- {marker} -->\n```\w*\n(.*?)```\n", GUIDE.read_text(encoding="utf-8"),
                      re.DOTALL)
    assert found, marker
    return found.group(1)


def unit_for(config: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(config), "deploy", "systemd-unit", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def example(tmp_path) -> Path:
    path = tmp_path / "leakline.toml"
    path.write_text(fenced_after("example-config"), encoding="utf-8")
    return path


def test_the_guide_holds_every_shipped_postfix_snippet():
    done = subprocess.run([sys.executable, "-m", "tests.mta_config", "--check", str(GUIDE)],
                          cwd=WORKTREE, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_readme_links_the_guide():
    assert "docs/deploy.md" in (WORKTREE / "README.md").read_text(encoding="utf-8")


def test_the_guides_configuration_loads_as_it_says(example):
    config = load(example)
    assert config.service.trusted_relays == ()
    assert config.mail.authserv_id == "mx.privacy.example.co.jp"
    assert (config.mail.transport, config.mail.relay_host, config.mail.relay_port) == \
        ("smtp", "10.0.0.10", 10587)  # the outbound listener of the guide's Postfix snippet
    assert "10.0.0.10:10587" in GUIDE.read_text(encoding="utf-8")


def test_the_guides_unit_is_the_one_deploy_prints(example):
    printed = unit_for(example, "--executable", "/usr/local/bin/leakline")
    assert printed.replace(str(example.resolve()), GUIDE_CONFIG) == fenced_after("example-unit")
    settings = unit_settings(printed)
    assert settings["ExecStart"] == [f"/usr/local/bin/leakline --config {example.resolve()} serve"]
    assert settings["ReadWritePaths"] == ["/var/lib/leakline"]
    assert settings["User"] == ["leakline"] and settings["UMask"] == ["0077"]
    assert settings["CapabilityBoundingSet"] == [""] and "AmbientCapabilities" not in settings
    assert "EnvironmentFile" not in settings
    # The scheduled backup of the guide: its unit and its timer.
    backup = unit_for(example, "--executable", "/usr/local/bin/leakline", "--backup-to",
                      "/var/backups/leakline")
    assert backup.replace(str(example.resolve()), GUIDE_CONFIG) == fenced_after("example-backup-unit")
    timer = CliRunner().invoke(main, ["deploy", "systemd-timer", "--on-calendar", "*-*-* 03:00"])
    assert timer.output == fenced_after("example-backup-timer")


def test_a_low_port_gets_only_the_bind_capability_and_a_password_an_environment_file(tmp_path, example):
    text = example.read_text().replace("10.0.0.11:8025", "10.0.0.11:25").replace(
        "[mail]\n", '[mail]\nusername = "leakline"\npassword_env = "LEAKLINE_RELAY_PASSWORD"\n')
    example.write_text(text)
    settings = unit_settings(unit_for(example, "--executable", "/opt/leakline/bin/leakline",
                                      "--user", "intake"))
    assert settings["CapabilityBoundingSet"] == ["CAP_NET_BIND_SERVICE"]
    assert settings["AmbientCapabilities"] == ["CAP_NET_BIND_SERVICE"]
    assert settings["EnvironmentFile"] == [str(tmp_path.resolve() / "leakline.env")]
    assert settings["User"] == ["intake"] and settings["Group"] == ["intake"]
    assert "LEAKLINE_RELAY_PASSWORD" not in "".join(settings["ExecStart"])


def test_a_unit_needs_a_config_file_and_an_absolute_program(example, tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")  # no ./leakline.toml: the built-in defaults
    monkeypatch.delenv("LEAKLINE_CONFIG", raising=False)
    result = CliRunner().invoke(main, ["deploy", "systemd-unit"])
    assert result.exit_code == 1 and "give --config PATH" in result.output
    result = CliRunner().invoke(main, ["--config", str(example), "deploy", "systemd-unit",
                                       "--executable", "bin/leakline"])
    assert result.exit_code == 1 and "absolute path" in result.output


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_reads_the_unit_without_a_complaint(tmp_path, example):
    # The executable must exist for `verify`; the user is the one running the test (root here).
    import getpass

    unit = tmp_path / "leakline.service"
    unit.write_text(unit_for(example, "--executable", sys.executable, "--user", getpass.getuser()))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                          timeout=120)
    complaints = [line for line in done.stderr.splitlines() if str(unit) in line]
    assert done.returncode == 0 and complaints == [], done.stderr
    # The check can fail: a misspelt key is a complaint.
    unit.write_text(unit.read_text().replace("ProtectSystem=", "ProtectSystm="))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                          timeout=120)
    assert any("ProtectSystm" in line for line in done.stderr.splitlines())


def test_the_guides_backup_check_passes_a_sound_copy_and_names_a_damaged_file(tmp_path):
    from test_cli_process import make_env

    path, app, case_id = make_env(tmp_path)
    taken = CliRunner().invoke(main, ["--config", str(path), "backup", str(tmp_path / "b")])
    assert taken.exit_code == 0, taken.output
    copy = tmp_path / "b" / "data"
    check = fenced_after("check-backup")

    def run_check() -> subprocess.CompletedProcess:
        return subprocess.run(["sh", "-c", check], cwd=copy, capture_output=True, text=True,
                              timeout=60)

    done = run_check()
    assert (done.returncode, done.stdout) == (0, "ok\n"), done.stderr
    (case_file,) = copy.glob(f"cases/*/*/{case_id}.json")
    case_file.write_bytes(case_file.read_bytes() + b" ")
    (raw, *_) = [p for p in copy.rglob("*") if p.is_file() and p != case_file]
    raw.unlink()
    done = run_check()
    assert done.returncode == 1
    assert sorted(done.stdout.split()) == sorted([str(case_file.relative_to(copy)),
                                                  str(raw.relative_to(copy))])


def systemd_unescaped(exec_start: str) -> str:
    """What systemd runs of an ExecStart= line: `$$` is `$`, `%%` is `%` (systemd.service(5),
    systemd.unit(5)); the test then runs it with the shell, as systemd would."""
    return exec_start.replace("$$", "$").replace("%%", "%")


def test_the_backup_unit_takes_a_verified_backup_into_a_new_folder_each_run(tmp_path):
    import shlex

    from test_cli_process import make_env

    path, app, case_id = make_env(tmp_path)
    backups = tmp_path / "backups"
    backups.mkdir()
    # The program: a script running this worktree's leakline with this venv's Python.
    program = tmp_path / "leakline-program"
    program.write_text(f"#!/bin/sh\nPYTHONPATH={WORKTREE} exec {sys.executable} -m leakline \"$@\"\n")
    program.chmod(0o755)
    unit = unit_for(path, "--backup-to", str(backups), "--executable", str(program))
    settings = unit_settings(unit)
    assert settings["Type"] == ["oneshot"] and settings["UMask"] == ["0077"]
    assert settings["ReadWritePaths"] == [f"{tmp_path / 'data'} {backups}"]
    (exec_start,) = settings["ExecStart"]
    done = subprocess.run(shlex.split(systemd_unescaped(exec_start)), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    (taken,) = backups.iterdir()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d{6}", taken.name)
    assert json.loads((taken / "manifest.json").read_text())["verified"] is True


def test_the_backup_unit_refuses_a_folder_it_cannot_name_safely(example):
    for bad, said in (("backups", "absolute path"), ("/var/lib/leakline/b", "inside data_dir"),
                      ("/var/backups/my backups", "spaces")):
        result = CliRunner().invoke(main, ["--config", str(example), "deploy", "systemd-unit",
                                           "--backup-to", bad, "--executable", "/usr/bin/leakline"])
        assert result.exit_code == 1 and said in result.output, (bad, result.output)


def test_the_timer_starts_the_backup_on_its_calendar():
    result = CliRunner().invoke(main, ["deploy", "systemd-timer", "--on-calendar", "*-*-* 03:00"])
    assert result.exit_code == 0, result.output
    settings = unit_settings(result.output)
    assert settings["OnCalendar"] == ["*-*-* 03:00"] and settings["Persistent"] == ["true"]
    assert settings["WantedBy"] == ["timers.target"]
    bad = CliRunner().invoke(main, ["deploy", "systemd-timer", "--on-calendar", " "])
    assert bad.exit_code == 1 and "calendar" in bad.output


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_reads_the_backup_unit_and_its_timer_without_a_complaint(tmp_path, example):
    import getpass

    backups = tmp_path / "backups"
    backups.mkdir()
    service = tmp_path / "leakline-backup.service"
    service.write_text(unit_for(example, "--backup-to", str(backups), "--executable", sys.executable,
                                "--user", getpass.getuser()))
    timer = tmp_path / "leakline-backup.timer"
    timer.write_text(CliRunner().invoke(main, ["deploy", "systemd-timer"]).output)
    done = subprocess.run(["systemd-analyze", "verify", str(service), str(timer)],
                          capture_output=True, text=True, timeout=120)
    complaints = [line for line in done.stderr.splitlines() if str(tmp_path) in line]
    assert done.returncode == 0 and complaints == [], done.stderr
    (when,) = unit_settings(timer.read_text())["OnCalendar"]
    calendar = subprocess.run(["systemd-analyze", "calendar", when], capture_output=True,
                              text=True, timeout=60)
    assert calendar.returncode == 0, calendar.stderr
    wrong = subprocess.run(["systemd-analyze", "calendar", "dayly"], capture_output=True,
                           text=True, timeout=60)
    assert wrong.returncode != 0  # the check can fail
