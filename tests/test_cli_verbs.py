"""Issue 12, the officer's verbs: ack twice, --by defaults, skip, reopen, note, case reopen,
deadlines with none due, outbox --sent, report kinds as step ids, audit verify of case files."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import datetime, timedelta, timezone

import pytest

from mailbuilders import plain_mail
from leakline.store.tinystore import read_tables, write_tables
from test_cli_dashboard import take_in
from test_cli_process import cli, make_env, show

PO = ["--by", "po@example.com"]
JST = timezone(timedelta(hours=9))


@pytest.fixture
def env(tmp_path):
    return make_env(tmp_path)


def statuses(case: dict, phase_id: str) -> dict:
    phase = next(p for p in case["phases"] if p["id"] == phase_id)
    return {s["id"]: s["status"] for s in phase["steps"]} or {phase_id: phase["status"]}


def actions(app, case_id: str) -> list[str]:
    return [e["action"] for e in app.store.audit.for_case(case_id)]


def test_ack_on_an_acknowledged_case_says_who_and_when(env):
    path, _, case_id = env
    first = cli(path, "cases", "ack", case_id, *PO)
    assert first.output == f"{case_id} acknowledged by po@example.com\n"
    again = cli(path, "cases", "ack", "inc-2026-1", *PO)
    assert again.exit_code == 0
    assert again.output.startswith(f"{case_id} was already acknowledged by po@example.com at 20")
    assert again.output.rstrip().endswith("JST")


def test_by_defaults_to_leakline_user_then_cli_user(env, tmp_path):
    path, app, case_id = env
    missing = cli(path, "cases", "note", case_id, "--text", "x")
    assert missing.exit_code == 1
    assert "who does this? give --by EMAIL, or set $LEAKLINE_USER or [cli] user" in missing.output
    assert cli(path, "cases", "note", case_id, "--text", "from env",
               env={"LEAKLINE_USER": "po@example.com"}).exit_code == 0
    with_user = tmp_path / "user.toml"
    with_user.write_text(path.read_text() + '[cli]\nuser = "po@example.com"\n')
    assert cli(with_user, "cases", "ack", case_id).output == f"{case_id} acknowledged by po@example.com\n"
    # --by beats both
    assert cli(with_user, "cases", "note", case_id, "--text", "x", "--by", "other@example.com",
               env={"LEAKLINE_USER": "po@example.com"}).exit_code == 0
    notes = show(path, case_id)["notes"]
    assert [(n["by"], n["text"]) for n in notes] == [("po@example.com", "from env"),
                                                     ("other@example.com", "x")]
    assert [e["actor"] for e in app.store.audit.for_case(case_id) if e["action"] == "note_added"] == [
        "po@example.com", "other@example.com"]


def test_skipping_a_whole_phase_with_required_reports_alerts_the_officer_and_settles_it(env):
    path, app, case_id = env
    assert cli(path, "cases", "assess", case_id, "--sensitive", *PO).exit_code == 0  # T1: PPC required
    result = cli(path, "phase", "skip", case_id, "authorities", "--reason", "reported by the client", *PO)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{case_id}: skipped authorities.review_body_preliminary, "
                                    "authorities.review_body_final, authorities.ppc_preliminary, "
                                    "authorities.ppc_final")
    assert "the privacy officer has been mailed" in result.output
    assert (f'leakline phase reopen {case_id} authorities --step ppc_preliminary --reason "..." '
            "--by po@example.com") in result.output
    case = show(path, case_id)
    assert set(statuses(case, "authorities").values()) == {"skipped", "not_applicable"}
    assert {d["kind"]: d["status"] for d in case["deadlines"]}["ppc_final"] == "skipped"
    skipped = [e for e in app.store.audit.for_case(case_id) if e["action"] == "phase_skipped"]
    assert skipped[0]["details"]["reason"] == "reported by the client"
    assert "authorities.ppc_final" in skipped[0]["details"]["required"]
    (alert,) = [i for i in app.outbox.list() if i["kind"] == "skip_alert"]
    assert alert["to"] == ["po@example.com"]
    queued = app.outbox.due(datetime.now(timezone.utc) + timedelta(days=30))
    texts = [email.message_from_bytes(item.message_bytes(), policy=email.policy.default)
             for item in queued]
    body = next(m for m in texts if "報告・通知の省略" in m["Subject"]).get_body(("plain",)).get_content()
    assert "理由: reported by the client" in body and "ppc_final" in body
    # skipped steps count as settled: the case closes once the rest is done or skipped
    assert cli(path, "cases", "ack", case_id, *PO).exit_code == 0
    for phase_id in ("containment", "publication", "prevention"):
        assert cli(path, "phase", "skip", case_id, phase_id, "--reason", "n/a", *PO).exit_code == 0
    closed = cli(path, "cases", "close", case_id, *PO)
    assert closed.exit_code == 0, closed.output
    assert cli(path, "audit", "verify").exit_code == 0


def test_skipping_an_optional_step_sends_no_alert_and_errors_are_one_line(env):
    path, app, case_id = env
    result = cli(path, "phase", "skip", case_id, "publication", "--step", "public_notice", "--reason",
                 "no public interest", *PO)
    assert result.output == f"{case_id}: skipped publication.public_notice\n"
    assert not [i for i in app.outbox.list() if i["kind"] == "skip_alert"]
    for args, message in ((["publication", "--step", "public_notice"], "already skipped"),
                          (["authorities", "--step", "gdpr_72h"], "does not apply"),
                          (["containment", "--step", "facts"], "unknown step 'facts'")):
        again = cli(path, "phase", "skip", case_id, *args, "--reason", "x", *PO)
        assert again.exit_code == 1 and message in again.output and again.output.count("\n") == 1
    blank = cli(path, "phase", "skip", case_id, "containment", "--reason", "  ", *PO)
    assert blank.exit_code == 1 and "--reason is required" in blank.output


def test_reopen_a_step_a_phase_and_a_case(env):
    path, app, case_id = env
    cli(path, "cases", "assess", case_id, "--sensitive", *PO)
    assert cli(path, "phase", "close", case_id, "authorities", "--step", "ppc-preliminary", "--note",
               "filed", *PO).exit_code == 0
    assert {d["kind"]: d["status"] for d in show(path, case_id)["deadlines"]}["ppc_preliminary"] == "done"
    result = cli(path, "phase", "reopen", case_id, "authorities", "--step", "ppc_preliminary",
                 "--reason", "the PPC asked for it again", *PO)
    assert result.output == f"{case_id}: authorities.ppc_preliminary reopened (it was closed)\n"
    case = show(path, case_id)
    assert statuses(case, "authorities")["ppc_preliminary"] == "open"
    assert {d["kind"]: d["status"] for d in case["deadlines"]}["ppc_preliminary"] == "overdue"
    refused = cli(path, "phase", "reopen", case_id, "authorities", "--reason", "x", *PO)
    assert refused.exit_code == 1 and "name the one to reopen with --step" in refused.output
    not_closed = cli(path, "phase", "reopen", case_id, "containment", "--reason", "x", *PO)
    assert not_closed.exit_code == 1 and "containment is open" in not_closed.output
    assert cli(path, "phase", "close", case_id, "containment", "--note", "deleted", *PO).exit_code == 0
    assert cli(path, "phase", "reopen", case_id, "containment", "--reason", "not deleted after all",
               *PO).exit_code == 0
    assert statuses(show(path, case_id), "containment") == {"containment": "open"}
    # a case: refused while open, reopened once closed
    assert "is not closed" in cli(path, "cases", "reopen", case_id, "--reason", "x", *PO).output
    app.store.update(case_id, lambda case: (case.update(status="closed", closed_at="2026-04-01T10:00:00+09:00"),
                                            [{"action": "case_closed", "actor": "po@example.com"}])[1])
    assert cli(path, "cases", "reopen", "inc-2026-1", "--reason", "more persons found", *PO).output == \
        f"{case_id} reopened\n"
    case = show(path, case_id)
    assert case["status"] == "open" and case["closed_at"] is None
    assert actions(app, case_id)[-1] == "case_reopened"
    assert cli(path, "audit", "verify").exit_code == 0


def test_notes_are_kept_shown_and_audited(env):
    path, app, case_id = env
    assert cli(path, "cases", "note", case_id, "--text", "相手先に電話し、削除を依頼した", *PO).output == \
        f"{case_id}: note added (1 in all)\n"
    assert "po@example.com: 相手先に電話し、削除を依頼した" in cli(path, "cases", "show", case_id).output
    (note,) = show(path, case_id)["notes"]
    assert note["text"] == "相手先に電話し、削除を依頼した" and note["at"].endswith("+09:00")
    assert actions(app, case_id)[-1] == "note_added"


def test_deadlines_within_with_none_due_says_how_many_are_later(env):
    path, _, case_id = env
    today = datetime.now(JST).date()
    cli(path, "cases", "assess", case_id, "--discovered-at", today.isoformat(), *PO)
    result = cli(path, "deadlines", "--within", "3")
    assert result.exit_code == 0
    assert result.output.startswith("no deadlines due within 3 days; 5 later (the next: "
                                    f"{case_id} ppc_preliminary {today + timedelta(days=4)}, in 4 days)")
    assert json.loads(cli(path, "deadlines", "--within", "3", "--json").output) == []
    assert cli(path, "deadlines", "--overdue").output.startswith("no deadlines overdue; 5 later")
    rows = json.loads(cli(path, "deadlines", "--within", "4", "--json").output)
    assert rows and all(r["id"] == r["case"] == case_id and r["schema"] == 1 for r in rows)


def test_outbox_list_sent_shows_what_went_to_whom(env):
    path, app, case_id = env
    other = take_in(app, plain_mail("紛失", "USBメモリを紛失しました。", message_id="<usb@example.com>"))
    queued = app.outbox.list()
    for item in queued:
        app.outbox.mark_sent(item["id"])
    result = cli(path, "outbox", "list", "--sent", "--case", "inc-2026-1")
    lines = result.output.splitlines()
    assert lines[0].split()[:6] == ["ID", "CASE", "KIND", "TO", "TRIES", "SENT"]
    mine = [item for item in queued if item["case_id"] == case_id]
    assert len(lines) == 1 + len(mine) and all(case_id in line for line in lines[1:])
    assert any("guidance" in line and "taro@example.com" in line for line in lines[1:])
    assert cli(path, "outbox", "list", "--sent", "--case", "INC-2026-0009").output == \
        "Nothing sent for INC-2026-0009.\n"
    rows = json.loads(cli(path, "outbox", "list", "--sent", "--json").output)
    assert {r["case_id"] for r in rows} == {case_id, other["id"]}
    assert all(r["sent_at"].endswith("+09:00") and r["schema"] == 1 for r in rows)
    assert cli(path, "outbox", "list").output == "The outbox queue is empty.\n"


@pytest.mark.parametrize("kind", ["ppc_preliminary", "PPC-Preliminary", "ppc-preliminary",
                                  "review_body_final", "review-body", "persons", "notice"])
def test_report_kinds_are_the_step_ids_and_accept_other_spellings(env, kind):
    path, _, case_id = env
    result = cli(path, "report", case_id, "--kind", kind, "--force")
    assert result.exit_code == 0, result.output


def test_an_unknown_report_kind_lists_the_kinds(env):
    path, _, case_id = env
    result = cli(path, "report", case_id, "--kind", "ppc")
    assert result.exit_code == 2
    assert "'ppc' is not one of 'ppc_preliminary', 'ppc_final', 'review_body'" in result.output


def tamper(app, case_id: str, edit) -> None:
    path = next(app.data_dir.glob(f"cases/*/*/{case_id}.json"))
    tables = read_tables(path)
    edit(tables["case"][0])
    write_tables(path, tables)


@pytest.mark.parametrize("edit, problem", [
    (lambda c: c["facts"]["persons"].update(value=12), "fact persons is 12 (extracted) but its last "
                                                       "recorded change set 120 (extracted)"),
    (lambda c: c.update(status="closed"), "status is closed but the events leave it open"),
    (lambda c: c["acks"].append({"by": "po@example.com", "at": "2026-03-05T10:00:00+09:00"}),
     "acknowledgement by po@example.com has no event"),
    (lambda c: c["phases"][1].update(status="closed") or c["phases"][3]["steps"][0].update(status="closed"),
     "prevention.facts is closed with no event"),
    (lambda c: c.update(event_count=c["event_count"] - 1), "the file counts"),
])
def test_audit_verify_checks_each_case_file_against_its_events(env, edit, problem):
    path, app, case_id = env
    ok = cli(path, "audit", "verify")
    assert ok.exit_code == 0 and "case files agree with their events: 1 cases" in ok.output
    tamper(app, case_id, edit)
    broken = cli(path, "audit", "verify")
    assert broken.exit_code == 1
    assert "audit chain intact" in broken.output  # the chain alone would not have seen it
    assert f"case file disagrees with its events: {case_id}: {problem}" in broken.output, broken.output


def test_a_second_manager_acknowledging_is_told_who_was_first(env, tmp_path):
    path, _, case_id = env
    two = tmp_path / "two.toml"
    two.write_text(path.read_text() + '[[managers]]\nname = "Boss"\nemail = "boss@example.com"\n'
                                      'role = "supervisor"\n')
    assert cli(two, "cases", "ack", case_id, *PO).exit_code == 0
    second = cli(two, "cases", "ack", case_id, "--by", "boss@example.com")
    assert second.output.startswith(f"{case_id} acknowledged by boss@example.com (already acknowledged "
                                    "by po@example.com at 20")
    assert [a["by"] for a in show(path, case_id)["acks"]] == ["po@example.com", "boss@example.com"]
