"""The response process from the CLI: assess, acknowledge, close phases and cases, deadlines, reports."""

from __future__ import annotations

import click

from leakline.cli_cases import cases, echo_json, load_case

CATEGORY_HELP = ("misdirected_email, misdirected_fax, misdelivery, wrong_display, wrong_entry, loss, "
                 "theft, wrong_disposal, unauthorized_access, malware, insider, verbal, misuse, other")


def by_option(func):
    return click.option("--by", "by", required=True, metavar="EMAIL",
                        help="Who does this (recorded in the audit trail).")(func)


def _checked_email(value: str) -> str:
    value = value.strip().lower()
    if "@" not in value or any(c in value for c in " \r\n<>,"):
        raise click.ClickException(f"--by: not an email address: {value!r}")
    return value


def _change(ctx: click.Context, case_id: str, change) -> dict:
    """Apply `change(app, case) -> events` to a case under the lock; domain errors are one line."""
    from leakline.cli import app_for
    from leakline.process import FactError, PhaseError
    from store.cases import CaseNotFound

    app = app_for(ctx)
    try:
        return app.store.update(case_id, lambda case: change(app, case))
    except CaseNotFound as exc:
        raise click.ClickException(str(exc)) from None
    except (FactError, PhaseError) as exc:
        raise click.ClickException(str(exc)) from None


def _flag(name: str):
    return click.option(f"--{name}/--no-{name}", default=None, help=f"Set the {name} flag.")


@cases.command("assess")
@click.argument("case_id")
@click.option("--category", help=f"One of: {CATEGORY_HELP}.")
@click.option("--persons", type=click.IntRange(min=0), help="Number of persons affected.")
@click.option("--estimated", is_flag=True, help="--persons is an estimate.")
@click.option("--discovered-at", help="When the organisation learned of it (ISO 8601).")
@_flag("sensitive")
@_flag("financial")
@_flag("wrongful")
@_flag("encrypted")
@_flag("entrusted")
@click.option("--client", help="The client (委託元) whose data it was: name and address.")
@by_option
@click.pass_context
def assess(ctx, case_id, category, persons, estimated, discovered_at, sensitive, financial,
           wrongful, encrypted, entrusted, client, by) -> None:
    """Record facts as an admin (beats the reporter's reply and extraction) and re-assess.

    Example: leakline cases assess INC-2026-0001 --category loss --persons 1200 --estimated --by po@example.com
    """
    by = _checked_email(by)
    values = {k: v for k, v in {
        "category": category, "persons": persons, "discovered_at": discovered_at,
        "sensitive": sensitive, "financial": financial, "wrongful": wrongful,
        "encrypted": encrypted, "entrusted": entrusted, "client": client}.items() if v is not None}
    if estimated:
        if persons is None:
            raise click.ClickException("--estimated needs --persons")
        values["persons_estimated"] = True
    elif persons is not None:
        values["persons_estimated"] = False
    if not values:
        raise click.ClickException("nothing to record: give at least one fact option")
    case = _change(ctx, case_id, lambda app, case: _assess(app, case, values, by))
    assessment = case.get("assessment") or {}
    click.echo(f"{case_id}: triggers {', '.join(assessment.get('triggers', [])) or 'none'}; "
               f"PPC report {'required' if assessment.get('ppc_report_required') else 'not required'}")
    for reason in assessment.get("reasons", []):
        click.echo(f"  {reason}")


def _assess(app, case: dict, values: dict, by: str) -> list[dict]:
    from leakline import process

    now = app.now()
    before = case.get("assessment")
    updated, changes = process.apply_facts(case, values, "admin", by=by, at=now.isoformat())
    if not changes:
        return []
    updated, notes = process.reassess(updated, org=app.config.organization,
                                      tz=app.config.service.tz, now=now)
    case.update(updated)
    events = [{"action": "facts_changed", "actor": by,
               "details": {"source": "admin", "changes": [c.to_dict() for c in changes]}},
              {"action": "assessed", "actor": by,
               "details": {"assessment": case["assessment"], "notes": notes}}]
    return events + app.responder.alert_newly_required(case, notes) + \
        app.responder.alert_no_longer_required(case, before, changes, by, step=f"cli:{now.isoformat()}")


@cases.command("ack")
@click.argument("case_id")
@by_option
@click.pass_context
def ack(ctx: click.Context, case_id: str, by: str) -> None:
    """Acknowledge a case as a manager: escalation stops, the report phase closes.

    Example: leakline cases ack INC-2026-0001 --by po@example.com
    """
    by = _checked_email(by)
    from leakline.config import Config

    if ctx.find_object(Config).manager(by) is None:
        raise click.ClickException(f"{by} is not one of the configured [[managers]]")
    _change(ctx, case_id, lambda app, case: app.responder.acknowledge(case, by, "cli"))
    click.echo(f"{case_id} acknowledged by {by}")


