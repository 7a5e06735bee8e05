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

    Exits 1 when damage is left (always without --repair), 0 when the store is sound.
    Example: leakline store check --repair
    """
    from leakline.cli import app_for
    from store.health import check

    app = app_for(ctx, prepare=False)  # a damaged journal stops prepare(); check names it
    report = check(app.store, repair=repair)
    for line in report.problems:
        click.echo(f"damaged: {line}")
    for line in report.repairs:
        click.echo(f"repaired: {line}")
    if not report.problems:
        click.echo(f"store is sound ({report.files} files checked)")
        return
    if not repair:
        click.echo("run `leakline store check --repair` to rebuild and move aside what is damaged")
        sys.exit(1)
    left = check(app.store)
    if left.problems:
        for line in left.problems:
            click.echo(f"still damaged: {line}")
        sys.exit(1)
    click.echo(f"store is sound after repair ({left.files} files checked)")


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
    from leakline.cli import app_for
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
    from leakline.cli import app_for

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
