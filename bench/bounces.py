"""Bounce detectors scored on the corpus of real bounce formats (tests/data/bounces/).

    python bench/bounces.py [--detector NAME ...] [--rows]

For each NN-*.eml listed in expected.json (42 bounces, 12 look-alikes) a detector says whether
it is a bounce, which recipients failed (temporarily or for good) and the Message-ID of the
message that bounced. Figures, as tests/data/bounces/score_flufl.py counts them:
  detection      bounces flagged / 42, look-alikes flagged / 12 (false positives)
  recipients     over the 42 bounces: found, wrong, missed; precision and recall
  temp/perm      where the right address was found, whether its kind (permanent or delayed) agrees
  message-id     the original Message-ID named, where the corpus has one: right / wrong / missed
The envelope sender of each sample is its Return-Path (what the MTA recorded).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchinfo import header  # noqa: E402
from intake.parse import parse  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "bounces"


@dataclass
class Reading:
    is_bounce: bool
    permanent: set[str] = field(default_factory=set)
    temporary: set[str] = field(default_factory=set)
    original_message_id: str | None = None


def envelope_sender(raw: bytes) -> str:
    for line in raw.split(b"\n\n", 1)[0].splitlines():
        if line.lower().startswith(b"return-path:"):
            value = line.split(b":", 1)[1].decode("ascii", "replace").strip()
            address = parseaddr(value)[1]
            return "" if address.lower() in ("", "mailer-daemon") else address
    return "unknown@example.net"


def _addresses(values) -> set[str]:
    return {(a.decode("ascii", "replace") if isinstance(a, bytes) else a).lower() for a in values}


# -- the detectors --------------------------------------------------------------------------------

def before_wired(raw: bytes, mail_from: str) -> Reading:
    """As leakline was wired before issue 13: intake's kind 'bounce' is a multipart/report of
    report-type delivery-status; the responder reads its DSN blocks (responders.guards) and
    marks the delivery failed whatever the Action; the case is found by intake's
    original_message_id."""
    from responders.guards import bounce_details

    parsed = parse(raw)
    if parsed.report_type != "delivery-status":
        return Reading(False)
    details = bounce_details(parsed.msg)
    found = {r["final_recipient"].lower() for r in details["recipients"]
             if r["final_recipient"] and r["action"] in (None, "failed", "delayed")}
    return Reading(True, permanent=found, original_message_id=parsed.original_message_id)


def before_guards(raw: bytes, mail_from: str) -> Reading:
    """responders.guards.is_bounce and bounce_details: the second detector, called only by tests."""
    from responders.guards import bounce_details, is_bounce

    parsed = parse(raw)
    if not is_bounce(parsed.msg, mail_from):
        return Reading(False)
    details = bounce_details(parsed.msg)
    found = {r["final_recipient"].lower() for r in details["recipients"]
             if r["final_recipient"] and r["action"] in (None, "failed", "delayed")}
    return Reading(True, permanent=found, original_message_id=details["original_message_id"])


def flufl(raw: bytes, mail_from: str) -> Reading:
    """flufl.bounce.all_failures alone, on the same parse: a bounce when it names an address."""
    import flufl.bounce

    temporary, permanent = flufl.bounce.all_failures(parse(raw).msg)
    return Reading(bool(temporary or permanent), _addresses(permanent), _addresses(temporary))


DETECTORS = {"before": before_wired, "before-guards": before_guards, "flufl": flufl}


# -- scoring ----------------------------------------------------------------------------------------

def score(name: str, detector, expected: dict, rows: bool) -> dict:
    det = {"tp": 0, "fn": 0, "fp": 0, "tn": 0}
    tp = fp = fn = kind_agree = kind_total = 0
    ids = {"right": 0, "wrong": 0, "missed": 0}
    misses, false_pos = [], []
    started = time.perf_counter()
    for sample in sorted(expected):
        want = expected[sample]
        raw = (CORPUS / sample).read_bytes()
        got = detector(raw, envelope_sender(raw))
        found = got.permanent | got.temporary if got.is_bounce else set()
        if want["is_bounce"]:
            det["tp" if got.is_bounce else "fn"] += 1
            wanted = {a.lower() for a in want["recipients"]}
            tp, fp, fn = tp + len(found & wanted), fp + len(found - wanted), fn + len(wanted - found)
            right = found & wanted
            if right:
                kind_total += 1
                kind_agree += bool(right & got.permanent) == want["permanent"]
            if not got.is_bounce or wanted - found:
                misses.append(sample)
            if want["original_message_id"]:
                if got.is_bounce and got.original_message_id == want["original_message_id"]:
                    ids["right"] += 1
                elif got.is_bounce and got.original_message_id:
                    ids["wrong"] += 1
                else:
                    ids["missed"] += 1
        else:
            det["fp" if got.is_bounce else "tn"] += 1
            if got.is_bounce:
                false_pos.append(sample)
        if rows:
            print(f"  {sample:<40} {'bounce' if got.is_bounce else '-':<7} "
                  f"perm={','.join(sorted(got.permanent)) or '-'} "
                  f"temp={','.join(sorted(got.temporary)) or '-'} id={got.original_message_id or '-'}")
    elapsed = time.perf_counter() - started
    with_id = sum(ids.values())
    result = {
        "detector": name, "bounces_flagged": det["tp"], "bounces": det["tp"] + det["fn"],
        "lookalikes_flagged": det["fp"], "lookalikes": det["fp"] + det["tn"],
        "recipients_tp": tp, "recipients_fp": fp, "recipients_fn": fn,
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "kind_agree": f"{kind_agree}/{kind_total}",
        "message_id": f"{ids['right']}/{with_id} right, {ids['wrong']} wrong, {ids['missed']} missed",
        "missed": misses, "false_positives": false_pos,
        "ms_per_message": round(elapsed * 1000 / len(expected), 2),
    }
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector", action="append", choices=sorted(DETECTORS),
                    help="Score only these (default: all that can be imported).")
    ap.add_argument("--rows", action="store_true", help="Print what each detector read of each sample.")
    args = ap.parse_args()
    header()
    expected = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
    for name in args.detector or list(DETECTORS):
        try:
            result = score(name, DETECTORS[name], expected, args.rows)
        except ImportError as exc:
            print(f"{name}: not run ({exc})")
            continue
        print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
