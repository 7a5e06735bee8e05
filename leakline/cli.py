"""The `leakline` command line: serve, ingest, init, cases. Heavy modules are imported lazily."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from leakline.config import Config, ConfigError, load, sample_text

EX_TEMPFAIL = 75


@click.group()
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="TOML file (default: $LEAKLINE_CONFIG, else ./leakline.toml, else built-ins).")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """leakline: email intake and response tracking for personal-data leak incidents.

    Example: leakline --config /etc/leakline.toml serve
    """
    # Whatever leakline writes (cases, raw mail, exports) is private unless it says otherwise.
    os.umask(0o077)
    if ctx.invoked_subcommand == "init":
        ctx.obj = Config()
        return
    try:
        ctx.obj = load(config_path)
    except ConfigError as exc:
        if ctx.invoked_subcommand == "ingest":
            # An MTA bounces mail on exit 1; a broken config must make it retry instead.
            click.echo(f"leakline ingest: {exc}", err=True)
            sys.exit(EX_TEMPFAIL)
        raise click.ClickException(str(exc)) from None


def run_event_loop(coro):
    """uvloop where it is installed (it roughly halves the listener's per-message overhead)."""
    try:
        import uvloop
    except ImportError:
        import asyncio

        return asyncio.run(coro)
    return uvloop.run(coro)


def app_for(ctx: click.Context, prepare: bool = True):
    from leakline.app import App, DataDirError

    app = App(ctx.find_object(Config))
    if prepare:
        try:
            app.prepare()
        except (DataDirError, OSError) as exc:
            raise click.ClickException(str(exc)) from None
    return app


@main.command()
@click.argument("path", required=False, default="leakline.toml", type=click.Path(dir_okay=False))
def init(path: str) -> None:
    """Write a commented sample configuration (refuses to overwrite).

    Example: leakline init /etc/leakline.toml
    """
    target = Path(path)
    if target.exists():
        raise click.ClickException(f"{target} exists; not overwriting it")
    target.write_text(sample_text(), encoding="utf-8")
    target.chmod(0o600)
    click.echo(f"wrote {target}; edit it, then run: leakline --config {target} serve")


@main.command()
@click.pass_context
def serve(ctx: click.Context) -> None:
    """Run the SMTP listener, intake and the outbox sender until Ctrl-C or SIGTERM.

    Example: leakline serve
    """
    import logging

    import server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # aiosmtpd logs every SMTP command at INFO; keep case data out of the log.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    app = app_for(ctx)
    try:
        app.transport()  # a relay password missing from the environment fails here, clearly
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        run_event_loop(server.serve(app, announce=lambda line: click.echo(line, err=False)))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {app.config.service.host}:"
                                   f"{app.config.service.port}: {exc.strerror or exc}") from None
    except KeyboardInterrupt:
        pass


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
    try:
        spool_id = _ingest(ctx, source, sender, recipient)
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
    app = app_for(ctx)
    if sender is None:
        sender = os.environ.get("SENDER", mbox_sender or "")
    recipients = list(recipient) or [os.environ.get("RECIPIENT") or
                                      app.config.organization.incident_address]
    envelope = {
        "mail_from": sender, "peer": "pipe", "helo": None, "rcpt_tos": recipients,
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
    return rest, (parts[1].decode("ascii", "replace") if len(parts) > 1 else None)


from leakline.cli_audit import audit  # noqa: E402  (registered on the group)
from leakline.cli_cases import cases  # noqa: E402
from leakline.cli_outbox import outbox  # noqa: E402
from leakline.cli_process import deadlines, phase, report  # noqa: E402  (adds cases commands)
from leakline import cli_merge  # noqa: E402,F401  (adds cases merge)
from leakline.cli_retention import purge  # noqa: E402

main.add_command(cases)
main.add_command(phase)
main.add_command(deadlines)
main.add_command(report)
main.add_command(outbox)
main.add_command(audit)
main.add_command(purge)
