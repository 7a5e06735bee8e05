"""`leakline cases ...`: list and read cases."""

from __future__ import annotations

import click

from leakline.cli_common import case_argument, default_actor, one_line_errors, with_org
from leakline.jsonout import echo_json, public_case  # noqa: F401  (cli_audit imports them here)
from leakline.output import Painted, colour_wanted, echo_text


def load_case(app, case_id: str) -> dict:
    """The case for an id as typed (`inc-2026-2`), with today's step ids."""
    from leakline.caseref import find_case_id
    from leakline.process import migrate

    with one_line_errors():
        return migrate(app.store.get(find_case_id(app.store, case_id, app.config.service.case_prefix)))


def _cell(value, width: int) -> str:
    text = " ".join(str(value or "-").split())
    return text if len(text) <= width else text[: width - 1] + "…"


@click.group()
def cases() -> None:
    """List, read and act on cases.

    Example: leakline cases list --status open
    """


def _warnings(app) -> None:
    from leakline.orgs import shunted_for

    shunted = shunted_for(app.config, app.spool.shunted())
    if shunted:
        # Evidence that intake could not process: never dropped, but it needs a person.
        echo_text(f"warning: {len(shunted)} message(s) could not be processed; they are kept in "
                  f"{app.spool.shunt} (see `leakline spool list`)", err=True)
    waiting = app.spool.segments()
    if waiting:
        from leakline.servelock import ServeLock

        if ServeLock(app.data_dir).holder() is None:
            echo_text(f"warning: mail is waiting in the spool ({len(waiting)} batch(es)) and no "
                      f"`leakline serve` is running on {app.data_dir}: start it to make cases of it",
                      err=True)


@cases.command("list")
@click.option("--status", type=click.Choice(["open", "closed", "all"]), default="open",
              show_default=True)
@click.option("--unacked", is_flag=True, help="Only cases no manager acknowledged.")
@click.option("--reportable", is_flag=True,
              help="Only cases whose report to the PPC is required or undetermined.")
@click.option("--overdue", is_flag=True, help="Only cases with a deadline past its due date.")
@click.option("--updated", is_flag=True, help="Only cases with mail since an officer last acted.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--machine", is_flag=True,
              help="List machine mail kept apart instead (auto-replies, list mail, read receipts, "
                   "our own mail come back) that belongs to no case.")
@click.pass_context
def list_cases(ctx: click.Context, status: str, unacked: bool, reportable: bool, overdue: bool,
               updated: bool, as_json: bool, machine: bool) -> None:
    """List cases, newest first: ack state, PPC report (yes, ?, no) and the next due date.

    Example: leakline cases list --unacked --reportable
    """
    from leakline.cli_common import app_for
    from leakline.listing import matches, row_for_listing

    app = app_for(ctx)
    if machine:
        list_machine_mail(app, as_json)
        return
    now, tz = app.now(), app.config.service.tz
    rows = [row_for_listing(row, app.store, now=now, tz=tz) for row in app.store.summaries(status)]
    rows = [row for row in reversed(rows)
            if matches(row, unacked=unacked, reportable=reportable, overdue=overdue, updated=updated)]
    _warnings(app)
    if as_json:
        echo_json(with_org(rows, app.config), tz)
        return
    if not rows:
        filtered = unacked or reportable or overdue or updated
        echo_text(f"no {'matching ' if filtered else ''}{status + ' ' if status != 'all' else ''}cases")
        return
    _table(rows, tz)


def _table(rows: list[dict], tz) -> None:
    from leakline.dashboard import left, when

    colour = colour_wanted()
    echo_text(f"{'CASE':<16} {'STATUS':<7} {'ACK':<4} {'PPC':<4} {'NEXT DUE':<28} {'RECEIVED':<21} "
              f"{'REPORTER':<26} SUBJECT")
    for row in rows:
        ppc = {True: "yes", False: "no", None: "?"}[row["reportable"]]
        due = f"{str(row['next_due'])[:10]} {left(row['days_left'])}" if row["next_due"] else "-"
        mark = "*" if row["updated"] else ""
        echo_text(f"{row['id'] + mark:<16} {row['status']:<7} ",
                  Painted(f"{'yes' if row['acked'] else 'NO':<4}", fg=None if row["acked"] else "red"),
                  f" {ppc:<4} ",
                  Painted(f"{due:<28}", fg="red" if row["overdue"] else None),
                  f" {when(row['received_at'], tz):<21} {_cell(row['reporter'], 26):<26} "
                  f"{_cell(row['subject'], 50)}", colour=colour)
    if any(row["updated"] for row in rows):
        echo_text("* new mail since an officer last acted")


def list_machine_mail(app, as_json: bool) -> None:
    """Machine mail that belongs to no case, newest first (store.machine)."""
    rows = [{k: r.get(k) for k in ("received_at", "from", "subject", "message_id", "machine", "raw")}
            for r in app.store.machine_mail().records()]
    rows.reverse()
    if as_json:
        echo_json(rows, app.config.service.tz)
        return
    if not rows:
        echo_text("no machine mail")
        return
    echo_text(f"{'RECEIVED':<25} {'FROM':<28} {'WHY':<14} SUBJECT")
    for row in rows:
        why = (row.get("machine") or ["?"])[0].split(":")[0]
        echo_text(f"{row['received_at']:<25} {_cell(row['from'], 28):<28} {why:<14} "
                  f"{_cell(row['subject'], 50)}")


@cases.command("show")
@case_argument
@click.option("--full", is_flag=True, help="Also print every message's body.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output, every message with its text.")
@click.pass_context
def show_case(ctx: click.Context, case_id: str, full: bool, as_json: bool) -> None:
    """Show a case as a dashboard: facts, legal assessment, open questions, phases with the
    command that closes each step, deadlines with days left, then the messages.

    Example: leakline cases show INC-2026-0001   (inc-2026-1 works too)
    """
    from leakline.cli_common import app_for
    from leakline.dashboard import render

    app = app_for(ctx)
    case = load_case(app, case_id)
    if as_json:
        echo_json(with_org(public_case(case), app.config), app.config.service.tz)
        return
    colour = colour_wanted()
    for line in render(case, config=app.config, now=app.now(), full=full, by=default_actor(ctx)):
        echo_text(*line, colour=colour)
