"""A fact form filled in where it stands, inside the quoted original (issue 12): Outlook's
差出人:/From: block and -----Original Message-----, or `>` quoting. A field counts when it differs
from the form as we sent it; an untouched quoted form changes nothing."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from conftest import make_config
from leakline.responders.factform import parse_fact_form, quoted_changes
from test_flow_harness import REPORTER, REPORTER_FROM, Clock, Flow, quoted, reply_to, report, to_addr

JST = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def flow(tmp_path) -> Flow:
    return Flow(make_config(tmp_path / "data"), Clock())


def guidance_of(flow: Flow):
    (guidance,) = to_addr(flow.run(report()), REPORTER)
    assert "\n人数: 120名\n" in guidance.text and "\n暗号化: \n" in guidance.text
    flow.clock.advance(minutes=15)
    return guidance


def edited(text: str) -> str:
    """The guidance with the reporter's answers written over the form, where it stands."""
    out = text.replace("\n人数: 120名\n", "\n人数: 約300名\n").replace("\n暗号化: \n", "\n暗号化: なし\n")
    assert out != text
    return out


def outlook_ja(guidance, body: str, own: str = "") -> str:
    return (f"{own}\n\n差出人: テスト株式会社 <incident@example.com>\n送信日時: 2026年11月26日 10:00\n"
            f"宛先: {REPORTER}\n件名: {guidance.subject}\n\n{body}\n")


def outlook_en(guidance, body: str, own: str = "") -> str:
    return (f"{own}\n\n-----Original Message-----\nFrom: テスト株式会社 <incident@example.com>\n"
            f"Sent: Thursday, November 26, 2026 10:00 AM\nTo: {REPORTER}\n"
            f"Subject: {guidance.subject}\n\n{body}\n")


def gt_quoted(guidance, body: str, own: str = "") -> str:
    return f"{own}\n\n2026年11月26日(木) 10:00 テスト株式会社 <incident@example.com>:\n{quoted(body)}\n"


STYLES = [outlook_ja, outlook_en, gt_quoted]


@pytest.mark.parametrize("style", STYLES)
def test_a_form_filled_in_inside_the_quote_is_read(flow, style):
    guidance = guidance_of(flow)
    sent = flow.run(reply_to(guidance, style(guidance, edited(guidance.text)), sender=REPORTER_FROM,
                             message_id="<q1@sales.example.com>"))
    facts = flow.case()["facts"]
    assert facts["persons"]["value"] == 300 and facts["persons"]["source"] == "reply"
    assert facts["encrypted"]["value"] is False and facts["encrypted"]["by"] == REPORTER
    assert facts["data_items"]["source"] == "extracted"  # untouched in the quote: not the reporter's word
    (answer,) = to_addr(sent, REPORTER)
    assert "更新: 暗号化、人数" in answer.text


@pytest.mark.parametrize("style", STYLES)
def test_an_untouched_quoted_form_changes_nothing(flow, style):
    guidance = guidance_of(flow)
    before = flow.case()["facts"]
    sent = flow.run(reply_to(guidance, style(guidance, guidance.text, own="ありがとうございます。"),
                             sender=REPORTER_FROM, message_id="<q2@sales.example.com>"))
    assert flow.case()["facts"] == before
    (answer,) = to_addr(sent, REPORTER)
    assert "内容は担当者が確認します" in answer.text


def test_the_reporters_own_words_above_the_quote_win(flow):
    guidance = guidance_of(flow)
    flow.run(reply_to(guidance, outlook_ja(guidance, edited(guidance.text), own="人数: 約500名"),
                      sender=REPORTER_FROM, message_id="<q3@sales.example.com>"))
    facts = flow.case()["facts"]
    assert facts["persons"]["value"] == 500 and facts["encrypted"]["value"] is False


def test_an_outsider_editing_the_quoted_form_changes_nothing(flow):
    guidance = guidance_of(flow)
    before = flow.case()["facts"]
    flow.run(reply_to(guidance, outlook_ja(guidance, edited(guidance.text)), sender="x@attacker.example",
                      message_id="<q4@attacker.example>"), peer="203.0.113.7")
    assert flow.case()["facts"] == before
    assert "facts_not_taken" in flow.actions(flow.case()["id"])


SENT = "■ フォーム\n種類: メールの誤送信\n漏えいした情報: 氏名、メールアドレス\n人数: 約120名\n委託元: \n暗号化: \n"


def test_quoted_changes_are_the_fields_written_over():
    reply = "了解です。\n\n" + quoted(SENT.replace("委託元: ", "委託元: 株式会社サンプル"))
    assert quoted_changes(reply, SENT) == {"entrusted": "株式会社サンプル"}
    assert quoted_changes("了解です。\n\n" + quoted(SENT), SENT) == {}
    # A mailer that wrapped a long line: the start of what we sent is no answer.
    wrapped = SENT.replace("氏名、メールアドレス", "氏名、メール")
    assert quoted_changes("\n\n" + quoted(wrapped), SENT) == {}
    # Deeper quoting (a reply to a reply) and spaces a mailer added are read the same.
    deeper = "\n\n" + quoted(quoted(SENT.replace("人数: 約120名", "人数 :  約 150 名")))
    assert quoted_changes(deeper, SENT) == {"persons": "約 150 名"}


def test_without_the_form_we_sent_the_quote_is_not_read():
    reply = "了解です。\n\n" + quoted(SENT.replace("人数: 約120名", "人数: 約150名"))
    assert parse_fact_form(reply, tz=JST, today=date(2026, 11, 26)) == {}
    assert parse_fact_form(reply, tz=JST, today=date(2026, 11, 26), sent=SENT)["persons"] == 150
