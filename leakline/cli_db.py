"""`leakline db`: the shared database of `[store] backend = "postgresql"`: make and migrate its
schema (`upgrade`), move a service's data between the file store and a database (`copy`)."""

from __future__ import annotations

import click

from leakline.config import Config


@click.group()
def db() -> None:
    """The PostgreSQL store: its schema, and moving data in and out.

    \b
    Example:
        leakline db upgrade
        leakline db copy --from /var/lib/leakline --to postgresql://leakline@db1/leakline
    """


def _configured_database(ctx: click.Context):
    from leakline.backend import shared_database

    config = ctx.find_object(Config)
    database = shared_database(config)
    if database is None:
        raise click.ClickException('this configuration keeps its data in files: set [store] '
                                   'backend = "postgresql" and url (see docs/deploy.md)')
    return database


@db.command("upgrade")
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Create the schema, or migrate it to the one this leakline needs (every node's release
    refuses to run on another). Safe to run on several nodes at once; refuses a newer schema.

    Example: leakline db upgrade
    """
    from leakline.store.pg.schema import latest, upgrade as apply

    database = _configured_database(ctx)
    applied = apply(database)
    if not applied:
        click.echo(f"schema is up to date (version {latest()}) in {database.url}")
        return
    names = ", ".join(f"{m.version:04d} {m.name}" for m in applied)
    click.echo(f"schema upgraded to version {applied[-1].version} in {database.url} ({names})")


@db.command("copy")
@click.option("--from", "source", required=True, metavar="DATA_DIR_OR_URL",
              help="A data_dir of the file store, or postgresql://... of a database.")
@click.option("--to", "target", required=True, metavar="URL_OR_DATA_DIR",
              help="An empty database (schema upgraded), or an empty folder.")
@click.option("--password-env", metavar="NAME",
              help="The environment variable with the database's password (default: "
                   "[store] password_env; libpq's PGPASSWORD and ~/.pgpass work too).")
@click.pass_context
def copy(ctx: click.Context, source: str, target: str, password_env: str | None) -> None:
    """Copy every organisation, case, message, raw message, key, outbox entry, machine mail and
    audit event from the file store to a database, or back; then verify the copy (counts,
    SHA-256 of every document and message, the audit chain of every organisation). Stop
    `leakline serve` first.

    Example: leakline db copy --from ./leakline-data --to postgresql://leakline@db1:5432/leakline
    """
    from leakline.dbcopy import CopyError, copy_store

    config = ctx.find_object(Config)
    env = password_env if password_env is not None else config.store.password_env
    try:
        report = copy_store(config, source, target, env, progress=_progress)
    except CopyError as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        ctx.exit(1)


def _progress(items, total: int, label: str):
    return click.progressbar(items, length=total, label=label, file=click.get_text_stream("stderr"))
