"""`leakline audit ...`: verify the hash chain, show a case's timeline, export for an auditor."""

from __future__ import annotations

from pathlib import Path

import click

from leakline.cli_cases import load_case
from leakline.cli_common import case_argument
from leakline.auditexport import timeline_line
from leakline.jsonout import echo_json
from leakline.output import echo_text


@click.group()
def audit() -> None:
    """Check and export the tamper-evident audit trail.

    Example: leakline audit verify
    """


@audit.command("verify")
@click.pass_context
def verify(ctx: click.Context) -> None:
    """Walk the hash chain, then check each case file against the events that changed it;
    exit 1 naming the first broken event or every case that disagrees.

    Example: leakline audit verify
    """
    from leakline.casecheck import check_store_cases
    from leakline.cli_common import app_for

    app = app_for(ctx)
    result = app.store.audit.verify()
    if not result.ok:
        echo_text(f"audit chain BROKEN at event {result.broken_at}: {result.reason} "
                  f"({result.events} events verified before it); case files not checked", err=True)
        ctx.exit(1)
    echo_text(f"audit chain intact: {result.events} events")
    cases = check_store_cases(app.store, app.store.audit.events())
    if not cases.ok:
        for problem in cases.problems:
            echo_text(f"case file disagrees with its events: {problem}", err=True)
        echo_text(f"{len(cases.problems)} problem(s) in {cases.cases} case files", err=True)
        ctx.exit(1)
    echo_text(f"case files agree with their events: {cases.cases} cases (facts, status, "
              "acknowledgements, steps, messages)")


@audit.command("show")
@case_argument
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def show(ctx: click.Context, case_id: str, as_json: bool) -> None:
    """Print a case's timeline from the audit trail.

    Example: leakline audit show INC-2026-0001
    """
    from leakline.cli_common import app_for

    app = app_for(ctx)
    case_id = load_case(app, case_id)["id"]
    events = app.store.audit.for_case(case_id)
    if as_json:
        # Exactly as chained: the hash covers every key, so nothing is added or converted.
        echo_json(events, schema=False)
        return
    for event in events:
        echo_text(timeline_line(event))


@audit.command("export")
@case_argument
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder to create (must not exist yet, or be empty).")
@click.pass_context
def export(ctx: click.Context, case_id: str, out_dir: str) -> None:
    """Write a folder an auditor can read without leakline: timeline, case, raw mail, manifest.

    Example: leakline audit export INC-2026-0001 --out ./INC-2026-0001-audit
    """
    from leakline.auditexport import ExportError, export_case
    from leakline.cli_common import app_for

    app = app_for(ctx)
    case = load_case(app, case_id)
    try:
        manifest = export_case(app, case, Path(out_dir))
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None
    echo_text(f"exported {case['id']} to {out_dir} ({len(manifest)} files, manifest.json has their SHA-256)")
