"""What a reply may do, through the real wiring: acknowledge only as the manager an escalation was
sent to, replying to it; change facts only as a verified sender answering what we sent them.
Forged acks with the old predictable Message-IDs or another installation's, fact changes from
outsiders and from colleagues who are not the reporter; and no duty dropped in silence.
"""

from __future__ import annotations

import hashlib
import json

from click.testing import CliRunner

from conftest import make_config
from leakline.cli import main
from leakline.msgid import MessageIds
from mailbuilders import plain_mail
from test_flow_harness import (BOSS, OFFICER, REPORTER, REPORTER_FROM, Clock, Flow, outgoing,
                               report, reply_to, to_addr)

OUTSIDE_PEER = "203.0.113.7"
COLLEAGUE = "hanako@example.com"


def reported(tmp_path, body: str | None = None):
    flow = Flow(make_config(tmp_path / "data"), Clock())
    sent = flow.run(report(body=body) if body else report())
    return flow, sent, flow.case()["id"]


def forged_reply(message_id: str, subject: str, body: str, sender: str,
                 mid: str = "<forged@example.com>") -> bytes:
    return plain_mail(subject, body, sender=sender, message_id=mid,
                      extra=[f"In-Reply-To: {message_id}", f"References: {message_id}"])


def old_predictable_id(case_id: str, step: str, *to: str) -> str:
    """compose.stable_message_id before issue 9: a plain hash anyone could compute."""
    digest = hashlib.sha256("\x00".join((case_id, step, *sorted(to))).encode()).hexdigest()[:32]
    return f"<{digest}.leakline@example.com>"


# -- acknowledgements ---------------------------------------------------------------------------

def test_a_forged_ack_with_the_old_predictable_id_is_no_ack(tmp_path):
    flow, _, case_id = reported(tmp_path)
    forged = forged_reply(old_predictable_id(case_id, "escalate:initial", OFFICER),
                          f"Re: [{case_id}] 確認", "確認しました", OFFICER)
    assert flow.run(forged) == []  # even from the loopback relay, i.e. "verified"
    assert flow.case()["acks"] == []
    flow.clock.advance(minutes=60)
    flow.tick()
    assert [s.to for s in flow.run()] == [["exec@example.com"]]  # the executives are told


def test_an_id_from_another_installation_is_no_ack(tmp_path):
    flow, sent, case_id = reported(tmp_path)
    (ours,) = to_addr(sent, OFFICER)
    elsewhere = Flow(make_config(tmp_path / "other"), Clock())
    theirs = elsewhere.app.mailer.ids().stable(case_id, "escalate:initial", OFFICER)
    assert theirs != ours.message_id
    flow.run(forged_reply(theirs, f"Re: [{case_id}] 確認", "確認しました", OFFICER))
    assert flow.case()["acks"] == []


def test_an_ack_counts_only_from_the_manager_the_escalation_went_to(tmp_path):
    flow, sent, case_id = reported(tmp_path)
    (to_boss,) = to_addr(sent, BOSS)
    flow.run(reply_to(to_boss, "確認しました", sender=OFFICER, message_id="<wrong-1@example.com>"))
    assert flow.case()["acks"] == []
    flow.run(reply_to(to_boss, "確認しました", sender=BOSS, message_id="<right-1@example.com>"))
    assert [(a["by"], a["via"]) for a in flow.case()["acks"]] == [(BOSS, "mail")]


def test_an_ack_from_an_unverified_peer_is_no_ack(tmp_path):
    flow, sent, case_id = reported(tmp_path)
    (escalation,) = to_addr(sent, OFFICER)
    flow.run(reply_to(escalation, "確認しました", sender=OFFICER, message_id="<out-1@example.com>"),
             peer=OUTSIDE_PEER)
    case = flow.case()
    assert case["acks"] == []
    assert any(m["message_id"] == "<out-1@example.com>" for m in case["messages"])  # but stored
    (refused,) = [e for e in flow.store.audit.for_case(case_id) if e["action"] == "ack_not_taken"]
    assert "not verified" in refused["details"]["reason"]


# -- fact changes by reply ----------------------------------------------------------------------

FORM = "人数: 約3000名\n漏えいした情報: 氏名、カード番号\n暗号化: あり\n"


def facts_unchanged(flow: Flow, case_id: str, before: dict) -> None:
    after = flow.case(case_id)
    assert after["facts"] == before["facts"] and after["assessment"] == before["assessment"]
    assert "facts_not_taken" in flow.actions(case_id)


def test_an_outsider_replying_to_the_guidance_changes_nothing(tmp_path):
    flow, sent, case_id = reported(tmp_path)
    (guidance,) = to_addr(sent, REPORTER)
    before = flow.case()
    flow.run(reply_to(guidance, FORM, sender="mallory@attacker.example", message_id="<m1@attacker.example>"),
             peer=OUTSIDE_PEER)
    facts_unchanged(flow, case_id, before)


def test_a_colleague_who_is_not_the_reporter_changes_nothing(tmp_path):
    flow, sent, case_id = reported(tmp_path)
    (guidance,) = to_addr(sent, REPORTER)
    before = flow.case()
    # Verified internal (the loopback relay), the case tag and the guidance's Message-ID: still
    # not a reply to anything we sent *them*.
    sent = flow.run(reply_to(guidance, FORM, sender=COLLEAGUE, message_id="<c1@example.com>"))
    facts_unchanged(flow, case_id, before)
    assert to_addr(sent, COLLEAGUE) == []