@cases.command("close")
@click.argument("case_id")
@by_option
@click.pass_context
def close_case(ctx: click.Context, case_id: str, by: str) -> None:
    """Close a case; refused while any phase or step is still open.

    Example: leakline cases close INC-2026-0001 --by po@example.com
    """
    by = _checked_email(by)

    def close(app, case: dict) -> list[dict]:
        from leakline.process import open_items

        if case["status"] == "closed":
            raise click.ClickException(f"{case_id} is already closed")
        still_open = open_items(case.get("phases") or [])
        if still_open:
            raise click.ClickException(f"{case_id} cannot be closed; still open: {', '.join(still_open)}")
        case["status"], case["closed_at"] = "closed", app.now().isoformat()
        return [{"action": "case_closed", "actor": by, "details": {}}]

    _change(ctx, case_id, close)
    click.echo(f"{case_id} closed")


@click.group()
def phase() -> None:
    """Close phases and steps of the response process.

    Example: leakline phase close INC-2026-0001 containment --note "recipient deleted it" --by po@example.com
    """


@phase.command("close")
@click.argument("case_id")
@click.argument("phase_id", metavar="PHASE")
@click.option("--step", help="A step of the phase (e.g. facts, cause, ppc_preliminary).")
@click.option("--note", required=True, help="What was done (goes into the reports and the audit).")
@by_option
@click.pass_context
def close_phase(ctx, case_id: str, phase_id: str, step: str | None, note: str, by: str) -> None:
    """Close a phase, or one step of it. Prevention steps close in order.

    Phases: report, containment, publication, prevention, authorities.
    Example: leakline phase close INC-2026-0001 prevention --step facts --note "papers left on desks" --by po@example.com
    """
    by = _checked_email(by)

    def close(app, case: dict) -> list[dict]:
        from leakline import process

        now = app.now()
        case.update(process.close(case, phase_id, step, by=by, at=now.isoformat(), note=note,
                                  org=app.config.organization, tz=app.config.service.tz, now=now))
        return [{"action": "phase_closed", "actor": by,
                 "details": {"phase": phase_id, "step": step, "note": note}}]

    _change(ctx, case_id, close)
    click.echo(f"{case_id}: {phase_id}{'.' + step if step else ''} closed")


@click.command()
@click.option("--within", type=click.IntRange(min=0), metavar="DAYS",
              help="Only deadlines due within DAYS days (overdue ones included).")
@click.option("--overdue", is_flag=True, help="Only overdue deadlines.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def deadlines(ctx: click.Context, within: int | None, overdue: bool, as_json: bool) -> None:
    """Open deadlines of all open cases, soonest first.

    Example: leakline deadlines --within 7
    """
    from leakline.cli import app_for
    from leakline.process.deadlines import days_left, refreshed

    app = app_for(ctx)
    now, tz = app.now(), app.config.service.tz
    rows = []
    for case in app.store.cases("open"):
        for stored in case.get("deadlines") or []:
            current = refreshed(stored, now=now, tz=tz)
            if current["status"] not in ("open", "overdue"):
                continue
            left = days_left(current, now=now, tz=tz)
            if (overdue and current["status"] != "overdue") or (within is not None and left > within):
                continue
            rows.append({"case": case["id"], **current, "days_left": left})
    rows.sort(key=lambda r: (r["days_left"], r["case"]))
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no open deadlines")
        return
    click.echo(f"{'CASE':<16} {'DEADLINE':<24} {'DUE':<26} {'STATUS':<8} DAYS LEFT")
    for row in rows:
        click.echo(f"{row['case']:<16} {row['kind']:<24} {row['due']:<26} {row['status']:<8} {row['days_left']}")


@click.command()
@click.argument("case_id")
@click.option("--kind", required=True, type=click.Choice(
    ["ppc-preliminary", "ppc-final", "review-body", "persons-notice", "client-notice"]))
@click.option("--lang", type=click.Choice(["ja", "en"]), help="Default: the organisation's language.")
@click.pass_context
def report(ctx: click.Context, case_id: str, kind: str, lang: str | None) -> None:
    """Print a draft report: the nine items of Enforcement Rules Art. 8(1) filled from the case.

    Example: leakline report INC-2026-0001 --kind ppc-preliminary --lang ja
    """
    from leakline.cli import app_for
    from leakline.process.reports import ReportError, draft

    app = app_for(ctx)
    case = load_case(app, case_id)
    org = app.config.organization
    try:
        click.echo(draft(case, kind, lang or org.language, org_name=org.name, report_to=org.report_to))
    except ReportError as exc:
        raise click.ClickException(str(exc)) from None
