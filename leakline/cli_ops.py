"""What an operator runs: `leakline status`, `leakline backup PATH`, `leakline deploy ...`.

Thin over leakline/status.py, leakline/backup.py and leakline/deploy.py; all three are the
service's (no --org).
"""

from __future__ import annotations

import shutil
import sys
from datetime import timedelta

import click

from leakline.config import Config

OPS_COMMANDS = ("status", "backup", "deploy")


def _config(ctx: click.Context) -> Config:
    from leakline.cli_common import require_data
    from leakline.node import owner_refusal

    config = ctx.find_object(Config)
    require_data(config)
    refusal = owner_refusal(config)
    if refusal:
        raise click.ClickException(refusal)
    return config


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object (docs/CONTRACTS.md).")
@click.option("--backlog-minutes", default=10, show_default=True, type=click.IntRange(min=0),
              help="Mail waiting longer than this (in the spool, or due in the outbox) needs "
                   "attention.")
@click.option("--min-free-percent", default=5.0, show_default=True,
              type=click.FloatRange(min=0, max=100),
              help="Less free space than this on data_dir's disk needs attention.")
@click.pass_context
def status(ctx: click.Context, as_json: bool, backlog_minutes: int, min_free_percent: float) -> None:
    """Whether this node serves, and what needs a person: exit 1 when anything does.

    Listening (the serve lock's process and its port), node id, spool backlog and shunted mail,
    work waiting in the database, the outbox (queued, deferred, dead letters, left sending),
    overdue deadlines and escalations, the store's quick check, free disk space and the last
    error serve logged. For monitoring: exit 0 all is well, 1 something needs attention (or
    status could not look).

    Example: leakline status --json
    """
    from leakline.jsonout import echo_json
    from leakline.status import Options, service_status

    config = _config(ctx)
    try:
        found = service_status(config, options=Options(backlog=timedelta(minutes=backlog_minutes),
                                                          min_free_percent=min_free_percent))
    except (ValueError, NotImplementedError) as exc:  # a backend status cannot read yet
        raise click.ClickException(str(exc)) from None
    if as_json:
        echo_json(found, config.service.tz)
    else:
        _print_status(found, config)
    if not found["ok"]:
        sys.exit(1)


def _print_status(found: dict, config: Config) -> None:
    from leakline.jsonout import in_zone
    from leakline.output import Painted, echo_text

    tz = config.service.tz
    heard, spooled, out, late = found["listening"], found["spool"], found["outbox"], found["deadlines"]
    verdict = Painted("ok", fg="green") if found["ok"] else \
        Painted(f"ATTENTION ({len(found['attention'])})", fg="red", bold=True)
    echo_text("leakline status: ", verdict)
    rows = [
        ("node", found["node"]["id"]),
        ("listening", f"yes, {heard['host']}:{heard['port']} (pid {heard['pid']}, since "
                      f"{in_zone(heard['since'], tz)})" if heard["ok"] else f"NO: {heard['error']}"),
        ("spool", f"{spooled['waiting']} segment(s) waiting"
                  + (f", the oldest {spooled['oldest_age_seconds']:.0f} s" if spooled["waiting"] else "")
                  + f"; {spooled['shunted']} shunted"),
        ("database", found["database"]["note"] if found["database"]["waiting"] is None
         else f"{found['database']['waiting']} message(s) waiting"),
        ("outbox", f"{out['queued']} queued ({out['deferred']} deferred), {out['dead_letters']} "
                   f"dead letter(s), {out['sending']} left sending"
                   + "".join(f"; {o['org'] or 'no organisation'}: {o['dead_letters']} dead"
                             for o in out["orgs"] if o["dead_letters"] and config.orgs is not None)),
        ("deadlines", f"{late['overdue']} open case(s) overdue, {late['unacknowledged']} "
                      "not acknowledged in time"
                      + "".join(f"; {o['org']}: {o['overdue']} of {o['open']} open"
                                for o in late["orgs"] if len(late["orgs"]) > 1)),
        ("store", "sound" if found["store"]["ok"] else
         f"{len(found['store']['problems'])} problem(s)"),
        ("disk", f"{found['disk']['free_percent']} % free "
                 f"({found['disk']['free_bytes'] / 1e9:.1f} GB)"),
        ("last error", _last_error_line(found["last_error"], tz)),
    ]
    for name, value in rows:
        echo_text(f"  {name:<11} {value}")
    for need in found["attention"]:
        echo_text("  ", Painted("! ", fg="red", bold=True), need["message"])


