"""`leakline report`: print a draft report or notice for a case, and optionally keep it with the case."""

from __future__ import annotations

import click

from leakline.cli_cases import load_case

KIND_HELP = ("ppc-preliminary, ppc-final, review-body, persons-notice, client-notice, public-notice, "
             "gdpr-72h, gdpr-controller-notice, sector-report; or a step id (e.g. review_body_final, "
             "persons_notice); hyphens and underscores both")
AUDIENCE_CHOICES = ["customers", "members", "users", "patients", "students", "employees", "applicants",
                    "others"]


@click.command()
@click.argument("case_id")
@click.option("--kind", required=True, help=f"What to draft: {KIND_HELP}.")
@click.option("--stage", type=click.Choice(["preliminary", "final"]),
              help="Preliminary (調査中 where unknown) or final; default from the kind and the case.")
@click.option("--lang", type=click.Choice(["ja", "en"]), help="Default: the organisation's language.")
@click.option("--audience", type=click.Choice(AUDIENCE_CHOICES),
              help="Who the notice is for (default: the audience fact, else from the data items).")
@click.option("--force", is_flag=True, help="Draft a kind that does not apply (a warning heads it).")
@click.option("--save", is_flag=True, help="Keep the draft with the case and record its SHA-256 in the audit.")
@click.option("--by", "by", metavar="EMAIL", help="Who saves it (recorded in the audit trail).")
@click.pass_context
def report(ctx: click.Context, case_id: str, kind: str, stage: str | None, lang: str | None,
           audience: str | None, force: bool, save: bool, by: str | None) -> None:
    """Print a draft report or notice filled from the case, for a person to check and file.

    Example: leakline report INC-2026-0001 --kind ppc-preliminary --lang ja --save --by po@example.com
    """
    from leakline.cli import app_for
    from leakline.process.deadlines import JAPAN
    from leakline.process.reports import ReportError, draft

    app = app_for(ctx)
    case = load_case(app, case_id)
    org = app.config.organization
    try:
        result = draft(case, kind, lang or org.language, org=org, stage=stage, audience=audience,
                       force=force, today=app.now().astimezone(JAPAN).date())
    except ReportError as exc:
        raise click.ClickException(str(exc)) from None
    if save:
        _save(ctx, app, case_id, result, by)
    click.echo(result.text)
    if save:
        click.echo(f"saved {result.kind} ({result.stage}, {result.lang}) with {case_id}: "
                   f"sha256 {result.sha256}", err=True)


def _save(ctx: click.Context, app, case_id: str, result, by: str | None) -> None:
    from leakline.cli_process import _change, _checked_email

    actor = _checked_email(by) if by else "cli"
    record = {"kind": result.kind, "stage": result.stage, "lang": result.lang,
              "sha256": result.sha256, "forced": result.forced, "saved_by": actor,
              "saved_at": app.now().isoformat(), "text": result.text}

    def keep(app, case: dict) -> list[dict]:
        case.setdefault("drafts", []).append(record)
        return [{"action": "report_saved", "actor": actor,
                 "details": {k: record[k] for k in ("kind", "stage", "lang", "sha256", "forced")}}]

    _change(ctx, case_id, keep)
