"""`leakline cases merge FROM INTO` (issue 12): messages, facts by precedence and threading move
to INTO, FROM is closed with a pointer, both audit trails say so; the real CLI over a real data_dir."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import make_config
from leakline.cli import main
from leakline.merge import merged_facts
from mailbuilders import plain_mail
from test_flow_harness import (OFFICER, REPORTER, REPORTER_FROM, Clock, Flow, outgoing, reply_to,
                               report, to_addr)

PO = "po@example.com"


@pytest.fixture
def flow(tmp_path) -> Flow:
    return Flow(make_config(tmp_path / "data"), Clock())


def cli(tmp_path, *args: str):
    config = tmp_path / "c.toml"
    if not config.exists():
        config.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\n[organization]\n'
                          'domains = ["example.com"]\n[[managers]]\nname = "PO"\n'
                          f'email = "{OFFICER}"\nrole = "privacy_officer"\n')
    return CliRunner().invoke(main, ["--config", str(config), *args])


def two_cases(flow: Flow):
    """INTO: the report. FROM: the same incident, mailed again with a new subject, then answered."""
    (guidance_into,) = to_addr(flow.run(report()), REPORTER)
    flow.clock.advance(minutes=30)
    sent = flow.run(report("再送: 取引先への誤送信", "先ほどの件、対象は350名分でした。病歴も含まれていました。",
                           message_id="<again@sales.example.com>"))
    (guidance_from,) = to_addr(sent, REPORTER)
    flow.clock.advance(minutes=5)
    flow.run(reply_to(guidance_from, "人数: 約350名\n", sender=REPORTER_FROM, message_id="<ans@sales.example.com>"))
    return guidance_into, guidance_from


def test_merge_moves_messages_facts_and_threading_with_audit_on_both(flow, tmp_path):
    _, guidance_from = two_cases(flow)
    into_id, from_id = flow.case_ids()
    before_into, before_from = flow.case(into_id), flow.case(from_id)
    assert before_into["facts"]["persons"]["value"] == 120  # extracted
    assert before_from["facts"]["persons"]["source"] == "reply"

    result = cli(tmp_path, "cases", "merge", from_id.lower(), into_id, "--by", PO)
    assert result.exit_code == 0, result.output
    assert f"{from_id} merged into {into_id}: {len(before_from['messages'])} message(s) moved" in result.output

    into, source = flow.case(into_id), flow.case(from_id)
    moved = [m for m in into["messages"] if m.get("merged_from") == from_id]
    assert {m["sha256"] for m in moved} == {m["sha256"] for m in before_from["messages"]}
    assert source["messages"] == [] and source["status"] == "closed" and source["merged_into"] == into_id
    # Facts by precedence: the reply's count beats INTO's extracted one; the sensitive item only
    # FROM read is taken, and the assessment follows.
    assert into["facts"]["persons"]["value"] == 350 and into["facts"]["persons"]["source"] == "reply"
    assert "merged from " + from_id in into["facts"]["persons"]["evidence"]
    assert "medical" in into["facts"]["data_items"]["value"]
    assert into["assessment"]["triggers"] == ["T1"]
    merged_in = [e for e in flow.store.audit.for_case(into_id) if e["action"] == "case_merged_in"]
    assert merged_in[0]["actor"] == PO and merged_in[0]["details"]["from"] == from_id
    assert {c["field"] for c in merged_in[0]["details"]["facts"]} >= {"persons", "data_items"}
    (closed,) = [e for e in flow.store.audit.for_case(from_id) if e["action"] == "case_merged"]
    assert closed["actor"] == PO and closed["details"]["into"] == into_id
    assert flow.store.audit.verify().ok

    # Later mail lands on INTO: a reply to FROM's guidance, FROM's id in a subject, a resend.
    sent = flow.run(reply_to(guidance_from, "暗号化: なし\n", sender=REPORTER_FROM, message_id="<late@sales.example.com>"))
    assert flow.case(into_id)["facts"]["encrypted"]["value"] is False  # FROM's guidance counts on INTO
    (answer,) = to_addr(sent, REPORTER)
    assert "更新: 暗号化" in answer.text
    flow.run(plain_mail(f"【{from_id}】追加", "写真を送ります。", sender=REPORTER_FROM, message_id="<tag@sales.example.com>"))
    flow.receive(report("再送: 取引先への誤送信", "先ほどの件、対象は350名分でした。病歴も含まれていました。",
                        message_id="<again@sales.example.com>"))
    flow.run()
    assert flow.case_ids() == [into_id, from_id]
    assert flow.case(from_id)["messages"] == []
    assert [m["message_id"] for m in flow.case(into_id)["messages"] if m["direction"] == "in"][-2:] == \
        ["<late@sales.example.com>", "<tag@sales.example.com>"]


def test_merging_again_or_into_a_merged_case_or_itself_is_refused(flow, tmp_path):
    two_cases(flow)
    into_id, from_id = flow.case_ids()
    assert cli(tmp_path, "cases", "merge", from_id, into_id, "--by", PO).exit_code == 0
    for args, said in [((from_id, into_id), f"{from_id} was already merged into {into_id}"),
                       ((into_id, from_id), f"{from_id} was itself merged into {into_id}"),
                       ((into_id, into_id), "cannot be merged into itself"),
                       (("INC-2026-0099", into_id), "no such case INC-2026-0099")]:
        result = cli(tmp_path, "cases", "merge", *args, "--by", PO)
        assert result.exit_code == 1 and said in result.output, result.output
    assert cli(tmp_path, "cases", "merge", from_id, into_id, "--by", "nobody").exit_code == 1


def test_a_merge_that_makes_a_report_required_tells_the_privacy_officer(flow, tmp_path):
    two_cases(flow)
    into_id, from_id = flow.case_ids()
    assert flow.case(into_id)["assessment"]["ppc_report_required"] is None
    assert cli(tmp_path, "cases", "merge", from_id, into_id, "--by", PO).exit_code == 0
    into = flow.case(into_id)
    assert into["assessment"]["ppc_report_required"] is True  # T1, from FROM's medical history
    (alert,) = [m for m in outgoing(into, "escalation") if "報告義務の発生" in m["subject"]]
    assert alert["to"] == [OFFICER] and "規則第7条第1号（要配慮個人情報の漏えい等）" in alert["text"]


def test_a_duty_the_merged_case_loses_is_told_to_the_privacy_officer(flow, tmp_path):
    """FROM's report read 1,500 persons; the officer had set INTO's count: the merged case is
    below T4, and the officer hears that FROM's required report is no longer required."""
    flow.run(report())
    flow.clock.advance(minutes=5)
    flow.run(report("再送", "顧客1,500名分の名簿を誤って送信しました。", message_id="<many@sales.example.com>"))
    into_id, from_id = flow.case_ids()
    assert flow.case(from_id)["assessment"]["ppc_report_required"] is True
    assert cli(tmp_path, "cases", "assess", into_id, "--persons", "120", "--by", PO).exit_code == 0
    assert cli(tmp_path, "cases", "merge", from_id, into_id, "--by", PO).exit_code == 0
    into = flow.case(into_id)
    assert into["facts"]["persons"]["value"] == 120  # the admin's word beats the text's
    (alert,) = [m for m in outgoing(into, "escalation") if "報告義務の解除" in m["subject"]]
    assert "速報(個人情報保護委員会等への報告)" in alert["text"]


