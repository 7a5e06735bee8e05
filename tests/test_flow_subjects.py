"""Follow-ups land on their case by the id in the subject, as Japanese staff write it (issue 12):
【INC-2026-0001】, (…), （…） or bare, any case; never a longer token or a case that does not exist."""

from __future__ import annotations

import pytest

from conftest import make_config
from leakline.intake.thread import case_tags
from mailbuilders import plain_mail
from test_flow_harness import OFFICER, REPORTER, REPORTER_FROM, Clock, Flow, report, to_addr

OUTSIDER = "x@attacker.example"


@pytest.fixture
def flow(tmp_path) -> Flow:
    flow = Flow(make_config(tmp_path / "data"), Clock())
    flow.run(report())
    assert flow.case_ids() == ["INC-2026-0001"]
    flow.clock.advance(minutes=20)
    return flow


LANDS = [
    "【INC-2026-0001】追加の報告", "(INC-2026-0001) 写真", "（INC-2026-0001）写真", "［INC-2026-0001］",
    "追加: INC-2026-0001 の件", "inc-2026-0001について", "Re: 件名INC-2026-0001の続き",
    "ＩＮＣ－２０２６－０００１ 追加", "RE: 転送: 【inc-2026-0001】",
]
MISSES = ["XINC-2026-0001 の件", "INC-2026-0001-2 の件", "INC-2026-00012 の件", "INC-2026-0002 の件",
          "INC_2026_0001", "ABC-INC-2026-0001"]


@pytest.mark.parametrize("subject", LANDS)
def test_the_case_id_in_the_subject_lands_the_mail_on_its_case(flow, subject):
    sent = flow.run(plain_mail(subject, "先方から削除の連絡がありました。", sender=REPORTER_FROM,
                               message_id="<more@sales.example.com>"))
    assert flow.case_ids() == ["INC-2026-0001"]
    case = flow.case("INC-2026-0001")
    assert [m["kind"] for m in case["messages"] if m["direction"] == "in"] == ["report", "followup"]
    assert to_addr(sent, OFFICER) == []  # no new escalated case
    (answer,) = to_addr(sent, REPORTER)
    assert "[INC-2026-0001]" in answer.subject


@pytest.mark.parametrize("subject", MISSES)
def test_a_near_miss_or_a_case_that_does_not_exist_opens_a_case_of_its_own(flow, subject):
    sent = flow.run(plain_mail(subject, "別のUSBメモリを紛失しました。", sender=REPORTER_FROM,
                               message_id="<other@sales.example.com>"))
    assert flow.case_ids() == ["INC-2026-0001", "INC-2026-0002"]
    assert len(flow.case("INC-2026-0001")["messages"]) == 4  # report, guidance, two escalations
    assert to_addr(sent, OFFICER)


def test_an_outsider_naming_the_case_is_stored_on_it_and_changes_nothing(flow):
    before = flow.case("INC-2026-0001")
    sent = flow.run(plain_mail("【INC-2026-0001】人数の訂正", "人数: 5000名\n漏えいした情報: 氏名、カード番号\n",
                               sender=OUTSIDER, message_id="<o1@attacker.example>"), peer="203.0.113.7")
    assert sent == []
    after = flow.case("INC-2026-0001")
    assert [m["from"] for m in after["messages"] if m["direction"] == "in"] == [REPORTER, OUTSIDER]
    assert after["facts"] == before["facts"]
    assert "facts_not_taken" in flow.actions("INC-2026-0001")


def test_case_tags_are_canonical_and_listed_once():
    assert case_tags("INC-2026-0001 と 【inc-2026-0001】 と (INC-2026-0003)", "INC") == \
        ["INC-2026-0001", "INC-2026-0003"]
    assert case_tags("ＩＮＣ－２０２６－０００７", "INC") == ["INC-2026-0007"]
    assert case_tags("LK-2026-0007 の件", "LK") == ["LK-2026-0007"]
    assert case_tags("INC-2026-0007 の件", "LK") == []
