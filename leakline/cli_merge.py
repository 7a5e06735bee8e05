"""`leakline cases merge`: a thin command over leakline.merge."""

from __future__ import annotations

import click

from leakline.cli_cases import cases
from leakline.cli_common import actor, by_option, case_argument, one_line_errors


@cases.command("merge")
@case_argument
@click.argument("into_id", metavar="INTO_ID")
@by_option
@click.pass_context
def merge(ctx: click.Context, case_id: str, into_id: str, by: str | None) -> None:
    """Merge case CASE_ID into INTO_ID: its messages, facts (by precedence) and threading move,
    and CASE_ID is closed with a pointer to INTO_ID.

    Example: leakline cases merge INC-2026-0002 INC-2026-0001 --by po@example.com
    """
    from leakline.caseref import find_case_id
    from leakline.cli_common import app_for
    from leakline.merge import MergeError, merge_cases

    app = app_for(ctx)
    by = actor(ctx, by)
    prefix = app.config.service.case_prefix
    with one_line_errors():
        from_id, into = find_case_id(app.store, case_id, prefix), find_case_id(app.store, into_id, prefix)
        try:
            merged = merge_cases(app, from_id, into, by=by)
        except MergeError as exc:
            raise click.ClickException(str(exc)) from None
    facts = ", ".join(sorted({c.field for c in merged.changes})) or "none"
    click.echo(f"{from_id} merged into {merged.case['id']}: {len(merged.moved)} message(s) "
               f"moved, facts taken: {facts}; {from_id} is closed")
