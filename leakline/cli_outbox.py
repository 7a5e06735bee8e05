"""`leakline outbox`: look at the outgoing queue and the dead letters, and put one back in line."""

from __future__ import annotations

from datetime import datetime

import click

from leakline.cli_common import complete_case_ids
from leakline.config import Config
from leakline.output import echo_text
from leakline.store.outbox import Outbox, OutboxError

COLUMNS = (("ID", "id"), ("CASE", "case_id"), ("KIND", "kind"), ("TO", "to"),
           ("TRIES", "attempts"), ("WHEN", "when"), ("SUBJECT", "subject"))


def of_org(config: Config, rows: list[dict]) -> list[dict]:
    """The outbox's messages of the organisation `config` is scoped to, each with its `org`."""
    from leakline.orgs import org_of_outbox_item

    mine = config.org.id
    return [{**row, "org": mine} for row in rows
            if org_of_outbox_item(config, row.get("org"), row.get("case_id")) == mine]


def open_outbox(ctx: click.Context) -> tuple[Outbox, Config]:
    from leakline.cli_common import require_data

    config = ctx.find_object(Config)
    if config is None:
        raise click.ClickException("no configuration loaded (run as `leakline outbox ...`)")
    require_data(config)
    from leakline.orgs import service_outbox

    tz = config.service.tz
    return service_outbox(config, lambda: datetime.now(tz)), config


@click.group()
def outbox() -> None:
    """The outgoing mail queue and its dead letters.

    \b
    Example:
        leakline outbox list --failed
    """


@outbox.command("list")
@click.option("--failed", is_flag=True, help="Show dead letters instead of the queue.")
@click.option("--sent", is_flag=True, help="Show what was delivered, to whom and when.")
@click.option("--case", "case_id", metavar="CASE_ID", shell_complete=complete_case_ids,
              help="Only the messages of this case.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array, for scripts.")
@click.pass_context
def list_messages(ctx: click.Context, failed: bool, sent: bool, case_id: str | None,
                  as_json: bool) -> None:
    """List queued messages (next attempt), dead letters (--failed, last error) or delivered
    ones (--sent, when).

    \b
    Example:
        leakline outbox list
        leakline outbox list --sent --case INC-2026-0001
        leakline outbox list --failed --json
    """
    from leakline.jsonout import echo_json

    if failed and sent:
        raise click.UsageError("--failed and --sent: choose one")
    box, config = open_outbox(ctx)
    rows = of_org(config, box.list_sent() if sent else box.list(failed=failed))
    if case_id:
        from leakline.caseref import canonical_id

        wanted = canonical_id(case_id, config.service.case_prefix) or case_id
        rows = [row for row in rows if row.get("case_id") == wanted]
    if as_json:
        echo_json(rows, config.service.tz)
        return
    if not rows:
        what = "No dead letters" if failed else "Nothing sent" if sent else "The outbox queue is empty"
        echo_text(what + (f" for {case_id}." if case_id else "."))
        return
    echo_text(_table(rows, "failed" if failed else "sent" if sent else "queue", config))


WHEN = {"queue": ("next_attempt_at", "NEXT ATTEMPT"), "failed": ("failed_at", "FAILED"),
        "sent": ("sent_at", "SENT")}


def _table(rows: list[dict], folder: str, config: Config) -> str:
    field, title = WHEN[folder]
    cells = []
    for row in rows:
        when = row.get(field)
        shown = dict(row, to=", ".join(row["to"]), case_id=row["case_id"] or "-",
                     when=_short_time(when, config))
        cells.append([str(shown[key]) for _, key in COLUMNS])
    headers = [name if key != "when" else title for name, key in COLUMNS]
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
    box, config = open_outbox(ctx)
    try:
        if not of_org(config, [box.get(message_id) or {}]):  # another organisation's: not here
            raise OutboxError(f"{message_id}: no such message in the outbox")
        row = box.retry(message_id)
    except (OutboxError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    echo_text(f"Queued {row['id']} to {', '.join(row['to'])} for delivery now.")