def test_the_reporters_address_from_an_unverified_peer_changes_nothing(tmp_path):
    flow, sent, case_id = reported(tmp_path)
    (guidance,) = to_addr(sent, REPORTER)
    before = flow.case()
    flow.run(reply_to(guidance, FORM, sender=REPORTER_FROM, message_id="<r1@sales.example.com>"),
             peer=OUTSIDE_PEER)
    facts_unchanged(flow, case_id, before)


def test_the_case_tag_alone_is_no_reply_to_what_we_sent(tmp_path):
    flow, _, case_id = reported(tmp_path)
    before = flow.case()
    flow.run(plain_mail(f"[{case_id}] 追加", FORM, sender=REPORTER_FROM, message_id="<t1@sales.example.com>"))
    facts_unchanged(flow, case_id, before)
    assert len([m for m in flow.case(case_id)["messages"] if m["direction"] == "in"]) == 2


def test_the_reporter_answering_the_guidance_still_changes_facts(tmp_path):
    flow, sent, case_id = reported(tmp_path)
    (guidance,) = to_addr(sent, REPORTER)
    flow.run(reply_to(guidance, "人数: 約120名\n", sender=REPORTER_FROM, message_id="<ok@sales.example.com>"))
    assert flow.case()["facts"]["persons"]["source"] == "reply"


# -- no silent loss of a duty -----------------------------------------------------------------

MANY = "顧客1,500名分の名簿を添付したメールを、誤って社外の取引先に送信してしまいました。\n"


def test_a_reply_that_drops_a_required_report_is_told_to_the_privacy_officer(tmp_path):
    flow, sent, case_id = reported(tmp_path, MANY)
    assert flow.case()["assessment"]["ppc_report_required"] is True  # T4
    (guidance,) = to_addr(sent, REPORTER)
    flow.clock.advance(minutes=10)
    sent = flow.run(reply_to(guidance, "人数: 15名\n", sender=REPORTER_FROM, message_id="<drop@sales.example.com>"))
    case = flow.case()
    # T4 no longer holds; the other triggers are still unknown, so the report is undetermined.
    assert case["assessment"]["ppc_report_required"] is None
    (alert,) = [s for s in to_addr(sent, OFFICER) if "報告義務の解除" in s.subject]
    # In the organisation's language, from the step ids and the change itself (issue 12).
    assert "不要と判定されました: 速報(個人情報保護委員会等への報告)" in alert.text and REPORTER in alert.text
    assert "・人数: 1,500 → 15(報告者の返信、" in alert.text
    (event,) = [e for e in flow.store.audit.for_case(case_id) if e["action"] == "duty_dropped"]
    assert event["actor"] == REPORTER and "ppc_preliminary" in event["details"]["reports"]
    assert to_addr(sent, BOSS) == []


def test_the_cli_dropping_a_required_report_tells_the_privacy_officer(tmp_path):
    flow, _, case_id = reported(tmp_path, MANY)
    config = tmp_path / "c.toml"
    config.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\n[organization]\n'
                      'domains = ["example.com"]\n[[managers]]\nname = "PO"\n'
                      f'email = "{OFFICER}"\nrole = "privacy_officer"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "cases", "assess", case_id,
                                       "--persons", "12", "--by", "someone@example.com"])
    assert result.exit_code == 0, result.output
    case = flow.case(case_id)
    (alert,) = [m for m in outgoing(case, "escalation") if "報告義務の解除" in m["subject"]]
    assert alert["to"] == [OFFICER] and "someone@example.com" in alert["text"]
    (event,) = [e for e in flow.store.audit.for_case(case_id) if e["action"] == "duty_dropped"]
    assert event["actor"] == "someone@example.com"
    shown = json.loads(CliRunner().invoke(main, ["--config", str(config), "cases", "show", case_id,
                                                 "--json"]).output)
    assert shown["assessment"]["ppc_report_required"] is None


def test_the_message_id_key_is_private_made_once_and_kept(tmp_path):
    import pytest

    from leakline.app import App
    from leakline.store.secret import SecretKeyError

    config = make_config(tmp_path / "data")
    first = App(config)
    first.prepare()
    path = tmp_path / "data" / "secret" / "message-id.key"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again = App(config)  # another process over the same data_dir signs alike
    again.prepare()
    assert again.mailer.ids().stable("a") == first.mailer.ids().stable("a")
    path.write_text("short")
    with pytest.raises(SecretKeyError, match="restore it from a backup"):
        App(config).store.message_id_key()


def test_a_damaged_key_is_one_clear_line_at_the_cli(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\n')
    from leakline.app import App
    from leakline.config import load

    App(load(config)).prepare()  # what `serve` does first: the key is made
    assert CliRunner().invoke(main, ["--config", str(config), "cases", "list"]).exit_code == 0
    (tmp_path / "data" / "secret" / "message-id.key").write_text("x")
    result = CliRunner().invoke(main, ["--config", str(config), "cases", "list"])
    assert result.exit_code == 1 and "message-id.key" in result.output
    assert "Traceback" not in result.output
