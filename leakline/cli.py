"""The `leakline` command line: serve, ingest, init, cases. Heavy modules are imported lazily."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from leakline.cli_common import NO_DATA, app_for, require_data  # noqa: F401  (their old home)
from leakline.config import Config, ConfigError, load, sample_text
from leakline.eventloop import run_event_loop

EX_TEMPFAIL = 75
EX_NOUSER = 67


NO_CONFIG_NEEDED = ("init", "completion")
# Commands of the whole service: they need no --org. Every other command reads or changes one
# organisation's cases, deadlines, outbox or audit trail and sees only that organisation.
SERVICE_COMMANDS = ("serve", "ingest", "init", "completion", "org", "store", "spool", "status",
                    "backup", "deploy", "db")
ORG_HELP = ("The organisation (its id, `leakline org list`); default $LEAKLINE_ORG. Needed when "
            "more than one is configured. Also accepted after the subcommand.")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("leakline")
    except PackageNotFoundError:
        return "unknown (not installed)"


class LeaklineGroup(click.Group):
    """The top group. Every command: reporter text inert on the terminal, a failing disk or a
    damaged file in one line naming the file and what to do, never a traceback. It also notes
    whether `--config` follows the subcommand (`cases list --config X`), in which case the
    subcommand loads the configuration itself."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["leakline.late_config"] = _late_config(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        from leakline.output import os_error_line, terminal_safe, terminal_safe_output
        from leakline.store.pg.db import DatabaseUnavailable, SchemaError
        from leakline.store.tinystore import StoreDamaged

        ctx.with_resource(terminal_safe_output())
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            # Shown after the filter is gone: a domain error may quote what a reporter wrote.
            exc.message = terminal_safe(exc.message)
            raise
        except (StoreDamaged, SchemaError, DatabaseUnavailable) as exc:
            # DatabaseUnavailable is an OSError, but of no file: said as the database says it.
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            raise click.ClickException(os_error_line(exc)) from None


def _late_config(args: list[str]) -> bool:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] == "--config" else 1
    for token in args[i + 1:]:
        if token == "--":
            return False
        if token == "--config" or token.startswith("--config="):
            return True
    return False


def load_config(ctx: click.Context, path: str | None) -> Config:
    """Load the configuration into the root context; an `ingest` that cannot exits 75."""
    root = ctx.find_root()
    try:
        root.obj = load(path)
    except ConfigError as exc:
        if root.invoked_subcommand == "ingest":
            # An MTA bounces mail on exit 1; a broken config must make it retry instead.
            click.echo(f"leakline ingest: {exc}", err=True)
            sys.exit(EX_TEMPFAIL)
        raise click.ClickException(str(exc)) from None
    return root.obj


@click.group(cls=LeaklineGroup)
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="TOML file (default: $LEAKLINE_CONFIG, else ./leakline.toml, else built-ins). "
                   "Also accepted after the subcommand.")
@click.option("--org", "org_id", envvar="LEAKLINE_ORG", metavar="ID", help=ORG_HELP)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=lambda ctx, _, on: on and (click.echo(f"leakline {_version()}"), ctx.exit()),
              help="Show the version and exit.")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, org_id: str | None) -> None:
    """leakline: email intake and response tracking for personal-data leak incidents.

    Example: leakline --config /etc/leakline.toml serve
    """
    # Whatever leakline writes (cases, raw mail, exports) is private unless it says otherwise.
    os.umask(0o077)
    ctx.meta.setdefault("leakline.org", org_id or None)
    if ctx.invoked_subcommand in NO_CONFIG_NEEDED:
        ctx.obj = Config()
        return
    if config_path is None and ctx.meta.get("leakline.late_config"):
        return  # the subcommand's own --config loads it
    load_config(ctx, config_path)


def _late_config_option(ctx: click.Context, param, value: str | None) -> None:
    if value is not None or ctx.find_object(Config) is None:
        load_config(ctx, value)


