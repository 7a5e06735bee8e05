"""Issue 5: what the audit trail costs intake. Intake throughput with and without it, one run.

Usage: python bench/audit_cost.py [--messages 1000] [--rounds 3]

Each round stores the same N reports through `Intake.process` (parse, dedupe, case file, index,
with its audit intent and chain append) into a fresh data_dir, once with the real audit log and
once with a log that records nothing, alternating which goes first. Intake only: no responders,
no SMTP, so the audit's share is not diluted by work it does not touch.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchinfo import header  # noqa: E402
from smtpload import make_mail  # noqa: E402


class NoAudit:
    """An audit log that keeps nothing: the 'without' side of the comparison (bench only)."""

    def prepare(self) -> None: ...
    def record_intent(self, case_id, ids) -> None: ...
    def append(self, events): return events
    def clear_intents(self) -> None: ...
    def pending_intents(self): return []


def run_once(mails: list[bytes], audit: bool) -> float:
    from leakline.app import App
    from leakline.config import from_dict
    from leakline.store.spool import SpoolEntry

    with tempfile.TemporaryDirectory(prefix="leakline-audit-") as tmp:
        app = App(from_dict({"service": {"data_dir": str(Path(tmp) / "data")}}))
        if not audit:
            app.store.audit = NoAudit()
        app.prepare()
        entries = [SpoolEntry(f"b.{i}", {"spool_id": f"b.{i}", "mail_from": "staff@example.com",
                                         "received_at": "2026-11-26T01:00:00+00:00"}, raw)
                   for i, raw in enumerate(mails)]
        started = time.perf_counter()
        for entry in entries:
            app.intake.process(entry)
        elapsed = time.perf_counter() - started
        if audit:
            assert app.store.audit.verify().events == len(mails)
    return len(mails) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    header()
    mails = [make_mail(i) for i in range(args.messages)]
    rates = {"with_audit": [], "without_audit": []}
    for round_ in range(args.rounds):
        order = (True, False) if round_ % 2 == 0 else (False, True)
        for audit in order:
            rates["with_audit" if audit else "without_audit"].append(round(run_once(mails, audit), 1))
    result = {name: {"per_second": values, "median": statistics.median(values)}
              for name, values in rates.items()}
    result["ratio_with_over_without"] = round(result["with_audit"]["median"]
                                              / result["without_audit"]["median"], 3)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
