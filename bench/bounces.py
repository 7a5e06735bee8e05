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
from leakline.intake.parse import parse  # noqa: E402

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

BEFORE = "d21095a"  # the last commit with the two detectors of before issue 13's structure half


def _guards_before():
    """responders/guards.py as it was at BEFORE, loaded from git (its bounce functions are gone)."""
    import subprocess
    import types

    try:
        src = subprocess.run(["git", "-C", str(ROOT), "show", f"{BEFORE}:responders/guards.py"],
                             capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ImportError(f"responders/guards.py at {BEFORE} not readable from git: {exc}") from exc
    module = types.ModuleType("guards_before")
    exec(compile(src, f"responders/guards.py@{BEFORE}", "exec"), module.__dict__)
    return module


def before_wired(raw: bytes, mail_from: str) -> Reading:
    """As leakline was wired before issue 13: intake's kind 'bounce' is a multipart/report of
    report-type delivery-status; the responder reads its DSN blocks (responders.guards) and
    marks the delivery failed whatever the Action; the case is found by intake's
    original_message_id."""
    bounce_details = _guards_before().bounce_details
    parsed = parse(raw)
    if parsed.report_type != "delivery-status":
        return Reading(False)
    details = bounce_details(parsed.msg)
    found = {r["final_recipient"].lower() for r in details["recipients"]
             if r["final_recipient"] and r["action"] in (None, "failed", "delayed")}
    return Reading(True, permanent=found, original_message_id=parsed.original_message_id)


def before_guards(raw: bytes, mail_from: str) -> Reading:
    """leakline.responders.guards.is_bounce and bounce_details: the second detector, called only by tests."""
    guards = _guards_before()
    bounce_details, is_bounce = guards.bounce_details, guards.is_bounce
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


def chosen(raw: bytes, mail_from: str, notices: bool = True) -> Reading:
    """leakline.intake.bounce.read_bounce: flufl.bounce behind who may send a bounce (a program, or a
    person forwarding one; never a list), with the Message-IDs of what bounced and, where flufl
    names no address, failure notices read by their words (`notices`)."""
    from leakline.intake.bounce import read_bounce

    found = read_bounce(parse(raw).msg, mail_from)
    if found is None or (not notices and found.found_by == "failure notice"):
        return Reading(False)
    return Reading(True, set(found.failed), set(found.delayed), found.original_message_id)


def chosen_without_notices(raw: bytes, mail_from: str) -> Reading:
    """The same without reading failure notices: flufl's addresses, its gate, the Message-IDs."""
    return chosen(raw, mail_from, notices=False)


def ours(raw: bytes, mail_from: str) -> Reading:
    """intake.bounce without flufl.bounce: its gate, the RFC 3464 blocks (Action failed or
    delayed) and the failure notices read by their words."""
    from leakline.intake import bounce

    msg = parse(raw).msg
    if msg is None or bounce._list_mail(msg) or bounce._report_type(msg) not in ("", "delivery-status"):
        return Reading(False)
    if not bounce._machine_sent(msg):
        msg = bounce._forwarded_bounce(msg)
        if msg is None:
            return Reading(False)
    blocks = bounce.dsn_blocks(msg)
    permanent = {b["final_recipient"] for b in blocks if b["final_recipient"] and b["action"] == "failed"}
    temporary = {b["final_recipient"] for b in blocks if b["final_recipient"] and b["action"] == "delayed"}
    if not permanent and not temporary:
        permanent = set(bounce._notice_recipients(msg))
    ids = bounce._original_ids(msg)
    return Reading(bool(permanent or temporary), permanent, temporary - permanent,
                   ids[0] if ids else None)


DETECTORS = {"before": before_wired, "before-guards": before_guards, "flufl": flufl,
             "ours": ours, "flufl+gate+ids": chosen_without_notices, "chosen": chosen}


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
