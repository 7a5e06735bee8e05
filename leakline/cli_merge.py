"""`leakline cases merge`: a thin command over leakline.merge."""

from __future__ import annotations

import click

from leakline.cli_cases import cases


def _actor(value: str) -> str:
    actor = (value or "").strip().lower()
    if "@" not in actor or any(c in actor for c in " \r\n<>,"):
        raise click.ClickException(f"--by: not an email address: {actor!r}")
    return actor


@cases.command("merge")
@click.argument("from_id", metavar="FROM_ID")
@click.argument("into_id", metavar="INTO_ID")
@click.option("--by", required=True, envvar="LEAKLINE_USER", metavar="EMAIL",
              help="Who merges (recorded on both cases); default $LEAKLINE_USER.")
@click.pass_context
def merge(ctx: click.Context, from_id: str, into_id: str, by: str) -> None:
    """Merge case FROM_ID into INTO_ID: its messages, facts (by precedence) and threading move,
    and FROM_ID is closed with a pointer to INTO_ID.

    Example: leakline cases merge INC-2026-0002 INC-2026-0001 --by po@example.com
    """
    from leakline.cli import app_for
    from leakline.merge import MergeError, merge_cases

    try:
        merged = merge_cases(app_for(ctx), from_id.strip().upper(), into_id.strip().upper(),
                             by=_actor(by))
    except MergeError as exc:
        raise click.ClickException(str(exc)) from None
    facts = ", ".join(sorted({c.field for c in merged.changes})) or "none"
    click.echo(f"{from_id.upper()} merged into {merged.case['id']}: {len(merged.moved)} message(s) "
               f"moved, facts taken: {facts}; {from_id.upper()} is closed")
