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


def _flag(name: str, off: str | None = None, field: str | None = None, help: str | None = None):
    return click.option(f"--{name}/--{off or 'no-' + name}", field or name.replace("-", "_"),
                        default=None, help=help or f"Set the {name} flag.")


# Each fact option and the fact it sets (admin source: beats a reply and extraction).
FACT_OPTIONS = (
    click.option("--category", help=f"One of: {CATEGORY_HELP}."),
    click.option("--persons", type=click.IntRange(min=0), help="Number of persons affected (the largest stated)."),
    click.option("--estimated", is_flag=True, help="--persons is an estimate."),
    click.option("--persons-over", is_flag=True, help="--persons is a lower bound: more than N (at least N+1)."),
    click.option("--persons-max", type=click.IntRange(min=0), help="Upper bound of the number of persons."),
    click.option("--discovered-at", help="When anyone in the organisation learned of it (ISO 8601)."),
    click.option("--occurred-at", help="When it happened (発生日, ISO 8601)."),
    click.option("--data-items", metavar="IDS", help="Comma list of data-item ids (e.g. name,address,medical)."),
    _flag("sensitive"), _flag("financial"), _flag("wrongful"),
    _flag("encrypted", help="Strongly encrypted (CRYPTREC / ISO/IEC 18033), as an admin confirms it."),
    _flag("key-leaked", "key-safe", help="Whether the decryption key or password leaked or travelled with the data."),
    _flag("entrusted", help="A client's (委託元) data that we process."),
    click.option("--client", help="The client (委託元) whose data it was: name and address."),
    click.option("--client-notified-at", help="When the client was notified (ISO 8601): the release."),
    _flag("recovered-unread", "not-recovered",
          help="All of it recovered before any third party viewed it (not a leak); give --evidence."),
    _flag("gdpr-high-risk", help="GDPR Art. 34: the risk to the persons is high."),
    _flag("persons-unreachable", "persons-reachable",
          help="The persons cannot be notified: the public notice replaces the notice to them."),
    _flag("publicly-exposed", "not-publicly-exposed",
          help="Open to view by unspecified people (My Number rule Art. 2(3))."),
    click.option("--medium", type=click.Choice(["paper", "electronic", "both"]), help="Medium of the data."),
    click.option("--audience", help="Who the persons are: customers, members, users, patients, students, "
                                    "employees, applicants, others."),
    click.option("--caused-by", type=click.Choice(["us", "processor", "third_party"]),
                 help="Who caused it (事故発生元)."),
    click.option("--secondary-harm", metavar="TEXT", help="Secondary harm found so far (二次被害), in words."),
    click.option("--evidence", metavar="TEXT", help="What the facts given here rest on (kept with each)."),
)


def fact_options(func):
    for option in reversed(FACT_OPTIONS):
        func = option(func)
    return func


def _values(options: dict) -> dict:
    """The facts an admin gave on the command line (unset options are left out)."""
    values = {k: v for k, v in options.items()
              if v is not None and k not in ("estimated", "persons_over", "evidence", "data_items")}
    if options["data_items"] is not None:
        values["data_items"] = [i.strip() for i in options["data_items"].split(",") if i.strip()]
    for qualifier in ("estimated", "persons_over"):
        if options[qualifier] and options["persons"] is None:
            raise click.ClickException(f"--{qualifier.replace('_', '-')} needs --persons")
    if options["persons"] is not None:
        values["persons_estimated"] = bool(options["estimated"])
        values["persons_over"] = bool(options["persons_over"])
    if not values:
        raise click.ClickException("nothing to record: give at least one fact option")
    return values


def _said(value) -> str:
    return {True: "required", False: "not required", None: "undetermined (treated as due)"}[value]


