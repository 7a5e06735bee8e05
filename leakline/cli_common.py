"""What the CLI's commands share: who acts (--by), case-id arguments, one-line errors."""

from __future__ import annotations

import contextlib
import os
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
    from leakline.store.cases import CaseNotFound

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

    import os

    from leakline.config import ConfigError, OrgScopeError, UnknownOrg, load
    from leakline.orgs import org_data_dir
    from leakline.store.cases import Store

    root = ctx.find_root()
    try:
        config = load(root.params.get("config_path"))
        org = config.for_org(ctx.meta.get("leakline.org") or root.params.get("org_id")
                             or os.environ.get("LEAKLINE_ORG") or config.org.id)
    except (ConfigError, OrgScopeError, UnknownOrg):
        return []
    folder = org_data_dir(org, org.org.id)
    if not folder.is_dir():
        return []
    rows = Store(folder, org.service.case_prefix).summaries("open")
    return [CompletionItem(row["id"], help=row.get("subject") or "")
            for row in rows if row["id"].lower().startswith(incomplete.lower())]


def with_org(value, config: Config):
    """Each object (or each of a list) with the `org` it belongs to, for --json."""
    org_id = config.org.id
    if isinstance(value, list):
        return [{**row, "org": org_id} for row in value]
    return {**value, "org": org_id}


def case_argument(func):
    return click.argument("case_id", metavar="CASE_ID", shell_complete=complete_case_ids)(func)


NO_DATA = "no leakline data at {path}; run where `serve` runs or pass --config"


def require_data(config: Config) -> None:
    """Commands other than serve and ingest never create a data_dir: a wrong folder or config
    would otherwise look like an empty service."""
    if config.store.shared:
        return  # the data is in the database, whatever this host's data_dir holds
    if not config.service.data_dir.exists():
        raise click.ClickException(NO_DATA.format(path=os.path.abspath(config.service.data_dir)))


def app_for(ctx: click.Context, prepare: bool = True, create: bool = False):
    """The App over the configured data_dir; only `create` (serve, ingest) makes a missing one."""
    from leakline.app import App, DataDirError
    from leakline.output import os_error_line, warn

    config = ctx.find_object(Config)
    if not create:
        require_data(config)
    app = App(config)
    app.on_problem(warn)  # a skipped case or a rebuilt shard is said, on stderr
    if prepare:
        try:
            app.prepare()
        except DataDirError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            raise click.ClickException(os_error_line(exc)) from None
    return app