def accept_config_everywhere(group: click.Group, scoped: bool = True) -> None:
    """Give every subcommand a `--config` of its own: `leakline cases list --config X`; and
    every command of one organisation an `--org` of its own, and its scope (leakline/cli_org.py)."""
    from leakline.cli_org import late_org_option, scoped_to_org

    for name, command in group.commands.items():
        in_scope = scoped and name not in SERVICE_COMMANDS
        if isinstance(command, click.Group):
            accept_config_everywhere(command, in_scope)
        elif name not in NO_CONFIG_NEEDED and not any(p.name == "late_config" for p in command.params):
            command.params.append(click.Option(
                ["--config", "late_config"], type=click.Path(dir_okay=False), expose_value=False,
                is_eager=True, callback=_late_config_option,
                help="TOML file, as `leakline --config` (which it overrides)."))
            if in_scope or name == "check":  # `store check --org ID`: one organisation's store
                command.params.append(late_org_option())
            if in_scope:
                command.callback = scoped_to_org(command.callback)


@main.command()
@click.argument("path", required=False, default="leakline.toml", type=click.Path(dir_okay=False))
@click.option("--orgs", "several", is_flag=True,
              help="The sample for several organisations in one service ([[organizations]]).")
def init(path: str, several: bool) -> None:
    """Write a commented sample configuration (refuses to overwrite).

    Example: leakline init /etc/leakline.toml   (leakline init --orgs: two organisations)
    """
    target = Path(path)
    if target.exists():
        raise click.ClickException(f"{target} exists; not overwriting it")
    target.write_text(sample_text("sample_orgs.toml" if several else "sample.toml"), encoding="utf-8")
    target.chmod(0o600)
    click.echo(f"wrote {target}; edit it, then run: leakline --config {target} serve")


