"""An audit export of one case: a folder an auditor can read without leakline (timeline, case,
raw mail, saved drafts, manifest of SHA-256). The library half of `leakline audit export`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from leakline.jsonout import instants, public_case


class ExportError(Exception):
    """The export cannot be written where asked."""


def timeline_line(event: dict) -> str:
    details = json.dumps(event.get("details", {}), ensure_ascii=False, sort_keys=True)
    return f"{event['at']}  #{event['seq']:<6} {event['actor']:<28} {event['action']:<20} {details}"


def export_case(app, case: dict, out: Path) -> dict[str, str]:
    """Write `case` (as read, with today's step ids) to the folder `out`, which must not exist
    or be empty. -> the manifest: each file's path under `out` and its SHA-256."""
    from leakline.store.files import ensure_dir  # the CLI imports this module: keep `--help` light

    case_id = case["id"]
    if out.exists() and any(out.iterdir()):
        raise ExportError(f"{out} is not empty")
    ensure_dir(out / "messages")
    events = app.store.audit.for_case(case_id)
    files = {
        "case.json": json.dumps({**instants(public_case(case), app.config.service.tz),
                                 "org": app.config.org.id, "schema": 1},
                                ensure_ascii=False, indent=2),
        "timeline.json": json.dumps(events, ensure_ascii=False, indent=2),
        "timeline.txt": "\n".join(timeline_line(e) for e in events) + "\n",
        "README.txt": readme(case_id),
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
    return manifest


def readme(case_id: str) -> str:
    return (f"Audit export of case {case_id}, written by leakline.\n\n"
            "case.json      the case record: facts, assessment, phases, deadlines, messages\n"
            "timeline.txt   every change to the case, in order (also timeline.json)\n"
            "messages/      the raw messages as received or sent (.eml, open with any mail client)\n"
            "drafts/        report drafts saved with `leakline report --save`, as printed; their\n"
            "               SHA-256 is in the timeline (report_saved)\n"
            "manifest.json  the SHA-256 of every file here; check with: sha256sum FILE\n\n"
            "Each timeline event carries 'prev' and 'hash': the SHA-256 chain of the whole\n"
            "audit log; `leakline audit verify` checks it on the server.\n")
