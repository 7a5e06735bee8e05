"""The held-out report texts (tests/data/legal_texts.json), written apart from this code: each is
a report whose case the law makes reportable (the PPC, the sector supervisor, or the My Number
form). From the text alone, as extracted, leakline must never say that the report is not
required: it says required, or undetermined and asks a person (issue 10, "Done when").

First run, on main at b0957ae (the extractor of issue 11's second pass): see the note in
bench/RESULTS.md ("held-out report texts").
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from leakline import process
from leakline.config import Organization
from leakline.process.deadlines import JAPAN

TEXTS = json.loads((Path(__file__).parent / "data" / "legal_texts.json").read_text(encoding="utf-8"))
# Where each duty the law names lives in the assessment and the deadlines.
DUTY = {"ppc_report": lambda case: case["assessment"]["ppc_report_required"],
        "my_number_report": lambda case: case["assessment"]["ppc_report_required"],
        "sector_report": lambda case: _deadline_applies(case, "sector_report")}


def _deadline_applies(case: dict, kind: str) -> bool | None:
    status = next((d["status"] for d in case["deadlines"] if d["kind"] == kind), "not_applicable")
    return None if status == "pending" else status != "not_applicable"


def assessed(spec: dict) -> dict:
    org_spec = spec["org"]
    org = Organization(privacy_mark=org_spec["privacy_mark"], gdpr=org_spec["gdpr"],
                       gdpr_role=org_spec.get("gdpr_role") or "controller",
                       sector=org_spec.get("sector") or "")
    received = spec["received_at"]
    case = {"id": spec["id"], "status": "open", "received_at": received, "facts": {}}
    case, _ = process.apply_extraction(case, spec["text"], spec["subject"], received)
    case, _ = process.reassess(case, org=org, tz=JAPAN, now=datetime.fromisoformat(received))
    return case


@pytest.mark.parametrize("spec", TEXTS, ids=[t["id"] for t in TEXTS])
def test_text_alone_never_says_a_required_report_is_not_required(spec):
    case = assessed(spec)
    for duty in spec["law_requires"]:
        said = DUTY[duty](case)
        assert said is not False, (duty, spec["why"], case["assessment"]["reasons"])