def _last_error_line(entry: dict | None, tz) -> str:
    from leakline.jsonout import in_zone

    if not entry:
        return "none"
    return f"{in_zone(entry.get('at'), tz)} {entry.get('process')}: {entry.get('message')}"


@click.command()
@click.argument("path", type=click.Path())
@click.pass_context
def backup(ctx: click.Context, path: str) -> None:
    """A consistent, private (0700) and verified copy of the file store into PATH.

    Taken under the data lock while serve runs (intake waits, the listener keeps taking mail);
    PATH must be new or empty and outside data_dir. PATH/data is the copy, PATH/manifest.json
    the SHA-256 of every file and whether each audit chain verified. Restore: stop serve, copy
    PATH/data back as data_dir, run `leakline store check`, start serve. A PostgreSQL store is
    backed up with pg_dump instead. Exits 1 when the copy did not verify.

    Example: leakline backup /var/backups/leakline/2026-12-01
    """
    from datetime import datetime, timezone
    from pathlib import Path

    from leakline.backup import BackupError
    from leakline.backup import backup as take_backup

    config = _config(ctx)
    try:
        done = take_backup(config, Path(path), datetime.now(timezone.utc))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backed up {done.files} files ({done.bytes / 1e6:.1f} MB) to {done.path}/data")
    for checked in done.stores:
        audit, cases = checked["audit"], checked["cases"]
        where = "" if checked["store"] == "." else f"{checked['store']}: "
        if audit["ok"] and cases["ok"]:
            click.echo(f"  {where}audit chain verified ({audit['events']} events, "
                       f"{cases['cases']} case files)")
        else:
            problems = [audit["reason"]] if audit["reason"] else list(cases["problems"] or [])
            more = " (more in manifest.json)" if len(problems) > 3 else ""
            click.echo(f"  {where}DID NOT VERIFY: {'; '.join(problems[:3])}{more}")
    click.echo(f"manifest: {done.path}/manifest.json")
    if not done.verified:
        sys.exit(1)


@click.group()
def deploy() -> None:
    """Files to deploy leakline with, made from the configuration (docs/deploy.md).

    Example: leakline --config /etc/leakline/leakline.toml deploy systemd-unit
    """


@deploy.command("systemd-unit")
@click.option("--user", default="leakline", show_default=True,
              help="The dedicated user serve runs as (it owns data_dir).")
@click.option("--executable", default=None, metavar="PATH",
              help="The leakline program (default: the one on $PATH, else /usr/local/bin/leakline).")
@click.option("--backup-to", default=None, metavar="DIR",
              help="Print instead the oneshot unit that backs the file store up into a new "
                   "folder of DIR (leakline-backup.service; its timer: deploy systemd-timer).")
@click.pass_context
def systemd_unit(ctx: click.Context, user: str, executable: str | None, backup_to: str | None) -> None:
    """Print the systemd unit of `leakline serve` for this configuration.

    ExecStart names the config file, ReadWritePaths its data_dir; the service is hardened
    (ProtectSystem=strict, no capabilities unless the port is below 1024, ...).

    Example: leakline deploy systemd-unit > /etc/systemd/system/leakline.service
    """
    from leakline.deploy import DeployError, backup_unit
    from leakline.deploy import systemd_unit as make_unit

    config = ctx.find_object(Config)
    program = executable or shutil.which("leakline") or "/usr/local/bin/leakline"
    try:
        if backup_to is not None:
            click.echo(backup_unit(config, executable=program, target=backup_to, user=user), nl=False)
        else:
            click.echo(make_unit(config, executable=program, user=user), nl=False)
    except DeployError as exc:
        raise click.ClickException(str(exc)) from None


@deploy.command("systemd-timer")
@click.option("--on-calendar", default="daily", show_default=True, metavar="WHEN",
              help="When to back up: a systemd calendar expression (systemd.time(7)).")
def systemd_timer(on_calendar: str) -> None:
    """Print the timer that starts leakline-backup.service (deploy systemd-unit --backup-to).

    Example: leakline deploy systemd-timer --on-calendar '*-*-* 03:00' > /etc/systemd/system/leakline-backup.timer
    """
    from leakline.deploy import DeployError, backup_timer

    try:
        click.echo(backup_timer(on_calendar), nl=False)
    except DeployError as exc:
        raise click.ClickException(str(exc)) from None


def register(group: click.Group) -> None:
    for command in (status, backup, deploy):
        group.add_command(command)
