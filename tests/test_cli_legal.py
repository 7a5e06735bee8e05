"""The legal side of the CLI: the new fact options, --final-too and --skip, report kinds, saving a
draft with its hash, the audit export, old step ids in a stored case."""

from __future__ import annotations

import hashlib
import json

import pytest

from test_cli_process import cli, make_env, show

ORG = """[organization]
incident_address = "incident@example.com"
domains = ["example.com"]
privacy_mark = true
legal_name = "株式会社リークライン"
corporate_number = "4010001234567"
address = "東京都千代田区丸の内一丁目1番1号"
representative = "代表取締役 山田一郎"
industry = "情報通信業"
[organization.contact]
name = "個人情報保護管理者 鈴木次郎"
phone = "03-1234-5678"
email = "privacy@example.com"
enquiry_desk = "お問い合わせ窓口 0120-000-000"
"""
PO = ["--by", "po@example.com"]


@pytest.fixture
def env(tmp_path):
    return make_env(tmp_path, ORG)


def test_assess_takes_the_new_facts_and_shows_undetermined_and_questions(env):
    path, app, case_id = env
    result = cli(path, "cases", "assess", case_id, "--occurred-at", "2026-03-04", "--persons", "1000",
                 "--persons-over", "--data-items", "name,address", "--key-safe", "--client-notified-at",
                 "2026-03-06T10:00:00+09:00", "--gdpr-high-risk", "--medium", "electronic", "--audience",
                 "customers", "--caused-by", "us", "--evidence", "社内調査 3/6", *PO)
    assert result.exit_code == 0, result.output
    assert "triggers T4 (undetermined: none)" not in result.stdout
    assert result.stdout.startswith(f"{case_id}: triggers T4; PPC report required")
    facts = show(path, case_id)["facts"]
    assert facts["persons"]["value"] == 1000 and facts["persons_over"]["value"] is True
    assert facts["occurred_at"]["value"] == "2026-03-04" and facts["key_leaked"]["value"] is False
    assert facts["data_items"] == {**facts["data_items"], "value": ["name", "address"], "source": "admin",
                                   "evidence": "社内調査 3/6"}
    assert facts["sensitive"]["source"] == "derived" and facts["sensitive"]["value"] is False
    assert facts["recovered_unread"] == {"value": None, "source": None, "by": None, "at": None, "evidence": None}


def test_undetermined_is_said_and_asked(env):
    path, _, case_id = env
    result = cli(path, "cases", "assess", case_id, "--category", "loss", *PO)
    assert "(undetermined: T1, T2, T3)" in result.stdout
    assert "PPC report undetermined (treated as due)" in result.stdout
    assert "  ? T3 undetermined:" in result.stdout


@pytest.mark.parametrize("args,message", [
    (["--data-items", "name,shoe_size"], "data_items: unknown data item 'shoe_size'"),
    (["--persons-over"], "--persons-over needs --persons"),
    (["--client-notified-at", "yesterday"], "client_notified_at: expected an ISO date"),
    (["--audience", "everyone"], "audience: expected one of customers"),
])
def test_assess_errors_are_one_line(env, args, message):
    path, _, case_id = env
    result = cli(path, "cases", "assess", case_id, *args, *PO)
    assert result.exit_code == 1 and message in result.output and result.output.count("\n") == 1


def test_recovered_unread_with_evidence_is_no_leak(env):
    path, _, case_id = env
    cli(path, "cases", "assess", case_id, "--sensitive", *PO)
    result = cli(path, "cases", "assess", case_id, "--recovered-unread", "--evidence",
                 "受信者が未開封のまま削除した旨を書面で確認", *PO)
    assert "PPC report not required" in result.stdout
    case = show(path, case_id)
    assert case["assessment"]["not_a_leak"] is True and case["assessment"]["triggers"] == []
    assert case["facts"]["recovered_unread"]["evidence"] == "受信者が未開封のまま削除した旨を書面で確認"
    assert next(d for d in case["deadlines"] if d["kind"] == "review_body_final")["status"] != "not_applicable"


def test_final_too_and_skip_and_closing_the_case(env):
    path, app, case_id = env
    cli(path, "cases", "assess", case_id, "--sensitive", "--no-entrusted", "--no-wrongful", "--no-financial", *PO)
    result = cli(path, "phase", "close", case_id, "authorities", "--step", "ppc_preliminary", "--final-too",
                 "--note", "速報兼確報として提出", *PO)
    assert result.exit_code == 0 and "ppc_final closed too (速報兼確報)" in result.stdout
    statuses = {d["kind"]: d["status"] for d in show(path, case_id)["deadlines"]}
    assert statuses["ppc_preliminary"] == statuses["ppc_final"] == "done"
    refused = cli(path, "phase", "close", case_id, "authorities", "--step", "ppc_final", "--skip", "--note", "x", *PO)
    assert refused.exit_code == 1 and "already closed" in refused.output
    cli(path, "cases", "ack", case_id, *PO)
    for phase_id, step in [("containment", None), ("publication", "persons_notice"),
                           *[("prevention", s) for s in ("facts", "cause", "measures", "implementation",
                                                         "verification")],
                           ("authorities", "review_body_preliminary"), ("authorities", "review_body_final")]:
        args = ["phase", "close", case_id, phase_id, "--note", f"done {step}", *PO]
        if step:
            args[4:4] = ["--step", step]
        assert cli(path, *args).exit_code == 0, (phase_id, step)
    result = cli(path, "cases", "close", case_id, *PO)  # the public notice is optional: not in the way
    assert result.exit_code == 0, result.output
    public = next(s for p in show(path, case_id)["phases"] for s in p["steps"] if s["id"] == "public_notice")
    assert public["status"] == "skipped" and public["note"] == "not done (optional); the case was closed"
    closed = [e for e in app.store.audit.for_case(case_id) if e["action"] == "case_closed"]
    assert closed[-1]["details"] == {"skipped": ["publication.public_notice"]}


