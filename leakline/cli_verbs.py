"""The officer's other verbs: skip and reopen phases and steps, reopen a case, keep a note."""

from __future__ import annotations

import click

from leakline.choices import PHASE, STEP
from leakline.cli_cases import cases
from leakline.cli_common import actor, by_option, case_argument, one_line_errors
from leakline.cli_process import phase
from leakline.output import echo_text


def _act(ctx: click.Context, by: str | None, action: str, *args):
    """Run `leakline.actions.<action>(app, *args, actor)`; its errors as one line. -> (outcome, actor)"""
    from leakline import actions
    from leakline.cli_common import app_for

    who = actor(ctx, by)
    with one_line_errors():
        return getattr(actions, action)(app_for(ctx), *args, who), who


@phase.command("skip")
@case_argument
@click.argument("phase_id", metavar="PHASE", type=PHASE)
@click.option("--step", type=STEP, help="One step; without it, every open or pending step of the phase.")
@click.option("--reason", required=True, help="Why it will not be done (kept in the audit trail).")
@by_option
@click.pass_context
def skip(ctx: click.Context, case_id: str, phase_id: str, step: str | None, reason: str,
         by: str | None) -> None:
    """Decide not to do a step (or every open and pending step of a phase), required ones too.

    A person decides and the reason is kept; skipped steps no longer keep the case open, their
    deadlines and reminders stop, and skipping a required report mails the privacy officer.
    Example: leakline phase skip INC-2026-0001 publication --step public_notice --reason "no public interest" --by po@example.com
    """
    from leakline.actions import REOPEN_COMMAND

    outcome, by = _act(ctx, by, "skip_phase", case_id, phase_id, step, reason)
    names = ", ".join(s.name for s in outcome.earlier)
    echo_text(f"{outcome.case['id']}: skipped {names}")
    required = [s for s in outcome.earlier if s.drops_a_duty]
    if required:
        echo_text(f"warning: {', '.join(s.name for s in required)}: required or undetermined; the "
                  "privacy officer has been mailed. To undo:", err=True)
        for s in required:
            echo_text("  " + REOPEN_COMMAND.format(case_id=outcome.case["id"], phase=s.phase,
                                                          step=s.step, by=by), err=True)


@phase.command("reopen")
@case_argument
@click.argument("phase_id", metavar="PHASE", type=PHASE)
@click.option("--step", type=STEP, help="The closed or skipped step (needed for phases with steps).")
@click.option("--reason", required=True, help="Why it is reopened (kept in the audit trail).")
@by_option
@click.pass_context
def reopen_phase(ctx: click.Context, case_id: str, phase_id: str, step: str | None, reason: str,
                 by: str | None) -> None:
    """Reopen a closed or skipped step (or a phase without steps); the assessment then says
    whether it is open, pending or not applicable, and its deadline and reminders come back.

    Example: leakline phase reopen INC-2026-0001 authorities --step ppc_preliminary --reason "skipped by mistake" --by po@example.com
    """
    outcome, _ = _act(ctx, by, "reopen_phase", case_id, phase_id, step, reason)
    name = f"{phase_id}.{step}" if step else phase_id
    echo_text(f"{outcome.case['id']}: {name} reopened (it was {outcome.earlier[0]})")


@cases.command("reopen")
@case_argument
@click.option("--reason", required=True, help="Why it is reopened (kept in the audit trail).")
@by_option
@click.pass_context
def reopen_case(ctx: click.Context, case_id: str, reason: str, by: str | None) -> None:
    """Reopen a closed case: it is listed as open again and its deadlines are reminded.

    Example: leakline cases reopen INC-2026-0001 --reason "the client reported more persons" --by po@example.com
    """
    outcome, _ = _act(ctx, by, "reopen_case", case_id, reason)
    echo_text(f"{outcome.case['id']} reopened")


@cases.command("note")
@case_argument
@click.option("--text", required=True, help="The note (shown by `cases show`, kept in the audit trail).")
@by_option
@click.pass_context
def note(ctx: click.Context, case_id: str, text: str, by: str | None) -> None:
    """Keep a note with a case; it also marks the case's new mail as seen.

    Example: leakline cases note INC-2026-0001 --text "called the recipient; deletion promised" --by po@example.com
    """
    outcome, _ = _act(ctx, by, "add_note", case_id, text)
    echo_text(f"{outcome.case['id']}: note added ({len(outcome.case['notes'])} in all)")
