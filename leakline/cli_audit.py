"""`leakline audit ...`: verify the hash chain, show a case's timeline, export for an auditor."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import click

from leakline.cli_cases import load_case
from leakline.cli_common import case_argument
from leakline.jsonout import echo_json, instants, public_case
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
    from leakline.cli import app_for

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


def _timeline_line(event: dict) -> str:
    details = json.dumps(event.get("details", {}), ensure_ascii=False, sort_keys=True)
    return f"{event['at']}  #{event['seq']:<6} {event['actor']:<28} {event['action']:<20} {details}"


@audit.command("show")
@case_argument
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def show(ctx: click.Context, case_id: str, as_json: bool) -> None:
    """Print a case's timeline from the audit trail.

    Example: leakline audit show INC-2026-0001
    """
    from leakline.cli import app_for

    app = app_for(ctx)
    case_id = load_case(app, case_id)["id"]
    events = app.store.audit.for_case(case_id)
    if as_json:
        # Exactly as chained: the hash covers every key, so nothing is added or converted.
        echo_json(events, schema=False)
        return
    for event in events:
        echo_text(_timeline_line(event))


@audit.command("export")
@case_argument
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder to create (must not exist yet, or be empty).")
@click.pass_context
def export(ctx: click.Context, case_id: str, out_dir: str) -> None:
    """Write a folder an auditor can read without leakline: timeline, case, raw mail, manifest.

    Example: leakline audit export INC-2026-0001 --out ./INC-2026-0001-audit
    """
    from leakline.cli import app_for
    from store.files import ensure_dir

    app = app_for(ctx)
    case = load_case(app, case_id)
    case_id = case["id"]
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise click.ClickException(f"{out} is not empty")
    ensure_dir(out / "messages")
    events = app.store.audit.for_case(case_id)
    files = {
        "case.json": json.dumps({**instants(public_case(case), app.config.service.tz),
                                 "org": app.config.org.id, "schema": 1},
                                ensure_ascii=False, indent=2),
        "timeline.json": json.dumps(events, ensure_ascii=False, indent=2),
        "timeline.txt": "\n".join(_timeline_line(e) for e in events) + "\n",
        "README.txt": _readme(case_id),
    }
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    for number, saved in enumerate(case.get("drafts") or [], start=1):
        # The text exactly as printed, without the final newline: sha256sum matches the audit.
        name = f"{number:03d}-{saved['kind']}-{saved['stage']}-{saved['lang']}.txt"
        ensure_dir(out / "drafts")
        (out / "drafts" / name).write_bytes(saved["text"].encode("utf-8"))
    for number, message in enumerate(case.get("messages", []), start=1):
        if message.get("raw"):
            raw = app.store.raw_path(message["raw"])
            if raw.exists():
                (out / "messages" / f"{number:03d}-{message['direction']}.eml").write_bytes(raw.read_bytes())
    manifest = {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(out.rglob("*")) if p.is_file()}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    echo_text(f"exported {case_id} to {out} ({len(manifest)} files, manifest.json has their SHA-256)")


def _readme(case_id: str) -> str:
    return (f"Audit export of case {case_id}, written by leakline.\n\n"
            "case.json      the case record: facts, assessment, phases, deadlines, messages\n"
            "timeline.txt   every change to the case, in order (also timeline.json)\n"
            "messages/      the raw messages as received or sent (.eml, open with any mail client)\n"
            "drafts/        report drafts saved with `leakline report --save`, as printed; their\n"
            "               SHA-256 is in the timeline (report_saved)\n"
            "manifest.json  the SHA-256 of every file here; check with: sha256sum FILE\n\n"
            "Each timeline event carries 'prev' and 'hash': the SHA-256 chain of the whole\n"
            "audit log; `leakline audit verify` checks it on the server.\n")
