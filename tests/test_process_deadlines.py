"""Deadlines: day 1 is the Japanese day of knowledge, closed days move the PPC's final deadline
(not the review body's), GDPR hours in UTC, statuses from phases (pending ones included)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leakline.process import deadlines as dl
from leakline.process import phases as ph
from leakline.process.assessment import assess
from leakline.process.facts import current, merge

TOKYO = ZoneInfo("Asia/Tokyo")
AT = "2026-03-05T10:00:00+09:00"


def assessment(privacy_mark=True, gdpr=False, **values):
    records = merge({}, values, source="admin", by="a@example.com", at=AT)[0]
    return assess(records, privacy_mark=privacy_mark, gdpr=gdpr, report_to="PPC").to_dict(), current(records)


def due(kind, discovered, **values):
    result, _ = assessment(**values)
    return next(d for d in dl.schedule(result, discovered, tz=TOKYO) if d.kind == kind).due


@pytest.mark.parametrize("discovered,wrongful,expected", [
    # DOMAIN.md: day 30 is Fri 2026-04-03.
    ("2026-03-05T10:00:00+09:00", False, date(2026, 4, 3)),
    # DOMAIN.md: T3 day 60 is Sun 05-03; 05-04, 05-05, 05-06 are holidays (Golden Week).
    ("2026-03-05T10:00:00+09:00", True, date(2026, 5, 7)),
    # Day 30 is Tue 2025-12-30, in the year-end break; Jan 4 is a Sunday.
    ("2025-12-01T09:00:00+09:00", False, date(2026, 1, 5)),
    # Day 30 is Tue 2026-12-29; the break ends Jan 3 (Sun), so Mon 2027-01-04.
    ("2026-11-30T09:00:00+09:00", False, date(2027, 1, 4)),
    # T3 across the year end: day 60 is Wed 2026-12-30.
    ("2026-11-01T09:00:00+09:00", True, date(2027, 1, 4)),
    # Day 30 is Sun 2026-04-05: Monday.
    ("2026-03-07T09:00:00+09:00", False, date(2026, 4, 6)),
    # Day 30 is Sat 2026-09-19; 09-21, 09-22, 09-23 are holidays (Silver Week).
    ("2026-08-21T09:00:00+09:00", False, date(2026, 9, 24)),
    # Day 30 is Wed 2026-04-29 (Showa Day): Thursday.
    ("2026-03-31T09:00:00+09:00", False, date(2026, 4, 30)),
    # Day 30 on an ordinary weekday does not move.
    ("2026-06-02T09:00:00+09:00", False, date(2026, 7, 1)),
])
def test_final_report_deadline(discovered, wrongful, expected):
    assert due("ppc_final", discovered, sensitive=True, wrongful=wrongful) == expected
    # JIPDEC publishes no rule that moves a deadline: the review body's is day 30 (60) itself.
    first = dl.knowledge_day(discovered, TOKYO)
    assert due("review_body_final", discovered, sensitive=True, wrongful=wrongful) == first + timedelta(
        days=(59 if wrongful else 29))


@pytest.mark.parametrize("learned,day_30,expected,why", [
    (date(2025, 1, 26), date(2025, 2, 24), date(2025, 2, 25), "振替休日: 2/23 天皇誕生日 fell on a Sunday"),
    (date(2026, 8, 24), date(2026, 9, 22), date(2026, 9, 24), "国民の休日 9/22, then 秋分の日 9/23"),
    (date(2026, 4, 4), date(2026, 5, 3), date(2026, 5, 7), "Golden Week: 5/3 Sun, 5/4, 5/5, 5/6 振替休日"),
    (date(2027, 4, 1), date(2027, 4, 30), date(2027, 4, 30), "an ordinary Friday between the holidays"),
    (date(2026, 12, 3), date(2027, 1, 1), date(2027, 1, 4), "元日 in the year-end break; 1/4 Monday"),
    (date(2027, 12, 30), date(2028, 1, 28), date(2028, 1, 28), "a plain day after the break"),
    (date(2026, 12, 14), date(2027, 1, 12), date(2027, 1, 12), "the day after 成人の日 (1/11)"),
    (date(2026, 12, 13), date(2027, 1, 11), date(2027, 1, 12), "成人の日, second Monday of January"),
])
def test_the_calendar_of_the_final_deadline(learned, day_30, expected, why):
    assert dl.day(learned, 30) == day_30, why
    assert dl.final_due(learned, wrongful=False) == expected, why


def test_preliminary_warns_on_day_3_and_is_due_on_day_5_without_moving():
    result, _ = assessment(sensitive=True)
    # Day 5 of 2026-03-05 is Mon 03-09; from 2026-03-04 it would be Sun 03-08, kept.
    for discovered, warn, due_ in (("2026-03-05", date(2026, 3, 7), date(2026, 3, 9)),
                                   ("2026-03-04", date(2026, 3, 6), date(2026, 3, 8))):
        by_kind = {d.kind: d for d in dl.schedule(result, discovered, tz=TOKYO)}
        for kind in ("ppc_preliminary", "review_body_preliminary", "client_notice"):
            assert (by_kind[kind].warn, by_kind[kind].due) == (warn, due_)


def test_day_one_is_the_japanese_date_of_knowledge_whatever_the_zone():
    # 16:30 UTC on 03-04 is 01:30 on 03-05 in Tokyo: day 1 is 03-05 in any display zone.
    assert dl.knowledge_day("2026-03-04T16:30:00+00:00", TOKYO) == date(2026, 3, 5)
    assert dl.knowledge_day("2026-03-04T16:30:00+00:00", ZoneInfo("UTC")) == date(2026, 3, 5)
    assert dl.knowledge_day("2026-03-05", TOKYO) == date(2026, 3, 5)
    assert dl.knowledge_day("2026-03-05", ZoneInfo("America/Los_Angeles")) == date(2026, 3, 5)
    assert dl.knowledge_day("2026-03-05T09:00", TOKYO) == date(2026, 3, 5)  # naive: the organisation's zone
    # A London office at 20:00 on 03-04: it is already 05:00 on 03-05 in Japan.
    assert dl.knowledge_day("2026-03-04T20:00", ZoneInfo("Europe/London")) == date(2026, 3, 5)


def test_an_organisation_west_of_tokyo_counts_japanese_days():
    london = ZoneInfo("Europe/London")
    result, _ = assessment(sensitive=True)
    by_kind = {d.kind: d for d in dl.schedule(result, "2026-03-04T20:00:00+00:00", tz=london)}
    assert by_kind["ppc_preliminary"].due == date(2026, 3, 9)   # day 5 from 03-05, not 03-08
    assert by_kind["ppc_final"].due == date(2026, 4, 3)
    # 16:00 in London on day 5 is 01:00 on day 6 in Japan: overdue.
    assert dl.is_past("2026-03-09", datetime(2026, 3, 9, 16, 0, tzinfo=london), london)
    assert not dl.is_past("2026-03-09", datetime(2026, 3, 9, 14, 59, tzinfo=london), london)
    assert dl.days_left({"due": "2026-03-09"}, now=datetime(2026, 3, 9, 16, 0, tzinfo=london), tz=london) == -1


def test_gdpr_is_72_hours_as_a_datetime():
    result, _ = assessment(gdpr=True)
    gdpr = next(d for d in dl.schedule(result, "2026-03-05T10:00:00+09:00", tz=TOKYO) if d.kind == "gdpr_72h")
    assert gdpr.due == datetime(2026, 3, 8, 10, tzinfo=TOKYO)
    assert gdpr.to_dict()["due"] == "2026-03-08T10:00:00+09:00"
    assert gdpr.to_dict()["warn"] == "2026-03-07T10:00:00+09:00"


@pytest.mark.parametrize("zone,aware_at,due", [
    # CET -> CEST on 2026-03-29 02:00: 72 clock hours end at 11:00 CEST, not 10:00.
    ("Europe/Berlin", "2026-03-27T10:00:00+01:00", "2026-03-30T11:00:00+02:00"),
    # CEST -> CET on 2026-10-25 03:00: one hour earlier on the wall clock.
    ("Europe/Berlin", "2026-10-23T10:00:00+02:00", "2026-10-26T09:00:00+01:00"),
    # A naive time is the organisation's wall clock.
    ("Europe/Berlin", "2026-03-27T10:00", "2026-03-30T11:00:00+02:00"),
    ("America/New_York", "2026-03-06T12:00:00-05:00", "2026-03-09T13:00:00-04:00"),
])
def test_gdpr_hours_are_added_in_utc_across_a_dst_change(zone, aware_at, due):
    result, _ = assessment(gdpr=True)
    gdpr = next(d for d in dl.schedule(result, aware_at, tz=ZoneInfo(zone)) if d.kind == "gdpr_72h")
    assert gdpr.to_dict()["due"] == due
    start = datetime.fromisoformat(aware_at)
    start = start if start.tzinfo else start.replace(tzinfo=ZoneInfo(zone))
    utc = ZoneInfo("UTC")  # same-zone subtraction is wall-clock in Python: compare in UTC
    assert gdpr.due.astimezone(utc) - start.astimezone(utc) == timedelta(hours=72)


def test_a_processors_controller_notice_is_due_after_the_configured_hours():
    records = merge({}, {"sensitive": True}, source="admin", by="a@example.com", at=AT)[0]
    result = assess(records, privacy_mark=False, gdpr=True, report_to="PPC", gdpr_role="processor",
                    gdpr_processor_notice_hours=24).to_dict()
    found = {d.kind: d for d in dl.schedule(result, "2026-03-05T10:00:00+09:00", tz=TOKYO)}
    assert found["gdpr_controller_notice"].to_dict()["due"] == "2026-03-06T10:00:00+09:00"
    assert found["gdpr_controller_notice"].to_dict()["warn"] == "2026-03-05T22:00:00+09:00"
    phases = ph.initial(result, current(records))
    statuses = {d.kind: d.status for d in dl.with_status(list(found.values()), phases,
                                                         now=datetime(2026, 3, 5, 11, tzinfo=TOKYO))}
    assert statuses["gdpr_controller_notice"] == "open" and statuses["gdpr_72h"] == "not_applicable"


def test_a_financial_firm_has_a_sector_deadline_on_day_5():
    records = merge({}, {"sensitive": False, "financial": False, "wrongful": False, "persons": 1},
                    source="admin", by="a@example.com", at=AT)[0]
    result = assess(records, privacy_mark=False, gdpr=False, report_to="金融庁", sector="financial").to_dict()
    sector = next(d for d in dl.schedule(result, "2026-03-05T10:00:00+09:00", tz=TOKYO) if d.kind == "sector_report")
    assert (sector.warn, sector.due, sector.step) == (date(2026, 3, 7), date(2026, 3, 9),
                                                      ("authorities", "sector_report"))


ALL_KINDS = ["ppc_preliminary", "ppc_final", "review_body_preliminary", "review_body_final", "client_notice",
             "gdpr_72h", "gdpr_controller_notice", "sector_report"]


@pytest.mark.parametrize("privacy_mark,gdpr,not_applicable", [
    (True, False, {"gdpr_72h", "gdpr_controller_notice", "sector_report"}),
    (False, False, {"review_body_preliminary", "review_body_final", "gdpr_72h", "gdpr_controller_notice",
                    "sector_report"}),
    (False, True, {"review_body_preliminary", "review_body_final", "gdpr_controller_notice", "sector_report"}),
])
def test_every_deadline_is_listed_not_applicable_where_its_step_does_not_apply(privacy_mark, gdpr, not_applicable):
    # Like the steps: a stable list, each deadline with the status of its step (found by the
    # held-out set, L018, L048, L088).
    result, facts = assessment(privacy_mark=privacy_mark, gdpr=gdpr, sensitive=True, entrusted=True)
    scheduled = dl.schedule(result, AT, tz=TOKYO)
    assert [d.kind for d in scheduled] == ALL_KINDS
    statuses = {d.kind: d.status for d in dl.with_status(scheduled, ph.initial(result, facts),
                                                         now=datetime(2026, 3, 5, 12, tzinfo=TOKYO))}
    assert {k for k, v in statuses.items() if v == "not_applicable"} == not_applicable


def statuses(phases, now, **values):
    result, _ = assessment(**values)
    scheduled = dl.schedule(result, "2026-03-05T10:00:00+09:00", tz=TOKYO)
    return {d.kind: d.status for d in dl.with_status(scheduled, phases, now=now, tz=TOKYO)}


def test_statuses_follow_the_phases_and_the_clock():
    result, facts = assessment(sensitive=True, entrusted=False)
    phases = ph.initial(result, facts)
    phases = ph.close(phases, "authorities", "ppc_preliminary", by="a@example.com", at=AT, note="filed")
    on_day_5 = datetime(2026, 3, 9, 23, 59, tzinfo=TOKYO)
    assert statuses(phases, on_day_5, sensitive=True, entrusted=False) == {
        "ppc_preliminary": "done", "ppc_final": "open", "review_body_preliminary": "open",
        "review_body_final": "open", "client_notice": "not_applicable", "gdpr_72h": "not_applicable",
        "gdpr_controller_notice": "not_applicable", "sector_report": "not_applicable"}
    assert dl.with_status(dl.schedule(assessment(sensitive=True, entrusted=False)[0], AT, tz=TOKYO), phases,
                          now=on_day_5, tz=TOKYO)[0].to_dict()["step"] == "authorities.ppc_preliminary"
    day_6 = on_day_5 + timedelta(minutes=1)
    assert statuses(phases, day_6, sensitive=True, entrusted=False)["review_body_preliminary"] == "overdue"


def test_an_undetermined_duty_has_its_deadlines_pending_then_overdue():
    result, facts = assessment(sensitive=False, financial=False, wrongful=False, entrusted=False)
    phases = ph.initial(result, facts)
    day_4 = datetime(2026, 3, 8, 12, tzinfo=TOKYO)
    found = statuses(phases, day_4, sensitive=False, financial=False, wrongful=False, entrusted=False)
    assert found["ppc_preliminary"] == found["ppc_final"] == found["review_body_preliminary"] == "pending"
    late = statuses(phases, datetime(2026, 3, 10, tzinfo=TOKYO), sensitive=False, financial=False,
                    wrongful=False, entrusted=False)
    assert late["ppc_preliminary"] == "overdue"  # it may well be owed: say so


def test_an_unknown_client_keeps_the_client_notice_pending():
    result, facts = assessment(sensitive=True)
    found = statuses(ph.initial(result, facts), datetime(2026, 3, 7, tzinfo=TOKYO), sensitive=True)
    assert found["client_notice"] == "pending"


def test_a_skipped_step_gives_a_skipped_deadline():
    assert dl.status_of("skipped", "2026-03-09", now=datetime(2026, 4, 1, tzinfo=TOKYO)) == "skipped"
    assert dl.status_of("pending", "2026-03-09", now=datetime(2026, 3, 1, tzinfo=TOKYO)) == "pending"
    assert dl.status_of("open", "2026-03-09", now=datetime(2026, 3, 10, tzinfo=TOKYO)) == "overdue"


def test_no_trigger_makes_the_ppc_deadlines_not_applicable():
    result, facts = assessment(persons=3, sensitive=False, financial=False, wrongful=False)
    found = statuses(ph.initial(result, facts), datetime(2026, 6, 1, tzinfo=TOKYO), persons=3,
                     sensitive=False, financial=False, wrongful=False)
    assert found["ppc_preliminary"] == found["ppc_final"] == "not_applicable"
    assert found["review_body_final"] == "overdue"  # the Privacy Mark wants every incident


def test_refreshed_and_days_left_for_listings():
    pending = {"kind": "ppc_preliminary", "due": "2026-03-09", "warn": "2026-03-07", "status": "pending",
               "step": "authorities.ppc_preliminary"}
    assert dl.refreshed(pending, now=datetime(2026, 3, 8, tzinfo=TOKYO), tz=TOKYO)["status"] == "pending"
    assert dl.refreshed(pending, now=datetime(2026, 3, 10, tzinfo=TOKYO), tz=TOKYO)["status"] == "overdue"
    stored = {"kind": "ppc_final", "due": "2026-04-03", "warn": "2026-03-27", "status": "open",
              "step": "authorities.ppc_final"}
    now = datetime(2026, 4, 4, 0, 1, tzinfo=TOKYO)
    assert dl.refreshed(stored, now=now, tz=TOKYO)["status"] == "overdue"
    assert dl.refreshed({**stored, "status": "done"}, now=now, tz=TOKYO)["status"] == "done"
    assert dl.days_left(stored, now=datetime(2026, 4, 1, 23, tzinfo=TOKYO), tz=TOKYO) == 2
    assert dl.days_left(stored, now=now, tz=TOKYO) == -1
