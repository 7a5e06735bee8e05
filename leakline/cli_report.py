"""`leakline report`: print a draft report or notice for a case, and optionally keep it with the case."""

from __future__ import annotations

import click

from leakline.choices import REPORT_KIND
from leakline.cli_cases import load_case
from leakline.cli_common import case_argument, one_line_errors
from leakline.output import echo_text

KIND_HELP = ("the id of the step it serves (review_body: the stage from --stage or the case); "
             "hyphens (ppc-preliminary) and the old ids are accepted")
AUDIENCE_CHOICES = ["customers", "members", "users", "patients", "students", "employees", "applicants",
                    "others"]


@click.command()
@case_argument
@click.option("--kind", required=True, type=REPORT_KIND, help=f"What to draft: {KIND_HELP}.")
@click.option("--stage", type=click.Choice(["preliminary", "final"]),
              help="Preliminary (調査中 where unknown) or final; default from the kind and the case.")
@click.option("--lang", type=click.Choice(["ja", "en"]), help="Default: the organisation's language.")
@click.option("--audience", type=click.Choice(AUDIENCE_CHOICES),
              help="Who the notice is for (default: the audience fact, else from the data items).")
@click.option("--force", is_flag=True, help="Draft a kind that does not apply (a warning heads it).")
@click.option("--save", is_flag=True, help="Keep the draft with the case and record its SHA-256 in the audit.")
@click.option("--by", "by", metavar="EMAIL", envvar="LEAKLINE_USER",
              help="Who saves it (audit trail; default $LEAKLINE_USER, else [cli] user, else cli).")
@click.pass_context
def report(ctx: click.Context, case_id: str, kind: str, stage: str | None, lang: str | None,
           audience: str | None, force: bool, save: bool, by: str | None) -> None:
    """Print a draft report or notice filled from the case, for a person to check and file.

    Example: leakline report INC-2026-0001 --kind ppc-preliminary --lang ja --save --by po@example.com
    """
    from leakline.cli_common import app_for
    from leakline.process.deadlines import JAPAN
    from leakline.process.reports import draft

    app = app_for(ctx)
    case = load_case(app, case_id)
    org = app.config.organization
    with one_line_errors():
        result = draft(case, kind, lang or org.language, org=org, stage=stage, audience=audience,
                       force=force, today=app.now().astimezone(JAPAN).date())
    if save:
        _save(ctx, app, case["id"], result, by)
    echo_text(result.text)
    if save:
        echo_text(f"saved {result.kind} ({result.stage}, {result.lang}) with {case['id']}: "
                  f"sha256 {result.sha256}", err=True)


def _save(ctx: click.Context, app, case_id: str, result, by: str | None) -> None:
    from leakline.actions import save_draft
    from leakline.cli_common import actor
    from leakline.config import Config

    config = ctx.find_object(Config)
    who = actor(ctx, by) if by or config.cli.user else "cli"
    with one_line_errors():
        save_draft(app, case_id, result, who)
