"""`leakline purge`: remove personal data of cases closed longer ago than retention_days."""

from __future__ import annotations

import click


@click.command()
@click.option("--dry-run", is_flag=True, help="List what would be purged; change nothing.")
@click.option("--by", "actor", default="system", help="Who runs the purge (for the audit trail).")
@click.pass_context
def purge(ctx: click.Context, dry_run: bool, actor: str) -> None:
    """Remove raw messages and texts of cases closed more than retention_days ago.

    The case record, facts, phases, deadlines and the audit chain are kept.
    Example: leakline purge --dry-run
    """
    from leakline.cli_common import app_for
    from leakline.store.retention import purge_case, purgeable

    app = app_for(ctx)
    due = purgeable(app.store, app.now(), app.config.service.retention_days)
    if not due:
        click.echo(f"nothing to purge (retention {app.config.service.retention_days} days)")
        return
    for case_id in due:
        if dry_run:
            click.echo(f"would purge {case_id}")
            continue
        removed = purge_case(app.store, case_id, actor, outbox=app.outbox)
        click.echo(f"purged {case_id}: {len(removed)} messages")
