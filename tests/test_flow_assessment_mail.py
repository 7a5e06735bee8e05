"""Every escalation and reminder carries the assessment in the organisation's language (issue 12):
the triggers in legal words, which reports are required or undetermined, the nearest due dates
(2026年11月30日, no leading zeros), the open questions; no English sentence from the assessment's
reasons in a Japanese mail, and no line said twice."""

from __future__ import annotations

import re
from collections import Counter

from datetime import datetime

import pytest

from conftest import make_config
from leakline import process
from leakline.config import from_dict
from leakline.responders.assessview import questions
from test_flow_harness import (JST, OFFICER, REPORTER, REPORTER_FROM, T0, Clock, Flow, reply_to,
                               report, to_addr)

MANY = "顧客1,500名分の名簿を添付したメールを、誤って社外の取引先に送信してしまいました。\n"
# Three or more words of Latin letters in a row, one of them a lower-case word: a sentence.
ENGLISH = re.compile(r"[A-Za-z][A-Za-z'’-]*(?:[ ,;:()/.-]+[A-Za-z][A-Za-z'’-]*){2,}")


def english_in(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        if "leakline " in line:  # a command to run, as typed
            continue
        line = re.sub(r"\S+@\S+|INC-\d{4}-\d{4}", " ", line)
        found += [run for run in ENGLISH.findall(line) if re.search(r"\b[a-z]{3,}", run)]
    return found


def check_japanese(sent, case: dict) -> str:
    """The mail's text, once it passed every check of the issue."""
    text = sent.text
    assert english_in(text) == [], english_in(text)
    a = case["assessment"]
    for sentence in [*a["reasons"], *a["open_questions"]]:
        assert sentence[:30] not in text
    lines = [line for line in text.splitlines() if line.strip()]
    assert [line for line, n in Counter(lines).items() if n > 1] == []
    assert not re.search(r"\d{4}-\d\d-\d\d|\d年0\d月|月0\d日", text + sent.subject)
    return text


@pytest.fixture
def flow(tmp_path) -> Flow:
    return Flow(make_config(tmp_path / "data"), Clock())


def test_the_escalation_carries_the_assessment_in_japanese(flow):
    sent = flow.run(report("メール誤送信", MANY))
    case = flow.case()
    (escalation,) = to_addr(sent, OFFICER)
    text = check_japanese(escalation, case)
    assert "該当する事態: 規則第7条第4号（1,000人を超える漏えい等）" in text
    assert "未確定の事態: 規則第7条第1号（要配慮個人情報の漏えい等）、規則第7条第2号" in text
    assert "・速報(個人情報保護委員会等への報告): 必要" in text and "・委託元への報告: 未確定" in text
    assert "・速報(個人情報保護委員会等への報告) 2026年11月30日（あと4日）" in text
    assert "・要配慮個人情報（病歴、健康診断の結果、犯罪歴、信条など）が含まれるか" in text
    assert f"leakline cases assess {case['id']}" in text
    assert "受信日時: 2026年11月26日 10:00" in text
    html = escalation.html
    assert "規則第7条第4号（1,000人を超える漏えい等）" in html and "2026年11月30日" in html


def test_the_escalation_reminders_and_the_deadline_reminders_carry_it_too(flow):
    flow.run(report("メール誤送信", MANY))
    case_id = flow.case()["id"]
    seen = []
    for _ in range(3):  # executives, then a reminder to everyone
        flow.clock.advance(minutes=60)
        flow.tick()
        seen += flow.run()
    reminder = [s for s in to_addr(seen, OFFICER) if "【リマインド・未対応】" in s.subject]
    assert reminder
    text = check_japanese(reminder[0], flow.case(case_id))
    assert "規則第7条第4号（1,000人を超える漏えい等）" in text and "報告者への返信: 手順と記入フォームを送りました" in text

    flow.store.update(case_id, lambda case: flow.app.responder.acknowledge(case, OFFICER, "cli"))
    flow.clock.advance(days=2)  # 2026-11-28: two days before the preliminary reports are due
    flow.tick()
    deadline = [s for s in to_addr(flow.run(), OFFICER) if "【期限のお知らせ】" in s.subject]
    assert deadline
    mail = deadline[0]
    text = check_japanese(mail, flow.case(case_id))
    assert "2026年11月30日" in mail.subject and "期限は 2026年11月30日(あと 2 日)です。" in text
    assert "規則第7条第4号（1,000人を超える漏えい等）" in text and "直近の期限:" in text


def test_the_alerts_of_a_duty_that_came_or_went_are_japanese_too(flow):
    (guidance,) = to_addr(flow.run(report("メール誤送信", MANY)), REPORTER)
    flow.clock.advance(minutes=10)
    sent = flow.run(reply_to(guidance, "人数: 15名\n", sender=REPORTER_FROM, message_id="<d@sales.example.com>"))
    (dropped,) = [s for s in to_addr(sent, OFFICER) if "報告義務の解除" in s.subject]
    text = check_japanese(dropped, flow.case())
    assert "・人数: 1,500 → 15(報告者の返信、taro@sales.example.com)" in text
    assert "人数は概数" not in text  # a source that changed, not a value: no news
    flow.clock.advance(minutes=10)
    sent = flow.run(reply_to(guidance, "漏えいした情報: 氏名、病歴\n", sender=REPORTER_FROM,
                             message_id="<r@sales.example.com>"))
    (required,) = [s for s in to_addr(sent, OFFICER) if "報告義務の発生" in s.subject]
    text = check_japanese(required, flow.case())
    assert "新たに必要になりました: 速報(個人情報保護委員会等への報告)" in text
    assert "該当する事態: 規則第7条第1号（要配慮個人情報の漏えい等）" in text


def test_an_english_organisation_gets_the_same_in_english(tmp_path):
    flow = Flow(make_config(tmp_path / "data", organization={"language": "en"}), Clock())
    (escalation,) = to_addr(flow.run(report("メール誤送信", MANY)), OFFICER)
    text = escalation.text
    assert "Applies: Rules Art. 7(4) (more than 1,000 persons)" in text
    assert "- preliminary report (速報) to the authority: required" in text
    assert "2026-11-30 (4 day(s) left)" in text and "Open questions:" in text


@pytest.mark.parametrize("values", [
    {},
    {"persons": 1500},
    {"persons": 20, "data_items": ["name", "my_number"]},
    {"persons": 20, "encryption_claim": "パスワード付きZIP"},
    {"recovered_unread": True, "persons": 3},
    {"entrusted": False, "sensitive": False, "financial": False, "category": "misdirected_email", "persons": 3},
])
@pytest.mark.parametrize("gdpr", [False, True])
def test_every_open_question_has_its_structured_twin(values, gdpr):
    """The mails word questions() codes; they must be as many as the English open questions."""
    org = from_dict({"organization": {"gdpr": gdpr}}).organization
    case, _ = process.apply_facts({"id": "INC-2026-0001", "received_at": T0.isoformat()},
                                  values, "reply", by="t@example.com", at=T0.isoformat())
    case, _ = process.reassess(case, org=org, tz=JST, now=T0)
    assert len(questions(case)) == len(case["assessment"]["open_questions"]), \
        (questions(case), case["assessment"]["open_questions"])


def test_every_held_out_legal_case_has_as_many_coded_questions_as_open_questions():
    from test_legal_heldout import CASES, _case

    for spec in CASES:
        case, org, tz = _case(spec)
        case, _ = process.reassess(case, org=org, tz=tz, now=datetime.fromisoformat(spec["received_at"]))
        assert len(questions(case)) == len(case["assessment"]["open_questions"]), spec["id"]
