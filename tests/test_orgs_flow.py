"""Issue 14: two organisations in one service, each sealed off from the other, mail by mail.

Every mail that leaves (guidance, receipts, escalations, executive escalations, reminders,
alerts) goes out From its own organisation, to its own people, in its own language and
templates, and carries nothing of the other: names, addresses, subjects, case ids, content.
"""

from __future__ import annotations

import asyncio

import pytest

from clock import Clock
from orgs_helpers import (
    ACME_BOSS, ACME_EXEC, ACME_IN, ACME_PO, GLOBEX_IN, GLOBEX_MD, GLOBEX_PO, GLOBEX_TEMPLATE_MARK,
    JANE, TARO, OrgFlow, acme_report, globex_report, leaks, mail, org_of_mail, readable, write_config,
)

PEOPLE = {"acme": {ACME_PO, ACME_BOSS, ACME_EXEC, TARO}, "globex": {GLOBEX_PO, GLOBEX_MD, JANE}}


@pytest.fixture
def flow(tmp_path) -> OrgFlow:
    return OrgFlow(write_config(tmp_path), Clock())


def sealed(sent_list, *, content: bool = True, allow: tuple[str, ...] = (),
           reporters: tuple[str, ...] = ()) -> None:
    """Each mail is its organisation's alone: From, recipients, and not a word of the other."""
    for sent in sent_list:
        org = org_of_mail(sent)
        assert set(sent.to) <= PEOPLE[org] | set(reporters), (org, sent.subject, sent.to)
        assert not leaks(readable(sent), org, content=content, allow=allow), (org, sent.subject)


def test_each_organisation_gets_its_own_mail_from_its_own_address(flow):
    flow.receive(acme_report(), [ACME_IN], TARO)
    flow.receive(globex_report(), [GLOBEX_IN], JANE)
    sent = flow.run()
    assert flow.case_ids("acme") == ["ACME-2026-0001"]
    assert flow.case_ids("globex") == ["GLX-2026-0001"]
    by = {(org_of_mail(s), tuple(s.to)): s for s in sent}
    guidance = by[("acme", (TARO,))]
    assert "ACME-2026-0001" in guidance.subject and "株式会社アクメ" in str(guidance.msg["From"])
    assert "佐藤花子" in guidance.text and GLOBEX_TEMPLATE_MARK not in guidance.text
    answer = by[("globex", (JANE,))]
    assert "GLX-2026-0001" in answer.subject and GLOBEX_TEMPLATE_MARK in answer.text
    assert "Grace Hopper" in answer.text and "Globex Trading K.K." in str(answer.msg["From"])
    # Escalations: each organisation's privacy officers, supervisors of the reporter, no one else.
    assert {("acme", (ACME_PO,)), ("acme", (ACME_BOSS,)), ("globex", (GLOBEX_PO,))} <= set(by)
    assert "個人情報" in by[("acme", (ACME_PO,))].subject       # Japanese for ACME's managers
    assert "Personal data incident" in by[("globex", (GLOBEX_PO,))].subject
    sealed(sent)


def test_reminders_and_executive_escalations_follow_each_organisations_window(flow):
    flow.receive(acme_report(), [ACME_IN], TARO)
    flow.receive(globex_report(), [GLOBEX_IN], JANE)
    first = flow.run()
    flow.clock.advance(minutes=31)   # past ACME's 30 minutes, not Globex's 90
    later = flow.tick()
    assert {(org_of_mail(s), s.to[0]) for s in later} >= {("acme", ACME_EXEC)}
    assert not [s for s in later if org_of_mail(s) == "globex"]
    flow.clock.advance(minutes=60)
    later += flow.tick()
    assert ("globex", GLOBEX_MD) in {(org_of_mail(s), s.to[0]) for s in later}
    flow.clock.advance(days=3)        # deadline reminders: the preliminary reports are near
    reminders = flow.tick()
    subjects = {org: [s.subject for s in reminders if org_of_mail(s) == org] for org in PEOPLE}
    assert all("ACME-2026-0001" in s for s in subjects["acme"])
    assert all("GLX-2026-0001" in s for s in subjects["globex"])
    # The Privacy Mark holder is reminded of its review body's report; the other is not.
    assert any("審査機関" in s for s in subjects["acme"])
    assert any("[Deadline]" in s for s in subjects["globex"])
    assert not any("review body" in s.lower() for s in subjects["globex"])
    sealed(first + later + reminders)


