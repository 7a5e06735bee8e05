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
    assert case["assessment"]["triggers"] == [] and case["assessment"]["ppc_report_required"] is False
    assert deadline(case, "review_body_final") == {"kind": "review_body_final", "due": "2026-04-03",
                                                   "warn": "2026-03-27", "status": "open",
                                                   "step": "authorities.review_body"}
    assert deadline(case, "ppc_final")["status"] == "not_applicable"
    assert notes == ["Final report to the review body (審査機関) now required: every incident"]


def test_a_fact_that_adds_a_trigger_is_newly_required():
    case, _ = new_case()
    case, changes = process.apply_facts(case, {"data_items": ["name", "address", "medical"]}, "reply",
                                        "taro@example.com", "2026-03-06T08:00:00+09:00")
    assert [c.field for c in changes] == ["data_items"]
    case, notes = process.reassess(case, org=ORG, tz=TOKYO, now=NOW)
    assert case["assessment"]["triggers"] == ["T1"]
    assert notes == ["Report to the PPC or the delegated ministry now required: T1",
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
    case = process.close(case, "publication", "client", by="boss@example.com", at=NOW,
                         note="client notified by phone and letter", org=ORG, tz=TOKYO, now=NOW)
    assert deadline(case, "client_notice")["status"] == "done"
    assert deadline(case, "ppc_final")["status"] == "not_applicable"
    assert "publication.persons" not in process.open_items(case["phases"])


def test_reassess_keeps_closed_steps():
    case, _ = new_case()
    case = process.close(case, "report", by="boss@example.com", at=NOW, note="acknowledged by mail",
                         org=ORG, tz=TOKYO, now=NOW)
    case, _ = process.apply_facts(case, {"sensitive": True}, "admin", "boss@example.com", NOW)
    case, _ = process.reassess(case, org=ORG, tz=TOKYO, now=NOW)
    report = next(p for p in case["phases"] if p["id"] == "report")
    assert (report["status"], report["closed_by"], report["note"]) == ("closed", "boss@example.com",
                                                                       "acknowledged by mail")


def test_overdue_when_now_is_past():
    case, _ = new_case()
    case, _ = process.reassess(case, org=ORG, tz=TOKYO, now=datetime(2026, 4, 4, 0, 1, tzinfo=TOKYO))
    assert deadline(case, "review_body_final")["status"] == "overdue"


def test_wrong_values_and_closes_raise_narrow_errors():
    case, _ = new_case()
    with pytest.raises(process.FactError, match="^persons: "):
        process.apply_facts(case, {"persons": "many"}, "admin", "boss@example.com", NOW)
    with pytest.raises(process.PhaseError, match="^unknown phase 'cleanup'"):
        process.close(case, "cleanup", by="boss@example.com", at=NOW, note="x", org=ORG, tz=TOKYO, now=NOW)


def test_a_case_without_received_at_or_discovered_at_is_refused():
    with pytest.raises(process.FactError, match="^discovered_at: unknown"):
        process.reassess({"id": "INC-1", "facts": {}}, org=ORG, tz=TOKYO, now=NOW)
