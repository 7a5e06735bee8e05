"""`leakline cases ...`: list and read cases."""

from __future__ import annotations

import click


def echo_json(value) -> None:
    from leakline.output import echo_json as unfiltered_json

    unfiltered_json(value)


def public_case(case: dict) -> dict:
    """The stable JSON form of a case: internal bookkeeping keys are left out; `facts` has every
    fact, derived ones with source "derived" and unknown ones null."""
    from leakline.process.facts import shown

    out = {k: v for k, v in case.items()
           if k not in ("messages", "sent", "last_events", "event_count")}
    out["facts"] = shown(case.get("facts") or {})
    out["messages"] = [
        {k: v for k, v in m.items() if k not in ("key",)} for m in case.get("messages", [])
    ]
    return out


def load_case(app, case_id: str) -> dict:
    from store.cases import CaseNotFound

    from leakline.process import migrate

    try:
        return migrate(app.store.get(case_id))  # a case stored with the old step ids reads as new
    except CaseNotFound as exc:
        raise click.ClickException(str(exc)) from None


def _cell(value, width: int) -> str:
    text = str(value or "-").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


@click.group()
def cases() -> None:
    """List, read and act on cases.

    Example: leakline cases list --status open
    """


@cases.command("list")
@click.option("--status", type=click.Choice(["open", "closed", "all"]), default="open",
              show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--machine", is_flag=True,
              help="List machine mail kept apart instead (auto-replies, list mail, read receipts, "
                   "our own mail come back) that belongs to no case.")
@click.pass_context
def list_cases(ctx: click.Context, status: str, as_json: bool, machine: bool) -> None:
    """List cases, newest first.

    Example: leakline cases list --status all --json
    """
    from leakline.cli import app_for

    app = app_for(ctx)
    if machine:
        list_machine_mail(app, as_json)
        return
    rows = app.store.summaries(status)
    rows.reverse()
    shunted = app.spool.shunted()
    if shunted:
        # Evidence that intake could not process: never dropped, but it needs a person.
        click.echo(f"warning: {len(shunted)} message(s) could not be processed; they are kept in "
                   f"{app.spool.shunt} (see `leakline spool list`)", err=True)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo(f"no {status} cases" if status != "all" else "no cases")
        return
    click.echo(f"{'CASE':<16} {'STATUS':<7} {'RECEIVED':<25} {'REPORTER':<28} SUBJECT")
    for row in rows:
        click.echo(f"{row['id']:<16} {row['status']:<7} {row['received_at']:<25} "
                   f"{_cell(row['reporter'], 28):<28} {_cell(row['subject'], 50)}")


def list_machine_mail(app, as_json: bool) -> None:
    """Machine mail that belongs to no case, newest first (store.machine)."""
    rows = [{k: r.get(k) for k in ("received_at", "from", "subject", "message_id", "machine", "raw")}
            for r in app.store.machine_mail().records()]
    rows.reverse()
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no machine mail")
        return
    click.echo(f"{'RECEIVED':<25} {'FROM':<28} {'WHY':<14} SUBJECT")
    for row in rows:
        why = (row.get("machine") or ["?"])[0].split(":")[0]
        click.echo(f"{row['received_at']:<25} {_cell(row['from'], 28):<28} {why:<14} "
                   f"{_cell(row['subject'], 50)}")


@cases.command("show")
@click.argument("case_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def show_case(ctx: click.Context, case_id: str, as_json: bool) -> None:
    """Show one case with its messages.

    Example: leakline cases show INC-2026-0001
    """
    from leakline.cli import app_for

    case = public_case(load_case(app_for(ctx), case_id))
    if as_json:
        echo_json(case)
        return
    click.echo(f"{case['id']}  [{case['status']}]  {case['subject']}")
    click.echo(f"reporter: {case.get('reporter_name') or ''} <{case['reporter']}>")
    click.echo(f"received: {case['received_at']}")
    if case.get("flags"):
        click.echo(f"flags:    {', '.join(case['flags'])}")
    for message in case["messages"]:
        arrow = "<-" if message["direction"] == "in" else "->"
        click.echo(f"\n{arrow} {message['received_at']}  {message.get('kind', '')}  "
                   f"{message['from']}\n   {message['subject']}")
        for line in (message.get("text") or "").splitlines()[:40]:
            click.echo(f"   | {line}")
        for fwd in message.get("forwarded", []):
            click.echo(f"   forwarded: {fwd.get('from')} / {fwd.get('subject')}")
