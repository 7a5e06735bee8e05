"""The response process from the CLI: assess, acknowledge, close phases and cases, deadlines, reports."""

from __future__ import annotations

import click

from leakline.choices import CATEGORY, PHASE, STEP
from leakline.cli_cases import cases
from leakline.cli_common import actor, by_option, case_argument, one_line_errors, with_org
from leakline.output import echo_text


def _flag(name: str, off: str | None = None, field: str | None = None, help: str | None = None):
    return click.option(f"--{name}/--{off or 'no-' + name}", field or name.replace("-", "_"),
                        default=None, help=help or f"Set the {name} flag.")


# Each fact option and the fact it sets (admin source: beats a reply and extraction).
FACT_OPTIONS = (
    click.option("--category", type=CATEGORY, help="The kind of incident."),
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
@case_argument
@fact_options
@by_option
@click.pass_context
def assess(ctx, case_id: str, by: str | None, **options) -> None:
    """Record facts as an admin (beats the reporter's reply and extraction) and re-assess.

    Example: leakline cases assess INC-2026-0001 --category loss --persons 1200 --estimated --by po@example.com
    """
    from leakline import actions

    from leakline.cli_common import app_for

    by = actor(ctx, by)
    values = _values(options)
    evidence = {field: options["evidence"] for field in values} if options["evidence"] else None
    with one_line_errors():
        case = actions.assess(app_for(ctx), case_id, values, by, evidence).case
    a = case.get("assessment") or {}
    undetermined = a.get("triggers_undetermined") or []
    echo_text(f"{case['id']}: triggers {', '.join(a.get('triggers', [])) or 'none'}"
              + (f" (undetermined: {', '.join(undetermined)})" if undetermined else "")
              + f"; PPC report {_said(a.get('ppc_report_required'))}")
    for reason in a.get("reasons", []):
        echo_text(f"  {reason}")
    for question in a.get("open_questions", []):
        echo_text(f"  ? {question}")


@cases.command("ack")
@case_argument
@by_option
@click.pass_context
def ack(ctx: click.Context, case_id: str, by: str | None) -> None:
    """Acknowledge a case as a manager: escalation stops, the report phase closes.

    On a case already acknowledged it says by whom and when.
    Example: leakline cases ack INC-2026-0001 --by po@example.com
    """
    from leakline import actions

    from leakline.cli_common import app_for
    from leakline.dashboard import when

    by = actor(ctx, by)
    app = app_for(ctx)
    with one_line_errors():
        outcome = actions.acknowledge(app, case_id, by)
    tz, case_id = app.config.service.tz, outcome.case["id"]
    before = "; ".join(f"{a['by']} at {when(a['at'], tz)}" for a in outcome.earlier)
    if not outcome.changed:
        echo_text(f"{case_id} was already acknowledged by {before}")
    elif outcome.earlier:
        echo_text(f"{case_id} acknowledged by {by} (already acknowledged by {before})")
    else:
        echo_text(f"{case_id} acknowledged by {by}")


@cases.command("close")
@case_argument
@by_option
@click.pass_context
def close_case(ctx: click.Context, case_id: str, by: str | None) -> None:
    """Close a case; refused while any phase or step is open or pending (skipped ones are settled).

    Example: leakline cases close INC-2026-0001 --by po@example.com
    """
    from leakline import actions

    from leakline.cli_common import app_for

    by = actor(ctx, by)
    with one_line_errors():
        outcome = actions.close_case(app_for(ctx), case_id, by)
    echo_text(f"{outcome.case['id']} closed")


@click.group()
def phase() -> None:
    """Close, skip and reopen phases and steps of the response process.

    Example: leakline phase close INC-2026-0001 containment --note "recipient deleted it" --by po@example.com
    """


@phase.command("close")
@case_argument
@click.argument("phase_id", metavar="PHASE", type=PHASE)
@click.option("--step", type=STEP, help="A step of the phase (e.g. facts, cause, ppc_preliminary, public_notice).")
@click.option("--note", required=True, help="What was done (goes into the reports and the audit).")
@click.option("--skip", is_flag=True, help="Record a decision not to do an optional step (e.g. not to publish).")
@click.option("--final-too", is_flag=True,
              help="With --step ppc_preliminary: the report was also the final one (速報兼確報).")
@by_option
@click.pass_context
def close_phase(ctx, case_id: str, phase_id: str, step: str | None, note: str, skip: bool,
                final_too: bool, by: str | None) -> None:
    """Close a phase, or one step of it. Prevention steps close in order.

    Phases: report, containment, publication (public_notice, client_notice, persons_notice),
    prevention (facts, cause, measures, implementation, verification), authorities
    (review_body_preliminary, review_body_final, ppc_preliminary, ppc_final, gdpr_72h,
    gdpr_controller_notice, sector_report). Old step ids (notice, client, persons, review_body,
    gdpr) and hyphens are accepted. `cases show` prints the command for each open step.
    Example: leakline phase close INC-2026-0001 prevention --step facts --note "papers left on desks" --by po@example.com
    """
    from leakline import actions

    from leakline.cli_common import app_for

    by = actor(ctx, by)
    with one_line_errors():
        outcome = actions.close_phase(app_for(ctx), case_id, phase_id, step, note, by, skip=skip,
                                      final_too=final_too)
    done = "skipped" if skip else "closed"
    echo_text(f"{outcome.case['id']}: {phase_id}{'.' + step if step else ''} {done}"
              + (f"; {phase_id}.ppc_final closed too (速報兼確報)" if final_too else ""))


@click.command()
@click.option("--within", type=click.IntRange(min=0), metavar="DAYS",
              help="Only deadlines due within DAYS days (overdue ones included).")
@click.option("--overdue", is_flag=True, help="Only overdue deadlines.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def deadlines(ctx: click.Context, within: int | None, overdue: bool, as_json: bool) -> None:
    """Open deadlines of all open cases, soonest first; the kind is the step that meets it.

    Example: leakline deadlines --within 7
    """
    from leakline.cli_common import app_for
    from leakline.jsonout import echo_json
    from leakline.listing import due_deadlines, open_deadlines

    app = app_for(ctx)
    every = open_deadlines(app.store, now=app.now(), tz=app.config.service.tz)
    rows = due_deadlines(every, within=within, overdue=overdue)
    if as_json:
        echo_json(with_org(rows, app.config), app.config.service.tz)
        return
    if not rows:
        echo_text(_none_due(every, within, overdue))
        return
    echo_text(f"{'CASE':<16} {'DEADLINE':<24} {'DUE':<26} {'STATUS':<8} DAYS LEFT")
    for row in rows:
        echo_text(f"{row['id']:<16} {row['kind']:<24} {row['due']:<26} {row['status']:<8} {row['days_left']}")


def _none_due(every: list[dict], within: int | None, overdue: bool) -> str:
    """Nothing matched: say so, and how many open deadlines there are besides."""
    if not every:
        return "no open deadlines"
    asked = "overdue" if overdue else f"due within {within} day{'s' if within != 1 else ''}"
    first = every[0]
    return (f"no deadlines {asked}; {len(every)} later (the next: {first['id']} {first['kind']} "
            f"{str(first['due'])[:10]}, in {first['days_left']} days)")


from leakline.cli_report import report  # noqa: E402,F401  (leakline.cli imports it from here)