def test_one_message_to_both_addresses_is_a_case_in_each_with_its_own_raw(flow):
    flow.receive(acme_report(to=[ACME_IN, GLOBEX_IN]), [ACME_IN, GLOBEX_IN], TARO)
    sent = flow.run()
    (acme,) = flow.store("acme").cases("all")
    (globex,) = flow.store("globex").cases("all")
    assert (acme["id"], globex["id"]) == ("ACME-2026-0001", "GLX-2026-0001")
    for org, case in (("acme", acme), ("globex", globex)):
        raw = flow.store(org).raw_path(case["messages"][0]["raw"])
        assert raw.is_relative_to(flow.data_dir / "orgs" / org) and raw.exists()
    # The sender is ACME staff: internal for ACME (guidance), an outsider for Globex (receipt).
    assert "internal" not in globex["messages"][0]["trust"] or not globex["messages"][0]["trust"]["internal"]
    assert acme["messages"][0]["trust"]["internal"] is True
    assert "external" in globex["flags"]
    to_taro = {org_of_mail(s): s for s in sent if s.to == [TARO]}
    assert "ACME-2026-0001" in to_taro["acme"].subject
    assert "GLX-" not in to_taro["globex"].subject and "顧客名簿" not in readable(to_taro["globex"])
    # The report (and its sender's address) is rightly both organisations'; nothing else is.
    sealed(sent, content=False, allow=("acme.example.jp",), reporters=(TARO,))


def test_a_sender_from_one_organisations_domain_is_an_outsider_for_the_other(flow):
    flow.receive(mail("Question", "Our customer list was mailed to the wrong address.",
                      sender=f"Taro <{TARO}>", to=[GLOBEX_IN], message_id="<x-1@sales.acme.example.jp>"),
                 [GLOBEX_IN], TARO)
    sent = flow.run()
    (case,) = flow.store("globex").cases("all")
    assert case["messages"][0]["trust"]["internal"] is False
    assert case["reporter_reply"]["kind"] == "receipt"
    assert not flow.case_ids("acme")
    (receipt,) = [s for s in sent if s.to == [TARO]]
    assert "GLX-" not in receipt.subject + receipt.text


def test_one_organisations_mail_coming_back_to_the_other_is_our_own(flow):
    flow.receive(acme_report(), [ACME_IN], TARO)
    (guidance,) = [s for s in flow.run() if s.to == [TARO]]
    # ACME's own guidance lands at Globex's address (a forward rule, a typo in an alias).
    flow.receive(guidance.raw, [GLOBEX_IN], ACME_IN)
    assert [s for s in flow.run() if org_of_mail(s) == "globex"] == []
    assert flow.case_ids("globex") == []  # kept as machine mail, never a report of Globex's
    assert flow.store("globex").machine_mail().records()


def test_a_case_id_of_the_other_organisation_in_a_subject_opens_no_thread_into_it(flow):
    flow.receive(acme_report(), [ACME_IN], TARO)
    flow.run()
    flow.receive(mail("Re: [ACME-2026-0001] more", "Persons: 5000", sender=f"Jane <{JANE}>",
                      to=[GLOBEX_IN], message_id="<g-2@globex.example.com>"), [GLOBEX_IN], JANE)
    flow.run()
    acme = flow.store("acme").get("ACME-2026-0001")
    assert [m["kind"] for m in acme["messages"] if m["direction"] == "in"] == ["report"]
    assert flow.case_ids("globex") == ["GLX-2026-0001"]


def test_each_organisation_has_its_own_audit_chain(flow):
    flow.receive(acme_report(), [ACME_IN], TARO)
    flow.receive(globex_report(), [GLOBEX_IN], JANE)
    flow.run()
    for org, prefix in (("acme", "ACME-"), ("globex", "GLX-")):
        store = flow.store(org)
        assert store.audit.verify().ok
        assert {e["case"] for e in store.audit.events()} == {f"{prefix}2026-0001"}
        assert (flow.data_dir / "orgs" / org / "audit").is_dir()
    assert not (flow.data_dir / "cases").exists()  # nothing of either at the root


def test_mail_for_no_organisation_is_shunted_never_dropped(flow):
    flow.receive(acme_report(), ["someone@else.example"], TARO)
    for _ in range(3):
        flow.run()
    (row,) = flow.app.spool.shunted()
    assert "no configured organisation" in row["reason"]


def test_dead_letters_alert_only_their_own_organisations_officers(tmp_path):
    from smtp_sink import SmtpSink
    from test_flow_harness import from_sink

    with SmtpSink() as sink:
        path = write_config(tmp_path, mail=f'transport = "smtp"\nrelay_host = "{sink.host}"\n'
                                          f'relay_port = {sink.port}')
        flow = OrgFlow(path, Clock())
        sink.refuse_rcpt(TARO, "550 5.1.1 <taro@sales.acme.example.jp>: No such user")
        sink.refuse_rcpt(JANE, "550 5.1.1 <jane@globex.example.com>: No such user")
        flow.receive(acme_report(), [ACME_IN], TARO)
        flow.receive(globex_report(), [GLOBEX_IN], JANE)
        flow.run()
        asyncio.run(flow.app.sender.run_once())  # the alerts, queued by the first pass
        sent = from_sink(sink.received)
    alerts = [s for s in sent if "配信失敗" in s.subject or "Delivery failed" in s.subject]
    assert "【配信失敗】" in next(a.subject for a in alerts if org_of_mail(a) == "acme")
    assert {(org_of_mail(a), tuple(a.to)) for a in alerts} == {("acme", (ACME_PO,)), ("globex", (GLOBEX_PO,))}
    sealed(sent)
