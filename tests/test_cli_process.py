"""The response process through the CLI, and deadline reminders with an injected clock."""

import json
import re
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from clock import Clock
from leakline.app import App
from leakline.cli import main
from leakline.config import load
from mailbuilders import plain_mail
from leakline.store.spool import SpoolEntry

REPORT = "本日、顧客名簿（約120名分、氏名・住所）を記載したメールを社外の別の宛先に誤送信しました。"


ORGANIZATION = ('[organization]\nincident_address = "incident@example.com"\n'
                'domains = ["example.com"]\nprivacy_mark = true\n')


@pytest.fixture
def env(tmp_path):
    return make_env(tmp_path)


def make_env(tmp_path, organization: str = ORGANIZATION):
    """A config, an App and one misdirected-email report taken in as a case."""
    path = tmp_path / "c.toml"
    path.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\n{organization}'
                    '[[managers]]\nname = "PO"\nemail = "po@example.com"\nrole = "privacy_officer"\n',
                    encoding="utf-8")
    app = App(load(path))
    app.prepare()
    raw = plain_mail("メール誤送信の報告", REPORT, message_id="<rep-1@example.com>")
    # From a trusted relay (loopback), as `serve` takes it: the reporter is verified internal.
    result = app.intake.process(SpoolEntry("t.0", {"spool_id": "t.0", "mail_from": "taro@example.com",
                                                   "peer": "127.0.0.1",
                                                   "received_at": "2026-03-05T01:00:00+00:00"}, raw))
    app.responder(result)
    return path, app, result.case["id"]


def cli(path, *args, env=None):
    return CliRunner().invoke(main, ["--config", str(path), *args], env=env)


def show(path, case_id):
    return json.loads(cli(path, "cases", "show", case_id, "--json").output)


def test_report_is_extracted_and_assessed_on_intake(env):
    path, _, case_id = env
    case = show(path, case_id)
    assert case["category"] == "misdirected_email"
    assert case["facts"]["persons"]["value"] == 120 and case["facts"]["persons"]["source"] == "extracted"
    # Only names and addresses are mentioned, but until a person lists the data items (or says
    # whose data it was) those duties are undetermined: pending, never "not applicable".
    assert case["assessment"]["triggers"] == [] and case["assessment"]["ppc_report_required"] is None
    statuses = {d["kind"]: d["status"] for d in case["deadlines"] if d["status"] != "not_applicable"}
    assert set(statuses) == {"ppc_preliminary", "ppc_final", "review_body_preliminary", "review_body_final",
                             "client_notice"}
    assert all(status in ("pending", "overdue") for kind, status in statuses.items() if kind != "review_body_final")
    assert cli(path, "cases", "assess", case_id, "--data-items", "name,address", "--no-entrusted",
               "--by", "po@example.com").exit_code == 0
    applicable = {d["kind"] for d in show(path, case_id)["deadlines"] if d["status"] != "not_applicable"}
    assert applicable == {"review_body_final"}
    assert [p["id"] for p in case["phases"]] == ["report", "containment", "publication",
                                                 "prevention", "authorities"]


def test_admin_assessment_beats_extraction_and_escalates_a_new_duty(env):
    path, app, case_id = env
    result = cli(path, "cases", "assess", case_id, "--persons", "1500", "--estimated",
                 "--sensitive", "--by", "po@example.com")
    assert result.exit_code == 0, result.output
    assert "T1, T4" in result.output and "PPC report required" in result.output
    case = show(path, case_id)
    assert case["facts"]["persons"] == {**case["facts"]["persons"], "value": 1500, "source": "admin",
                                        "by": "po@example.com"}
    assert case["assessment"]["ppc_report_required"] and case["assessment"]["persons_notice_required"]
    kinds = {d["kind"]: d["due"] for d in case["deadlines"]}
    assert kinds["ppc_final"] == "2026-04-03"  # DOMAIN.md: learned 2026-03-05 -> Fri 2026-04-03
    alerts = [i for i in app.outbox.list() if i["kind"] == "escalation" and "po@example.com" in i["to"]]
    assert len(alerts) == 2  # the initial escalation and the "now required" alert
    actions = [e["action"] for e in app.store.audit.for_case(case_id)]
    assert actions.count("facts_changed") == 2 and "assessed" in actions


def test_wrongful_moves_the_final_report_to_60_days_past_golden_week(env):
    path, _, case_id = env
    assert cli(path, "cases", "assess", case_id, "--category", "unauthorized_access",
               "--by", "po@example.com").exit_code == 0
    due = {d["kind"]: d["due"] for d in show(path, case_id)["deadlines"]}
    assert due["ppc_final"] == "2026-05-07"


@pytest.mark.parametrize("args, message", [
    (["cases", "assess", "{id}", "--by", "po@example.com"], "nothing to record"),
    (["cases", "assess", "{id}", "--sensitive", "--by", "not-an-email"], "not an email"),
    (["phase", "close", "{id}", "prevention", "--step", "cause", "--note", "x", "--by", "po@example.com"],
     "before prevention.facts"),
    (["phase", "close", "{id}", "containment", "--step", "facts", "--note", "x", "--by", "po@example.com"],
     "unknown step 'facts' in phase containment"),
    (["cases", "ack", "{id}", "--by", "stranger@example.com"], "not one of the configured"),
    (["cases", "assess", "INC-2026-9999", "--sensitive", "--by", "po@example.com"], "no such case"),
    (["report", "INC-2026-9999", "--kind", "ppc-final"], "no such case"),
])
def test_errors_are_one_line_and_exit_1(env, args, message):
    path, _, case_id = env
    result = cli(path, *[a.replace("{id}", case_id) for a in args])
    assert result.exit_code == 1, result.output
    assert message in result.output and result.output.count("\n") == 1