@main.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Run the SMTP listener, intake and the outbox sender until Ctrl-C or SIGTERM.

    Example: leakline serve
    """
    import logging

    from leakline import server
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # aiosmtpd logs every SMTP command at INFO; keep case data out of the log.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    from leakline.servelock import AlreadyServing, ServeLock
    from leakline.store.pg.db import DatabaseUnavailable

    config = ctx.find_object(Config)
    holder = ServeLock(config.service.data_dir).holder()
    if holder is not None:  # said before anything else; serve() takes the lock for real
        raise click.ClickException(f"leakline serve is already running on {config.service.data_dir} "
                                   f"(pid {holder.get('pid')}, port {holder.get('port')}); stop it first")
    app = app_for(ctx, create=True)
    from leakline.errorlog import install

    install(config.service.data_dir, "listener")  # the last error, for `leakline status`
    try:
        app.transport()  # a relay password missing from the environment fails here, clearly
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        run_event_loop(server.serve(app, announce=_announcer(config)))
    except (ConfigError, AlreadyServing) as exc:
        raise click.ClickException(str(exc)) from None
    except DatabaseUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {app.config.service.host}:"
                                   f"{app.config.service.port}: {exc.strerror or exc}") from None
    except KeyboardInterrupt:
        pass


def _announcer(config: Config):
    """Print serve's lines; after the first ("listening", which supervisors wait for) what it
    runs on: config, data, managers, transport, and warnings."""
    from leakline.output import echo_text
    from leakline.startup import startup_lines, startup_warnings

    told: list[str] = []

    def announce(line: str) -> None:
        echo_text(line)
        if not told:
            told.append(line)
            for said in startup_lines(config):
                echo_text(f"  {said}")
            for warning in startup_warnings(config):
                echo_text(warning, err=True)
    return announce


@main.command()
@click.argument("source", default="-", type=click.Path(allow_dash=True, dir_okay=False))
@click.option("--sender", "-f", default=None,
              help="Envelope sender (Postfix pipe: ${sender}; default $SENDER, as local(8) sets it).")
@click.option("--recipient", "-r", multiple=True,
              help="Envelope recipient (Postfix pipe: ${recipient}; default $RECIPIENT).")
@click.pass_context
def ingest(ctx: click.Context, source: str, sender: str | None, recipient: tuple[str, ...]) -> None:
    """Store one message from FILE or standard input (for an MTA pipe).

    Exits 0 once the message is stored and 75 (EX_TEMPFAIL) on any failure, so the MTA retries
    and never bounces a report. Example, a Postfix alias: incident: "|leakline ingest -"
    """
    from leakline.cli_org import NotOurRecipient

    try:
        spool_id = _ingest(ctx, source, sender, recipient)
    except NotOurRecipient as exc:  # as the listener's 550: the MTA returns it to the sender
        click.echo(f"leakline ingest: {exc}", err=True)
        sys.exit(EX_NOUSER)
    except Exception as exc:  # whatever went wrong, the MTA must keep the mail and retry
        message = exc.format_message() if isinstance(exc, click.ClickException) else \
            f"{type(exc).__name__}: {exc}"
        click.echo(f"leakline ingest: could not store the message: {message}", err=True)
        sys.exit(EX_TEMPFAIL)
    click.echo(f"stored as {spool_id}")


def _ingest(ctx: click.Context, source: str, sender: str | None, recipient: tuple[str, ...]) -> str:
    import os
    from datetime import datetime, timezone

    raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    raw, mbox_sender = _strip_mbox_from_line(raw)
    app = app_for(ctx, create=True)
    if sender is None:
        sender = os.environ.get("SENDER", mbox_sender or "")
    from leakline.cli_org import ingest_recipients

    recipients, orgs = ingest_recipients(app.config, list(recipient) or
                                         [r for r in [os.environ.get("RECIPIENT")] if r])
    envelope = {
        "mail_from": sender, "peer": "pipe", "helo": None, "rcpt_tos": recipients, "orgs": orgs,
        "received_at": datetime.now(timezone.utc).isoformat(),
    }
    (spool_id,) = app.spool.write([(raw, envelope)])
    return spool_id


def _strip_mbox_from_line(raw: bytes) -> tuple[bytes, str | None]:
    """local(8) may put an mbox "From sender date" line before the headers: not part of the mail."""
    if not raw.startswith(b"From "):
        return raw, None
    first, _, rest = raw.partition(b"\n")
    parts = first.split()
    # surrogateescape: bytes that are not UTF-8 reach the spool, which stores them escaped.
    return rest, (parts[1].decode("utf-8", "surrogateescape") if len(parts) > 1 else None)


@main.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script (case ids, phases, steps and kinds complete).

    Example: eval "$(leakline completion bash)"   (or put the output in ~/.bash_completion)
    """
    from click.shell_completion import get_completion_class

    from leakline.output import echo_text

    script = get_completion_class(shell)(main, {}, "leakline", "_LEAKLINE_COMPLETE").source()
    echo_text(script.rstrip("\n"))


from leakline.cli_audit import audit  # noqa: E402  (registered on the group)
from leakline.cli_cases import cases  # noqa: E402
from leakline.cli_outbox import outbox  # noqa: E402
from leakline.cli_process import deadlines, phase, report  # noqa: E402  (adds cases commands)
from leakline import cli_verbs  # noqa: E402,F401  (adds skip, reopen, note)
from leakline import cli_merge  # noqa: E402,F401  (adds cases merge)
from leakline.cli_retention import purge  # noqa: E402
from leakline.cli_store import spool, store  # noqa: E402
from leakline.cli_org import org  # noqa: E402
from leakline import cli_ops  # noqa: E402
from leakline.cli_db import db  # noqa: E402

main.add_command(cases)
main.add_command(phase)
main.add_command(deadlines)
main.add_command(report)
main.add_command(outbox)
main.add_command(audit)
main.add_command(purge)
main.add_command(store)
main.add_command(spool)
main.add_command(org)
cli_ops.register(main)  # status, backup, deploy
main.add_command(db)
# Last, after every command is registered: each takes its own --config too.
accept_config_everywhere(main)
