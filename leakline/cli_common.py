"""What the CLI's commands share: who acts (--by), case-id arguments, one-line errors."""

from __future__ import annotations

import contextlib
from typing import Iterator

import click

from leakline.config import Config

BY_HELP = "Who does this, recorded in the audit trail (default: $LEAKLINE_USER, else [cli] user)."


def by_option(func):
    return click.option("--by", "by", envvar="LEAKLINE_USER", metavar="EMAIL", help=BY_HELP)(func)


def actor(ctx: click.Context, by: str | None) -> str:
    """--by, else $LEAKLINE_USER (click reads it), else [cli] user; an email address."""
    from leakline.actions import ActionError, checked_actor

    config = ctx.find_object(Config)
    try:
        return checked_actor(by or (config.cli.user if config else ""))
    except ActionError as exc:
        raise click.ClickException(str(exc)) from None


def default_actor(ctx: click.Context) -> str | None:
    """Who the commands the dashboard prints should name, if known."""
    import os

    config = ctx.find_object(Config)
    return os.environ.get("LEAKLINE_USER") or (config.cli.user if config else None) or None


@contextlib.contextmanager
def one_line_errors() -> Iterator[None]:
    """The library's narrow errors as click errors: one line, exit 1."""
    from leakline.actions import ActionError
    from leakline.caseref import NoSuchCase
    from leakline.process import FactError, PhaseError
    from leakline.process.reports import ReportError
    from store.cases import CaseNotFound

    try:
        yield
    except (NoSuchCase, ActionError, FactError, PhaseError, ReportError) as exc:
        raise click.ClickException(str(exc)) from None
    except CaseNotFound as exc:
        raise click.ClickException(f"no such case {exc.case_id}; `leakline cases list` shows the ids") \
            from None


def complete_case_ids(ctx: click.Context, param, incomplete: str) -> list:
    """Shell completion of case ids: the open cases of the configured data_dir."""
    from click.shell_completion import CompletionItem

    from leakline.config import ConfigError, load
    from store.cases import Store

    try:
        config = load(ctx.find_root().params.get("config_path"))
    except ConfigError:
        return []
    if not config.service.data_dir.is_dir():
        return []
    rows = Store(config.service.data_dir, config.service.case_prefix).summaries("open")
    return [CompletionItem(row["id"], help=row.get("subject") or "")
            for row in rows if row["id"].lower().startswith(incomplete.lower())]


def case_argument(func):
    return click.argument("case_id", metavar="CASE_ID", shell_complete=complete_case_ids)(func)
