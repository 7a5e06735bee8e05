"""The facade over a case document: extraction, facts, reassessment, closing steps."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from leakline import process
from leakline.config import Organization

TOKYO = ZoneInfo("Asia/Tokyo")
ORG = Organization(privacy_mark=True, gdpr=False, report_to="個人情報保護委員会")
RECEIVED = "2026-03-05T18:03:00+09:00"
NOW = datetime(2026, 3, 6, 9, 0, tzinfo=TOKYO)
TEXT = "顧客約300名分の氏名と住所を含むExcelファイルを、取引先の別の担当者にメールで誤送信しました。"


def new_case(text=TEXT, subject="メール誤送信の報告"):
    case = {"id": "INC-2026-0001", "status": "open", "reporter": "taro@example.com", "received_at": RECEIVED,
            "facts": {}, "sent": {}}
    case, _ = process.apply_extraction(case, text, subject, RECEIVED)
    return process.reassess(case, org=ORG, tz=TOKYO, now=NOW)


def deadline(case, kind):
    return next(d for d in case["deadlines"] if d["kind"] == kind)


def test_a_report_becomes_an_assessed_case():
    case, notes = new_case()
    assert case["category"] == "misdirected_email"
    assert case["facts"]["discovered_at"]["value"] == RECEIVED
    assert case["facts"]["persons"]["value"] == 300
    # The text lists names and addresses, but only a person's list decides that nothing else
    # (no medical column, no card numbers) was in the file: T1 and T2 stay undetermined.
    assert case["assessment"]["triggers"] == [] and case["assessment"]["ppc_report_required"] is None
    assert case["assessment"]["triggers_undetermined"] == ["T1", "T2"]
    assert deadline(case, "review_body_final") == {"kind": "review_body_final", "due": "2026-04-03",
                                                   "warn": "2026-03-27", "status": "open",
                                                   "step": "authorities.review_body_final"}
    assert deadline(case, "ppc_final")["status"] == "pending"
    assert notes == ["Final report to the review body (審査機関) now required: every incident"]
    case, _ = process.apply_facts(case, {"data_items": ["name", "address"]}, "admin", "po@example.com", NOW)
    case, _ = process.reassess(case, org=ORG, tz=TOKYO, now=NOW)
    assert case["assessment"]["ppc_report_required"] is False
    assert deadline(case, "ppc_final")["status"] == "not_applicable"


def test_a_fact_that_adds_a_trigger_is_newly_required():
    case, _ = new_case()
    case, changes = process.apply_facts(case, {"data_items": ["name", "address", "medical"]}, "reply",
                                        "taro@example.com", "2026-03-06T08:00:00+09:00")
    assert [c.field for c in changes] == ["data_items"]
    case, notes = process.reassess(case, org=ORG, tz=TOKYO, now=NOW)
    assert case["assessment"]["triggers"] == ["T1"]
    assert notes == ["Preliminary report (速報) to the PPC or the delegated ministry now required: T1",
                     "Final report (確報) to the PPC or the delegated ministry now required: T1",
                     "Notice to the persons (本人通知) now required: T1",
                     "Preliminary report to the review body (審査機関) now required: T1"]
    assert deadline(case, "ppc_preliminary")["status"] == "open"
    case, notes = process.reassess(case, org=ORG, tz=TOKYO, now=NOW)
    assert notes == []  # nothing new the second time


def test_the_admin_word_stands_against_later_extraction():
    case, _ = new_case()
    case, _ = process.apply_facts(case, {"category": "misdelivery"}, "admin", "boss@example.com", NOW)
    case, changes = process.apply_extraction(case, TEXT, "Re: 報告", NOW)
    assert "category" not in [c.field for c in changes]
    case, _ = process.reassess(case, org=ORG, tz=TOKYO, now=NOW)
    assert case["category"] == "misdelivery"


def test_discovered_at_set_by_an_admin_moves_the_deadlines():
    case, _ = new_case()
    case, _ = process.apply_facts(case, {"discovered_at": "2026-03-01T09:00:00+09:00"}, "admin",
                                  "boss@example.com", NOW)
    case, _ = process.reassess(case, org=ORG, tz=TOKYO, now=NOW)
    assert deadline(case, "review_body_final")["due"] == "2026-03-30"


def test_closing_a_step_marks_its_deadline_done():
    case, _ = new_case(text="顧客の病歴を含むファイルを誤送信しました")
    case = process.close(case, "authorities", "review_body_preliminary", by="boss@example.com", at=NOW,
                         note="reported on the portal", org=ORG, tz=TOKYO, now=NOW)
    assert deadline(case, "review_body_preliminary")["status"] == "done"
    assert deadline(case, "ppc_preliminary")["status"] == "open"


def test_notifying_the_client_releases_the_ppc_deadlines():
    case, _ = new_case(text="委託元からお預かりした顧客の病歴を含むファイルを誤送信しました")
    assert deadline(case, "ppc_final")["status"] == "open"
    case = process.close(case, "publication", "client", by="boss@example.com", at=NOW,  # the old id
                         note="client notified by phone and letter", org=ORG, tz=TOKYO, now=NOW)
    assert deadline(case, "client_notice")["status"] == "done"
    assert case["facts"]["client_notified_at"]["value"] == NOW.isoformat()
    assert case["facts"]["client_notified_at"]["source"] == "admin"
    assert case["assessment"]["released_to_client"] is True
    assert deadline(case, "ppc_final")["status"] == "not_applicable"
    assert "publication.persons_notice" not in process.open_items(case["phases"])


def test_final_too_closes_the_final_report_with_the_preliminary():
    case, _ = new_case(text="顧客の病歴を含むファイルを誤送信しました")
    case = process.close(case, "authorities", "ppc_preliminary", by="boss@example.com", at=NOW,
                         note="速報兼確報として提出", org=ORG, tz=TOKYO, now=NOW, final_too=True)
    assert deadline(case, "ppc_preliminary")["status"] == deadline(case, "ppc_final")["status"] == "done"
    final = next(s for p in case["phases"] for s in p["steps"] if s["id"] == "ppc_final")
    assert "速報兼確報" in final["note"]
    with pytest.raises(process.PhaseError, match="^--final-too goes with --step ppc_preliminary"):
        process.close(case, "authorities", "review_body_preliminary", by="boss@example.com", at=NOW,
                      note="x", org=ORG, tz=TOKYO, now=NOW, final_too=True)


def test_a_case_stored_with_the_old_step_ids_is_migrated():
    case, _ = new_case(text="委託元からお預かりした顧客の病歴を含むファイルを誤送信しました")
    old = {"notice": "public_notice", "client": "client_notice", "persons": "persons_notice",
           "review_body": "review_body_final", "gdpr": "gdpr_72h"}
    back = {new: old_id for old_id, new in old.items()}
    for phase in case["phases"]:
        for step in phase["steps"]:
            step.pop("optional")
            step["id"] = back.get(step["id"], step["id"])
            if step["id"] == "client":
                step.update(status="closed", closed_at="2026-03-06T08:00:00+09:00", closed_by="po@example.com",
                            note="電話で通知")
    for stored in case["deadlines"]:
        phase_id, _, step_id = stored["step"].partition(".")
        stored["step"] = f"{phase_id}.{back.get(step_id, step_id)}"
    migrated = process.migrate(case)
    steps = [s["id"] for p in migrated["phases"] for s in p["steps"]]
    assert "client_notice" in steps and "client" not in steps
    assert deadline(migrated, "review_body_final")["step"] == "authorities.review_body_final"
    assert migrated["facts"]["client_notified_at"]["value"] == "2026-03-06T08:00:00+09:00"
    case, _ = process.reassess(case, org=ORG, tz=TOKYO, now=NOW)
    assert case["assessment"]["released_to_client"] is True
    assert process.migrate(migrated) == migrated  # idempotent


@pytest.mark.parametrize("stated,earlier", [
    ("2026-03-03T09:00:00+09:00", True),    # "I noticed on Tuesday": day 1 moves back
    ("2026-03-05", True),                   # a bare date on the day of receipt
    ("2026-03-05T18:03:00+09:00", True),
    ("2026-03-05T18:04:00+09:00", False),   # never after the receipt
    ("2026-03-07", False),
    ("2026-03-05T09:00", True),             # naive: compared as written
    (None, False), ("", False), ("Friday", False),
])
def test_a_discovery_date_from_the_text_counts_when_not_after_the_receipt(stated, earlier):
    # apply_extraction keeps the extractor's discovered_at only then (issue 11 reads it from the text).
    assert process._earlier(stated, RECEIVED) is earlier