@pytest.mark.parametrize("args, listed", [
    (["cases", "assess", "{id}", "--category", "spilled", "--by", "po@example.com"], "misdirected_email"),
    (["phase", "close", "{id}", "nonsense", "--note", "x", "--by", "po@example.com"], "containment"),
    (["phase", "close", "{id}", "prevention", "--step", "bogus", "--note", "x", "--by", "po@example.com"],
     "verification"),
])
def test_vocabulary_errors_are_usage_errors_listing_the_words(env, args, listed):
    # issue 12: --category, PHASE and --step are click choices (were one-line errors, exit 1)
    path, _, case_id = env
    result = cli(path, *[a.replace("{id}", case_id) for a in args])
    assert result.exit_code == 2, result.output
    assert "is not one of" in result.output and listed in result.output


def test_closing_refused_until_every_phase_is_done(env):
    path, _, case_id = env
    refused = cli(path, "cases", "close", case_id, "--by", "po@example.com")
    assert refused.exit_code == 1 and "still open: report" in refused.output
    assert cli(path, "cases", "ack", case_id, "--by", "po@example.com").exit_code == 0
    assert cli(path, "cases", "assess", case_id, "--data-items", "name,address", "--no-entrusted",
               "--by", "po@example.com").exit_code == 0
    steps = [("containment", None), ("publication", "notice"),  # old step ids are still accepted
             *[("prevention", s) for s in ("facts", "cause", "measures", "implementation", "verification")],
             ("authorities", "review_body")]
    for phase_id, step in steps:
        args = ["phase", "close", case_id, phase_id, "--note", f"done {step}", "--by", "po@example.com"]
        if step:
            args[4:4] = ["--step", step]
        result = cli(path, *args)
        assert result.exit_code == 0, (phase_id, step, result.output)
    result = cli(path, "cases", "close", case_id, "--by", "po@example.com")
    assert result.exit_code == 0, result.output
    case = show(path, case_id)
    assert case["status"] == "closed"
    prevention = next(p for p in case["phases"] if p["id"] == "prevention")
    assert prevention["status"] == "closed"
    assert prevention["steps"][0]["closed_by"] == "po@example.com"
    assert prevention["steps"][0]["note"] == "done facts"
    assert cli(path, "audit", "verify").exit_code == 0


def test_deadlines_listing(env):
    path, _, case_id = env
    cli(path, "cases", "assess", case_id, "--sensitive", "--by", "po@example.com")
    rows = json.loads(cli(path, "deadlines", "--json").output)
    assert {r["kind"] for r in rows} >= {"ppc_preliminary", "ppc_final"}
    assert all(r["status"] == "overdue" and r["days_left"] < 0 for r in rows)  # learned 2026-03-05
    assert json.loads(cli(path, "deadlines", "--overdue", "--json").output) == rows
    assert json.loads(cli(path, "deadlines", "--within", "0", "--json").output) == rows
    human = cli(path, "deadlines").output
    assert "ppc_preliminary" in human and case_id in human


@pytest.mark.parametrize("kind", ["ppc-preliminary", "ppc-final", "review-body", "client-notice"])
def test_report_drafts_carry_the_nine_items(env, kind):
    path, _, case_id = env
    text = cli(path, "report", case_id, "--kind", kind).output
    for number in range(1, 10):
        assert f"{number}." in text
    assert "漏えい" in text


def test_persons_notice_identifies_nobody(env):
    path, _, case_id = env
    text = cli(path, "report", case_id, "--kind", "persons-notice", "--lang", "en").output
    assert [line[:2] for line in text.splitlines() if re.match(r"^\d+\.", line)] == ["1.", "2.", "3.", "4.",
                                                                                    "5.", "6."]
    for secret in ("taro", "example.com", "顧客名簿"):
        assert secret not in text


def test_deadline_reminders_once_each_across_restart(env):
    path, _, case_id = env
    cli(path, "cases", "assess", case_id, "--sensitive", "--discovered-at",
        "2026-11-20T10:00:00+09:00", "--by", "po@example.com")
    clock = Clock(datetime(2026, 11, 23, 0, 30, tzinfo=timezone.utc))  # 23 Nov, JST morning

    def reminders(app):
        return sorted(i["subject"] for i in app.outbox.list() if i["kind"] == "deadline")

    app = App(load(path), now=clock)
    app.scheduler.run_once()
    first = reminders(app)
    assert first, "the preliminary report is due on 25 Nov: a reminder 2 days before"
    app.scheduler.run_once()
    assert reminders(App(load(path), now=clock)) == first  # once, also in a new process
    restarted = App(load(path), now=clock)
    restarted.scheduler.run_once()
    assert reminders(restarted) == first
    clock.advance(days=2)  # due day
    restarted.scheduler.run_once()
    on_day = reminders(restarted)
    assert len(on_day) > len(first)
    # closing the step stops its reminders
    for step in ("ppc_preliminary", "review_body_preliminary"):
        cli(path, "phase", "close", case_id, "authorities", "--step", step, "--note", "sent",
            "--by", "po@example.com")
    clock.advance(days=3)
    after = App(load(path), now=clock)
    after.scheduler.run_once()
    new = set(reminders(after)) - set(on_day)
    assert not any("preliminary" in s or "速報" in s for s in new), new
