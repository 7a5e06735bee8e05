#!/usr/bin/env python3
"""Score flufl.bounce against the bounce corpus in this directory.

Usage (flufl.bounce must be importable, e.g. from a throwaway venv):

    python -m venv /tmp/bvenv && /tmp/bvenv/bin/pip install flufl.bounce
    /tmp/bvenv/bin/python score_flufl.py [--json]

For every NN-*.eml listed in expected.json it runs flufl.bounce.scan_message() (permanent failures
only) and flufl.bounce.all_failures() (temporary, permanent) and compares them with the labels.
Addresses are compared case-insensitively.  The labels say what each message really reports; they
were not adjusted to flufl's output.

Figures printed:
  * detection: a sample counts as "flagged" when all_failures() returns any address at all;
  * recipients (all_failures, temp+perm) against every bounce's expected recipients;
  * recipients (scan_message, perm only) against the expected recipients of permanent bounces
    (a delayed/temporary bounce is expected to yield nothing from scan_message);
  * temporary-vs-permanent agreement where flufl found the right address;
  * false positives on the negative (non-bounce) samples.
"""

import argparse
import email
import json
import sys
from pathlib import Path

try:
    import flufl.bounce as fb
except ImportError:  # pragma: no cover - guidance only
    sys.exit("flufl.bounce is not importable; install it into a venv (see the docstring)")

HERE = Path(__file__).resolve().parent


def decode(addresses):
    return sorted({a.decode("ascii", "replace").lower() if isinstance(a, bytes) else a.lower()
                   for a in addresses})


def run_flufl(path):
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f)
    try:
        perm_only = decode(fb.scan_message(msg))
        temp, perm = fb.all_failures(msg) if hasattr(fb, "all_failures") else (set(), set())
        return {"scan": perm_only, "temp": decode(temp), "perm": decode(perm), "error": None}
    except Exception as exc:  # a crash is a result too
        return {"scan": [], "temp": [], "perm": [], "error": "%s: %s" % (type(exc).__name__, exc)}


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    return p, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true", help="also dump per-sample results as JSON")
    args = ap.parse_args()

    expected = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
    rows = []
    all_tp = all_fp = all_fn = 0          # all_failures vs all bounces
    scan_tp = scan_fp = scan_fn = 0       # scan_message vs permanent bounces
    det = {"tp": 0, "fn": 0, "fp": 0, "tn": 0}
    kind_agree = kind_total = 0
    neg_fp_samples = []
    errors = []

    for name in sorted(expected):
        exp = expected[name]
        res = run_flufl(HERE / name)
        if res["error"]:
            errors.append((name, res["error"]))
        want = sorted(a.lower() for a in exp["recipients"])
        got_all = sorted(set(res["temp"]) | set(res["perm"]))
        flagged = bool(got_all)

        if exp["is_bounce"]:
            det["tp" if flagged else "fn"] += 1
            tp = len(set(want) & set(got_all))
            all_tp += tp
            all_fp += len(set(got_all) - set(want))
            all_fn += len(set(want) - set(got_all))
            want_scan = want if exp["permanent"] else []
            scan_tp += len(set(want_scan) & set(res["scan"]))
            scan_fp += len(set(res["scan"]) - set(want_scan))
            scan_fn += len(set(want_scan) - set(res["scan"]))
            right = set(want) & set(got_all)
            if right and exp["permanent"] is not None:
                kind_total += 1
                flufl_perm = bool(right & set(res["perm"]))
                kind_agree += flufl_perm == exp["permanent"]
            if not got_all:
                verdict = "MISS"
            elif set(got_all) == set(want):
                verdict = "OK"
            elif set(want) & set(got_all):
                verdict = "PARTIAL"
            else:
                verdict = "WRONG"
            if verdict in ("OK", "PARTIAL") and exp["permanent"] is not None:
                flufl_perm = bool(set(want) & set(res["perm"]))
                if flufl_perm != exp["permanent"]:
                    verdict += "+KIND"
        else:
            det["fp" if flagged else "tn"] += 1
            verdict = "FALSE-POS" if flagged else "ok (neg)"
            if flagged:
                neg_fp_samples.append((name, got_all))
        if res["error"]:
            verdict = "ERROR"
        rows.append((name, exp, res, verdict))

    # ---- table
    w = max(len(r[0]) for r in rows)
    print("%-*s  %-5s %-5s %-44s %-44s %s" % (w, "sample", "bnc", "perm", "expected recipients",
                                             "flufl perm | temp", "verdict"))
    print("-" * (w + 120))
    for name, exp, res, verdict in rows:
        fl = ",".join(res["perm"]) or "-"
        if res["temp"]:
            fl += " | temp:" + ",".join(res["temp"])
        print("%-*s  %-5s %-5s %-44s %-44s %s" % (
            w, name, "yes" if exp["is_bounce"] else "no",
            {True: "yes", False: "no", None: "-"}[exp["permanent"]],
            ",".join(exp["recipients"]) or "-", fl, verdict))

    # ---- figures
    nb = det["tp"] + det["fn"]
    nn = det["fp"] + det["tn"]
    p_all, r_all = prf(all_tp, all_fp, all_fn)
    p_scan, r_scan = prf(scan_tp, scan_fp, scan_fn)
    print()
    print("samples: %d (%d bounces, %d negatives)" % (len(rows), nb, nn))
    print("detection (any address from all_failures): %d/%d bounces flagged (recall %.2f); "
          "%d/%d negatives flagged (false positives)" % (det["tp"], nb, det["tp"] / nb, det["fp"], nn))
    print("recipients, all_failures temp+perm vs all bounces: TP=%d FP=%d FN=%d  precision=%.3f recall=%.3f"
          % (all_tp, all_fp, all_fn, p_all, r_all))
    print("recipients, scan_message (permanent) vs permanent bounces: TP=%d FP=%d FN=%d  "
          "precision=%.3f recall=%.3f" % (scan_tp, scan_fp, scan_fn, p_scan, r_scan))
    if kind_total:
        print("temporary/permanent agreement where the address was found: %d/%d" % (kind_agree, kind_total))
    if neg_fp_samples:
        print("false positives on negatives:")
        for name, got in neg_fp_samples:
            print("   %s -> %s" % (name, ", ".join(got)))
    else:
        print("false positives on negatives: none")
    if errors:
        print("errors:")
        for name, err in errors:
            print("   %s: %s" % (name, err))
    print("flufl.bounce version: %s" % getattr(fb, "__version__", "?"))

    if args.json:
        print(json.dumps([{"sample": n, "verdict": v, "flufl": r, "expected": e}
                          for n, e, r, v in rows], ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