def test_skipping_publication_is_recorded(env):
    path, _, case_id = env
    result = cli(path, "phase", "close", case_id, "publication", "--step", "notice", "--skip",
                 "--note", "対象者全員に個別連絡済みのため公表しない", *PO)
    assert result.exit_code == 0 and result.stdout.strip().endswith("publication.public_notice skipped")
    public = next(s for p in show(path, case_id)["phases"] for s in p["steps"] if s["id"] == "public_notice")
    assert (public["status"], public["note"]) == ("skipped", "対象者全員に個別連絡済みのため公表しない")


def test_report_kinds_refusal_force_and_stage(env):
    path, _, case_id = env
    cli(path, "cases", "assess", case_id, "--no-entrusted", *PO)
    refused = cli(path, "report", case_id, "--kind", "client-notice")
    assert refused.exit_code == 1 and refused.output.count("\n") == 1
    assert "client-notice (preliminary) does not apply" in refused.output and "--force" in refused.output
    forced = cli(path, "report", case_id, "--kind", "client_notice", "--force")
    assert forced.exit_code == 0 and forced.stdout.startswith("【注意】")
    final = cli(path, "report", case_id, "--kind", "review_body_final")
    assert final.stdout == cli(path, "report", case_id, "--kind", "review-body", "--stage", "final").stdout
    assert "（確報）" in final.stdout
    assert cli(path, "report", case_id, "--kind", "ppc-preliminary", "--stage", "final").exit_code == 1
    text = cli(path, "report", case_id, "--kind", "ppc-preliminary").stdout
    assert "法人番号: 4010001234567" in text and "担当者: 個人情報保護管理者 鈴木次郎" in text
    assert "お問い合わせ窓口 0120-000-000" in cli(path, "report", case_id, "--kind", "public_notice").stdout


def test_save_keeps_the_draft_and_records_its_hash_and_export_includes_it(env, tmp_path):
    path, app, case_id = env
    result = cli(path, "report", case_id, "--kind", "ppc-preliminary", "--save", *PO)
    assert result.exit_code == 0, result.output
    printed = result.stdout
    digest = hashlib.sha256(printed.removesuffix("\n").encode("utf-8")).hexdigest()
    assert f"sha256 {digest}" in result.stderr
    (event,) = [e for e in app.store.audit.for_case(case_id) if e["action"] == "report_saved"]
    assert event["actor"] == "po@example.com"
    assert event["details"] == {"kind": "ppc-preliminary", "stage": "preliminary", "lang": "ja",
                                "sha256": digest, "forced": False}
    (saved,) = show(path, case_id)["drafts"]
    assert saved["text"] == printed.removesuffix("\n") and saved["sha256"] == digest
    out = tmp_path / "export"
    assert cli(path, "audit", "export", case_id, "--out", str(out)).exit_code == 0
    (file,) = (out / "drafts").iterdir()
    assert file.name == "001-ppc-preliminary-preliminary-ja.txt"
    assert hashlib.sha256(file.read_bytes()).hexdigest() == digest
    assert json.loads((out / "manifest.json").read_text())[f"drafts/{file.name}"] == digest
    assert cli(path, "audit", "verify").exit_code == 0


def test_a_case_stored_with_old_step_ids_reads_and_closes_with_the_new_ones(env):
    path, app, case_id = env
    back = {"public_notice": "notice", "client_notice": "client", "persons_notice": "persons",
            "review_body_final": "review_body", "gdpr_72h": "gdpr"}

    def age(case):
        for phase in case["phases"]:
            phase["steps"] = [{k: v for k, v in {**s, "id": back.get(s["id"], s["id"])}.items() if k != "optional"}
                              for s in phase["steps"] if s["id"] not in ("gdpr_controller_notice", "sector_report")]
        for stored in case["deadlines"]:
            stored["step"] = stored["step"].replace("review_body_final", "review_body")
        return [{"action": "test_aged", "details": {}}]

    app.store.update(case_id, age)
    case = show(path, case_id)
    steps = [s["id"] for p in case["phases"] for s in p["steps"]]
    assert "review_body_final" in steps and "review_body" not in steps
    assert next(d for d in case["deadlines"] if d["kind"] == "review_body_final")["step"] == \
        "authorities.review_body_final"
    assert cli(path, "phase", "close", case_id, "authorities", "--step", "review_body", "--note", "提出",
               *PO).exit_code == 0
    stored = app.store.get(case_id)
    assert "review_body" not in [s["id"] for p in stored["phases"] for s in p["steps"]]
    rows = json.loads(cli(path, "deadlines", "--json").stdout)
    assert {r["kind"] for r in rows} >= {"ppc_preliminary", "client_notice"}  # pending duties are listed
