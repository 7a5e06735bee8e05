"""`--org` on the command line, and `leakline org list|export|purge|adopt|log`.

Every command that reads or changes cases, deadlines, the outbox or the audit trail sees one
organisation: `--org ID` (before or after the subcommand), else $LEAKLINE_ORG, else the only
one; with several configured and none named it stops. Its Config is scoped to that
organisation (Config.for_org) for the whole command, so another organisation's case id is
"no such case". The `org` commands are the service's: they name the organisation they act on.
"""

from __future__ import annotations

import functools
import sys
from datetime import datetime, timezone

import click

from leakline.config import Config, OrgScopeError, UnknownOrg


# -- --org ----------------------------------------------------------------------------------------
def _remember_org(ctx: click.Context, param, value: str | None) -> None:
    if value is not None:
        ctx.meta["leakline.org"] = value  # meta is shared by the whole invocation


def late_org_option() -> click.Option:
    return click.Option(["--org", "late_org"], metavar="ID", expose_value=False, is_eager=True,
                        callback=_remember_org,
                        help="The organisation, as `leakline --org` (which it overrides).")


def select_org(config: Config, wanted: str | None) -> Config:
    """`config` scoped to the organisation asked for, or to the only one."""
    if wanted:
        return config.for_org(wanted)
    if len(config.organizations) == 1:
        return config.for_org(config.org.id)
    shown = ", ".join(config.organizations.ids()[:5])
    more = ", …" if len(config.organizations) > 5 else ""
    raise OrgScopeError(f"{len(config.organizations)} organisations are configured ({shown}{more}): "
                        "name one with --org ID or $LEAKLINE_ORG (`leakline org list`)")


def scoped_to_org(callback):
    """Run a command with the Config of its organisation in every context of the invocation."""
    @functools.wraps(callback)
    def run(*args, **kwargs):
        ctx = click.get_current_context()
        config = ctx.find_object(Config)
        if config is not None:
            try:
                scoped = select_org(config, ctx.meta.get("leakline.org"))
            except (UnknownOrg, OrgScopeError) as exc:
                raise click.ClickException(str(exc)) from None
            for level in _chain(ctx):
                level.obj = scoped
        return callback(*args, **kwargs)
    return run


def _chain(ctx: click.Context):
    while ctx is not None:
        yield ctx
        ctx = ctx.parent


# -- ingest ---------------------------------------------------------------------------------------
class NotOurRecipient(LookupError):
    """`ingest` was handed mail for an address no organisation has (exit 67, as a 550)."""


def ingest_recipients(config: Config, given: list[str]) -> tuple[list[str], list[str]]:
    """The envelope recipients of a piped message and the organisations they pick. A
    single-organisation config takes anything (default: its incident address), as before; with
    several, the recipient decides, so the MTA must pass it (${recipient}, or $RECIPIENT)."""
    if not config.org_subtrees:
        return given or [config.org.organization.incident_address], [config.org.id]
    if not given:
        raise RuntimeError("several organisations are configured and the recipient was not given "
                           "(--recipient ${recipient}, or $RECIPIENT): it decides the organisation")
    orgs = list(dict.fromkeys(o for o in map(config.organizations.for_address, given) if o))
    if not orgs:
        raise NotOurRecipient(f"no organisation has the address {', '.join(given)}")
    return given, orgs


# -- leakline org ---------------------------------------------------------------------------------
@click.group()
def org() -> None:
    """The organisations this service answers for: list, export, purge, adopt.

    Example: leakline org list
    """


def _config(ctx: click.Context) -> Config:
    return ctx.find_object(Config)


def _act(ctx: click.Context, action, org_id: str, *args):
    """Run one of leakline.orgadmin's actions on the configured data_dir; its refusal is one line."""
    from leakline.cli_common import require_data
    from leakline.orgadmin import OrgAdminError

    config = _config(ctx)
    require_data(config)
    try:
        return action(config, org_id, *args)
    except OrgAdminError as exc:
        raise click.ClickException(str(exc)) from None


def _actor(ctx: click.Context, by: str | None) -> str:
    return by or _config(ctx).cli.user or "cli"


def _now() -> datetime:
    return datetime.now(timezone.utc)


@org.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_orgs(ctx: click.Context, as_json: bool) -> None:
    """Every configured organisation: id, case prefix, language, Privacy Mark, address, name.

    Example: leakline org list --json
    """
    from leakline.jsonout import echo_json
    from leakline.orgadmin import org_rows, orphaned
    from leakline.output import echo_text

    config = _config(ctx)
    rows = org_rows(config)
    for name in orphaned(config):
        echo_text(f"warning: {config.service.data_dir / 'orgs' / name} holds the data of no "
                  "configured organisation", err=True)
    if as_json:
        echo_json(rows)
        return
    echo_text(f"{'ID':<20} {'PREFIX':<8} {'LANG':<4} {'PMARK':<5} {'DATA':<4} {'INCIDENT ADDRESS':<36} NAME")
    for row in rows:
        echo_text(f"{row['id']:<20} {row['case_prefix']:<8} {row['language']:<4} "
                  f"{'yes' if row['privacy_mark'] else 'no':<5} {'yes' if row['has_data'] else '-':<4} "
                  f"{row['incident_address']:<36} {row['name']}")