@cases.command("assess")
@click.argument("case_id")
@fact_options
@by_option
@click.pass_context
def assess(ctx, case_id: str, by: str, **options) -> None:
    """Record facts as an admin (beats the reporter's reply and extraction) and re-assess.

    Example: leakline cases assess INC-2026-0001 --category loss --persons 1200 --estimated --by po@example.com
    """
    by = _checked_email(by)
    values = _values(options)
    evidence = {field: options["evidence"] for field in values} if options["evidence"] else None
    case = _change(ctx, case_id, lambda app, case: _assess(app, case, values, by, evidence))
    a = case.get("assessment") or {}
    undetermined = a.get("triggers_undetermined") or []
    click.echo(f"{case_id}: triggers {', '.join(a.get('triggers', [])) or 'none'}"
               + (f" (undetermined: {', '.join(undetermined)})" if undetermined else "")
               + f"; PPC report {_said(a.get('ppc_report_required'))}")
    for reason in a.get("reasons", []):
        click.echo(f"  {reason}")
    for question in a.get("open_questions", []):
        click.echo(f"  ? {question}")


def _assess(app, case: dict, values: dict, by: str, evidence: dict | None) -> list[dict]:
    from leakline import process

    now = app.now()
    before = case.get("assessment")
    updated, changes = process.apply_facts(case, values, "admin", by=by, at=now.isoformat(),
                                           evidence=evidence)
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
        from leakline import process
        from leakline.process import open_items

        case.update(process.migrate(case))
        if case["status"] == "closed":
            raise click.ClickException(f"{case_id} is already closed")
        still_open = open_items(case.get("phases") or [])
        if still_open:
            raise click.ClickException(f"{case_id} cannot be closed; still open: {', '.join(still_open)}")
        now = app.now()
        skipped = []
        for phase_id, step in process.optional_open(case.get("phases") or []):
            case.update(process.close(case, phase_id, step, by=by, at=now.isoformat(), skip=True,
                                      note="not done (optional); the case was closed",
                                      org=app.config.organization, tz=app.config.service.tz, now=now))
            skipped.append(f"{phase_id}.{step}")
        case["status"], case["closed_at"] = "closed", now.isoformat()
        return [{"action": "case_closed", "actor": by, "details": {"skipped": skipped}}]

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
@click.option("--step", help="A step of the phase (e.g. facts, cause, ppc_preliminary, public_notice).")
@click.option("--note", required=True, help="What was done (goes into the reports and the audit).")
@click.option("--skip", is_flag=True, help="Record a decision not to do an optional step (e.g. not to publish).")
@click.option("--final-too", is_flag=True,
              help="With --step ppc_preliminary: the report was also the final one (速報兼確報).")
@by_option
@click.pass_context
def close_phase(ctx, case_id: str, phase_id: str, step: str | None, note: str, skip: bool,
                final_too: bool, by: str) -> None:
    """Close a phase, or one step of it. Prevention steps close in order.

    Phases: report, containment, publication (public_notice, client_notice, persons_notice),
    prevention (facts, cause, measures, implementation, verification), authorities
    (review_body_preliminary, review_body_final, ppc_preliminary, ppc_final, gdpr_72h,
    gdpr_controller_notice, sector_report). Old step ids (notice, client, persons, review_body,
    gdpr) are accepted.
    Example: leakline phase close INC-2026-0001 prevention --step facts --note "papers left on desks" --by po@example.com
    """
    by = _checked_email(by)
    from leakline.process.phases import step_id

    step = step_id(step) if step else None

    def close(app, case: dict) -> list[dict]:
        from leakline import process

        now = app.now()
        case.update(process.close(case, phase_id, step, by=by, at=now.isoformat(), note=note,
                                  skip=skip, final_too=final_too, org=app.config.organization,
                                  tz=app.config.service.tz, now=now))
        details = {"phase": phase_id, "step": step, "note": note}
        if skip or final_too:
            details.update(skipped=skip, final_too=final_too)
        return [{"action": "phase_closed", "actor": by, "details": details}]

    _change(ctx, case_id, close)
    done = "skipped" if skip else "closed"
    click.echo(f"{case_id}: {phase_id}{'.' + step if step else ''} {done}"
               + (f"; {phase_id}.ppc_final closed too (速報兼確報)" if final_too else ""))


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
    from leakline.process import migrate
    from leakline.process.deadlines import days_left, refreshed

    app = app_for(ctx)
    now, tz = app.now(), app.config.service.tz
    rows = []
    for case in app.store.cases("open"):
        for stored in migrate(case).get("deadlines") or []:
            current = refreshed(stored, now=now, tz=tz)
            if current["status"] not in ("open", "pending", "overdue"):
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


from leakline.cli_report import report  # noqa: E402,F401  (leakline.cli imports it from here)
