"""Score extraction on corpus files in the SPEC.md format: per-field accuracy and the confusion of kinds.

    python tests/corpus/score.py tests/corpus/reports_devA.txt ...   [--misses FIELD] [--json]

Each report goes through the real path (`leakline.process.apply_extraction` with the report's
received_at), and flags are compared as the case would show them after the derivations of
facts.py (`known(records).values`), unknown counted as false. A kind left unknown counts as
wrong; persons compares the `persons` fact (null = null); discovered_at compares the date, and
a discovery on the day of receipt counts as none (SPEC: only a date before that day is labelled).
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from leakline.process import apply_extraction  # noqa: E402
from leakline.process.facts import known  # noqa: E402

FIELDS = ("category", "sensitive", "financial", "wrongful", "persons", "persons_over", "persons_max",
          "data_items", "discovered_at", "encrypted_claim")
TARGETS = {"category": 0.90, "sensitive": 0.95, "financial": 0.95, "wrongful": 0.95, "persons": 0.90}
TOKYO = ZoneInfo("Asia/Tokyo")


def read(path: str | Path) -> list[dict]:
    """The records of a corpus file: id, labels, subject, body."""
    text = Path(path).read_text(encoding="utf-8")
    records = []
    for chunk in re.split(r"(?m)^#### ", text)[1:]:
        head, _, rest = chunk.partition("\n")
        labels_line, _, rest = rest.partition("\n")
        subject_line, _, rest = rest.partition("\n")
        _, _, body = rest.partition("\n")
        if not labels_line.startswith("labels: ") or not subject_line.startswith("subject:"):
            raise SystemExit(f"{path}: record {head.strip()!r}: bad layout")
        records.append({"id": head.strip(), "labels": json.loads(labels_line[8:]),
                        "subject": subject_line[8:].strip(), "body": body.rstrip("\n")})
    return records


def predict(record: dict) -> dict:
    """What the case shows after extraction, in the labels' terms."""
    received = record["labels"]["received_at"]
    case = {"id": record["id"], "received_at": received, "facts": {}}
    updated, _ = apply_extraction(case, record["body"], record["subject"], received)
    values = known(updated["facts"]).values
    discovered = values["discovered_at"]
    day = str(discovered)[:10] if discovered else None
    received_day = datetime.fromisoformat(received).astimezone(TOKYO).date().isoformat()
    return {
        "category": values["category"],
        **{flag: bool(values[flag]) for flag in ("sensitive", "financial", "wrongful")},
        "persons": values["persons"], "persons_over": bool(values["persons_over"]),
        "persons_max": values["persons_max"], "data_items": values["data_items"],
        "discovered_at": None if day == received_day else day,
        "encrypted_claim": values["encryption_claim"] is not None,
    }


def score(records: list[dict]) -> dict:
    """Per field (right, total), the confusion of kinds, and the misses per field."""
    right = collections.Counter()
    confusion: collections.Counter = collections.Counter()
    misses: dict[str, list] = collections.defaultdict(list)
    for record in records:
        got, want = predict(record), record["labels"]
        for field in FIELDS:
            if got[field] == want[field]:
                right[field] += 1
            else:
                misses[field].append((record["id"], want[field], got[field]))
        confusion[(want["category"], got["category"])] += 1
    return {"total": len(records), "right": dict(right), "confusion": confusion, "misses": misses}


def report(result: dict) -> str:
    total = result["total"]
    lines = [f"{total} reports"]
    for field in FIELDS:
        n = result["right"].get(field, 0)
        target = f"  (target {TARGETS[field]:.0%})" if field in TARGETS else ""
        lines.append(f"  {field:16} {n:4}/{total}  {n / max(total, 1):6.1%}{target}")
    lines.append("confusion of kinds (labelled -> extracted, where they differ):")
    for (want, got), n in sorted(result["confusion"].items(), key=lambda item: (-item[1], str(item[0]))):
        if want != got:
            lines.append(f"  {want:20} -> {got or 'unknown':20} {n}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--misses", action="append", default=[], help="list the misses of FIELD")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    records = [record for path in args.files for record in read(path)]
    result = score(records)
    if args.json:
        print(json.dumps({"total": result["total"], "right": result["right"],
                          "confusion": [[w, g, n] for (w, g), n in result["confusion"].items()]},
                         ensure_ascii=False))
    else:
        print(report(result))
    for field in args.misses:
        for rid, want, got in result["misses"].get(field, []):
            print(f"  {field} {rid}: labelled {want!r}, extracted {got!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
