"""`leakline outbox`: look at the outgoing queue and the dead letters, and put one back in line."""

from __future__ import annotations

import json
from datetime import datetime

import click

from leakline.config import Config
from store.files import DataLock
from store.outbox import Outbox, OutboxError

COLUMNS = (("ID", "id"), ("CASE", "case_id"), ("KIND", "kind"), ("TO", "to"),
           ("TRIES", "attempts"), ("WHEN", "when"), ("SUBJECT", "subject"))


def open_outbox(ctx: click.Context) -> tuple[Outbox, Config]:
    config = ctx.find_object(Config)
    if config is None:
        raise click.ClickException("no configuration loaded (run as `leakline outbox ...`)")
    data_dir = config.service.data_dir
    tz = config.service.tz
    return Outbox(data_dir, DataLock(data_dir / ".lock"), lambda: datetime.now(tz)), config


@click.group()
def outbox() -> None:
    """The outgoing mail queue and its dead letters.

    \b
    Example:
        leakline outbox list --failed
    """


@outbox.command("list")
@click.option("--failed", is_flag=True, help="Show dead letters instead of the queue.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts.")
@click.pass_context
def list_messages(ctx: click.Context, failed: bool, as_json: bool) -> None:
    """List queued messages (next attempt) or, with --failed, dead letters (last error).

    \b
    Example:
        leakline outbox list
        leakline outbox list --failed --json
    """
    box, config = open_outbox(ctx)
    rows = box.list(failed=failed)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo("No dead letters." if failed else "The outbox queue is empty.")
        return
    click.echo(_table(rows, failed, config))


def _table(rows: list[dict], failed: bool, config: Config) -> str:
    cells = []
    for row in rows:
        when = row.get("failed_at") if failed else row["next_attempt_at"]
        shown = dict(row, to=", ".join(row["to"]), case_id=row["case_id"] or "-",
                     when=_short_time(when, config))
        cells.append([str(shown[key]) for _, key in COLUMNS])
    headers = [title if key != "when" else ("FAILED" if failed else "NEXT ATTEMPT")
               for title, key in COLUMNS]
    # Every column but the last (the subject, often Japanese) is padded; ASCII widths suffice.
    widths = [max(len(r[i]) for r in [headers, *cells]) for i in range(len(COLUMNS) - 1)]
    lines = []
    for i, line in enumerate([headers, *cells]):
        lines.append("  ".join([c.ljust(w) for c, w in zip(line, widths)] + [line[-1]]).rstrip())
        error = rows[i - 1]["last_error"] if i else None
        if error:
            lines.append(f"    last error: {error}")
    return "\n".join(lines)


def _short_time(value: str | None, config: Config) -> str:
    if not value:
        return "-"
    return datetime.fromisoformat(value).astimezone(config.service.tz).strftime("%Y-%m-%d %H:%M")


@outbox.command("retry")
@click.argument("message_id")
@click.pass_context
def retry(ctx: click.Context, message_id: str) -> None:
    """Queue a dead letter (or a waiting message) for delivery now.

    The running service picks it up within half a minute.

    \b
    Example:
        leakline outbox retry '<20261126180300.1234@example.com>'
    """
    box, _ = open_outbox(ctx)
    try:
        row = box.retry(message_id)
    except (OutboxError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Queued {row['id']} to {', '.join(row['to'])} for delivery now.")
