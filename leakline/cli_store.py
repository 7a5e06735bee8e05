"""`leakline store check` and `leakline spool list|retry`: the store's health and shunted mail."""

from __future__ import annotations

import sys

import click


@click.group()
def store() -> None:
    """Check the case store and mend what can be rebuilt.

    Example: leakline store check --repair
    """


@store.command("check")
@click.option("--repair", is_flag=True,
              help="Rebuild index shards and sequences; move unreadable case files and the "
                   "key index to quarantine/ with a note (nothing is deleted).")
@click.pass_context
def check_store(ctx: click.Context, repair: bool) -> None:
    """Read every sequence, index shard, case file and the key index; report what is damaged.
    Every organisation's store that has data, or the one `--org` names.

    Exits 1 when damage is left (always without --repair), 0 when the store is sound.
    Example: leakline store check --repair
    """
    from leakline.app import DataDirError, check_layout
    from leakline.cli_common import app_for
    from leakline.orgs import has_data

    app = app_for(ctx, prepare=False)  # a damaged journal stops prepare(); check names it
    config = app.config
    try:
        check_layout(config)
    except DataDirError as exc:
        raise click.ClickException(str(exc)) from None
    wanted = ctx.meta.get("leakline.org")
    try:
        ids = [config.for_org(wanted).org.id] if wanted else \
            [o for o in config.organizations.ids() if has_data(config, o)]
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    damaged = False
    for org_id in ids:
        named = f"{org_id}: " if config.org_subtrees else ""
        damaged |= _check_one(app.tenant(org_id, prepare=False).store, repair, named)
    if damaged:
        sys.exit(1)


def _check_one(store, repair: bool, named: str) -> bool:
    """Check one organisation's store; True while damage is left."""
    from leakline.store.health import check

    report = check(store, repair=repair)
    for line in report.problems:
        click.echo(f"{named}damaged: {line}")
    for line in report.repairs:
        click.echo(f"{named}repaired: {line}")
    if not report.problems:
        click.echo(f"{named}store is sound ({report.files} files checked)")
        return False
    if not repair:
        click.echo(f"{named}run `leakline store check --repair` to rebuild and move aside what is damaged")
        return True
    left = check(store)
    if left.problems:
        for line in left.problems:
            click.echo(f"{named}still damaged: {line}")
        return True
    click.echo(f"{named}store is sound after repair ({left.files} files checked)")
    return False


@click.group()
def spool() -> None:
    """Messages intake could not process (shunted): list them, put them back.

    Example: leakline spool list
    """


@spool.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_shunted(ctx: click.Context, as_json: bool) -> None:
    """Shunted messages, oldest first, with why and how often intake tried them.

    Example: leakline spool list --json
    """
    from leakline.cli_common import app_for
    from leakline.output import echo_json

    rows = app_for(ctx).spool.shunted()
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no shunted messages")
        return
    click.echo(f"{'ID':<40} {'SHUNTED':<26} {'TRIES':>5} {'SIZE':>10}  FROM / REASON")
    for row in rows:
        click.echo(f"{row['id']:<40} {row['shunted_at'] or '-':<26} {row['attempts']:>5} "
                   f"{row['size'] if row['size'] is not None else '-':>10}  "
                   f"{row['mail_from'] or '-'}\n{'':<40} {row['reason'] or ''}")


@spool.command("retry")
@click.argument("shunt_id", required=False)
@click.option("--all", "retry_all", is_flag=True, help="Every shunted message.")
@click.pass_context
def retry_shunted(ctx: click.Context, shunt_id: str | None, retry_all: bool) -> None:
    """Put shunted messages back into the spool; a running `leakline serve` takes them up.

    Example: leakline spool retry --all
    """
    from leakline.cli_common import app_for

    if bool(shunt_id) == retry_all:
        raise click.UsageError("give one shunted message ID or --all")
    app = app_for(ctx)
    ids = [r["id"] for r in app.spool.shunted() if r["retryable"]] if retry_all else [shunt_id]
    for one in ids:
        try:
            spool_id = app.spool.retry(one)
        except LookupError as exc:
            raise click.ClickException(f"{exc.args[0]}; see `leakline spool list`") from None
        click.echo(f"{one}: back in the spool as {spool_id}")
    if not ids:
        click.echo("no shunted messages")