def test_merge_json_shows_the_pointer(flow, tmp_path):
    two_cases(flow)
    into_id, from_id = flow.case_ids()
    cli(tmp_path, "cases", "merge", from_id, into_id, "--by", PO)
    shown = json.loads(cli(tmp_path, "cases", "show", from_id, "--json").output)
    assert shown["merged_into"] == into_id and shown["status"] == "closed"


def record(value, source, at="2026-11-26T10:00:00+09:00"):
    return {"value": value, "source": source, "by": f"{source}@example.com", "at": at, "evidence": None}


def test_facts_merge_by_precedence_and_the_earlier_discovery():
    into = {"id": "INC-2026-0001", "facts": {
        "persons": record(100, "reply"), "category": record("loss", "admin"),
        "discovered_at": record("2026-11-26T10:00:00+09:00", "extracted"), "client": record("A社", "extracted")}}
    source = {"id": "INC-2026-0002", "facts": {
        "persons": record(900, "reply"), "category": record("theft", "reply"),
        "discovered_at": record("2026-11-25T18:00:00+09:00", "extracted"), "client": record("B社", "admin"),
        "encrypted": record(False, "extracted")}}
    records, changes = merged_facts(into, source)
    assert records["persons"]["value"] == 900  # a tie: the largest possible number counts (GL 3-5-3-1)
    assert records["category"]["value"] == "loss"  # admin beats reply
    assert records["client"]["value"] == "B社" and records["client"]["source"] == "admin"
    assert records["discovered_at"]["value"] == "2026-11-25T18:00:00+09:00"  # the law counts from the earlier
    assert records["encrypted"]["value"] is False  # INTO did not know
    assert sorted(c.field for c in changes) == ["client", "discovered_at", "encrypted", "persons"]
    # Otherwise a tie keeps INTO's; data items and flags either case names are kept.
    into["facts"]["data_items"] = record(["name"], "extracted")
    source["facts"] = {"persons": record(50, "reply"), "data_items": record(["medical"], "extracted"),
                       "sensitive": record(True, "extracted"), "category": record("theft", "admin")}
    records, _ = merged_facts(into, source)
    assert records["persons"]["value"] == 100 and records["data_items"]["value"] == ["name", "medical"]
    assert records["sensitive"]["value"] is True and records["category"]["value"] == "loss"