@org.command("export")
@click.argument("org_id", metavar="ID")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder to create (must not exist yet, or be empty).")
@click.option("--by", "by", envvar="LEAKLINE_USER", metavar="EMAIL",
              help="Who exports (recorded in the service log; default $LEAKLINE_USER).")
@click.pass_context
def export(ctx: click.Context, org_id: str, out_dir: str, by: str | None) -> None:
    """Copy everything of one organisation into a folder, with a manifest of SHA-256 hashes.

    Example: leakline org export acme --out ./acme-export
    """
    from pathlib import Path

    from leakline.orgadmin import export_org
    from leakline.output import echo_text
    from leakline.servicelog import ServiceLog

    done = _act(ctx, export_org, org_id, Path(out_dir), _now())
    ServiceLog(_config(ctx).service.data_dir).append(
        "org_exported", org_id, _actor(ctx, by), _now(), {"files": done.files, "events": done.events})
    echo_text(f"exported {org_id} to {out_dir}: {done.files} files, {done.cases} cases, "
              f"{done.events} audit events ({'verified' if done.audit_ok else 'NOT VERIFIED: see manifest.json'})")
    if not done.audit_ok:
        ctx.exit(1)


@org.command("purge")
@click.argument("org_id", metavar="ID")
@click.option("--confirm", metavar="ID", required=True,
              help="The id again: everything of this organisation is deleted, for good.")
@click.option("--by", "by", envvar="LEAKLINE_USER", metavar="EMAIL",
              help="Who purges (recorded in the service log; default $LEAKLINE_USER).")
@click.pass_context
def purge(ctx: click.Context, org_id: str, confirm: str, by: str | None) -> None:
    """Delete everything of one organisation (a client that leaves): its cases, raw mail, audit
    chain and outgoing mail. The service log keeps that it was done. `serve` must be stopped.

    Example: leakline org purge acme --confirm acme
    """
    from leakline.orgadmin import purge_org
    from leakline.output import echo_text

    if confirm != org_id:
        raise click.ClickException(f"--confirm {confirm!r} is not {org_id!r}: nothing was deleted")
    config = _config(ctx)
    done = _act(ctx, purge_org, org_id, _actor(ctx, by), _now())
    echo_text(f"purged {org_id}: {done.files} files, {done.outbox} outbox messages, "
              f"{done.maildir} delivered copies in mail-out/")
    if org_id in config.organizations:
        echo_text(f"warning: {org_id} is still configured: new mail to "
                  f"{config.organizations[org_id].organization.incident_address} opens cases again",
                  err=True)


@org.command("adopt")
@click.argument("org_id", metavar="ID")
@click.option("--by", "by", envvar="LEAKLINE_USER", metavar="EMAIL",
              help="Who decides (recorded in the service log; default $LEAKLINE_USER).")
@click.pass_context
def adopt(ctx: click.Context, org_id: str, by: str | None) -> None:
    """Give the cases of a single-organisation data_dir to one of the [[organizations]].

    Its store moves from the root of data_dir into data_dir/orgs/ID/, case ids and audit chain
    unchanged. `serve` must be stopped. Example: leakline org adopt acme
    """
    from leakline.orgadmin import adopt_root_store
    from leakline.output import echo_text

    moved = _act(ctx, adopt_root_store, org_id, _actor(ctx, by), _now())
    echo_text(f"{org_id} adopted the store at the root of {_config(ctx).service.data_dir} "
              f"({', '.join(moved) or 'finished'})")


@org.command("log")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def show_log(ctx: click.Context, as_json: bool) -> None:
    """The service log: organisations adopted, exported and purged; its hash chain is checked.

    Example: leakline org log
    """
    from leakline.jsonout import echo_json
    from leakline.output import echo_text
    from leakline.servicelog import ServiceLog

    log = ServiceLog(_config(ctx).service.data_dir)
    events = list(log.events())
    if as_json:
        echo_json(events, schema=False)
    else:
        for event in events:
            echo_text(f"{event['at']}  #{event['seq']:<4} {event['action']:<14} {event['org']:<20} "
                      f"{event['actor']}")
    check = log.verify()
    if not check.ok:
        echo_text(f"service log BROKEN: {check.reason}", err=True)
        sys.exit(1)
