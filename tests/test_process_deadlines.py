"""Deadlines: day 1 is the day of knowledge, closed days move a final deadline, statuses from phases."""

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
    assert due("review_body_final", discovered, sensitive=True, wrongful=wrongful) == expected


def test_preliminary_warns_on_day_3_and_is_due_on_day_5_without_moving():
    result, _ = assessment(sensitive=True)
    # Day 5 of 2026-03-05 is Mon 03-09; from 2026-03-04 it would be Sun 03-08, kept.
    for discovered, warn, due_ in (("2026-03-05", date(2026, 3, 7), date(2026, 3, 9)),
                                   ("2026-03-04", date(2026, 3, 6), date(2026, 3, 8))):
        by_kind = {d.kind: d for d in dl.schedule(result, discovered, tz=TOKYO)}
        for kind in ("ppc_preliminary", "review_body_preliminary", "client_notice"):
            assert (by_kind[kind].warn, by_kind[kind].due) == (warn, due_)


def test_day_one_is_the_local_date_of_knowledge():
    # 16:30 UTC on 03-04 is 01:30 on 03-05 in Tokyo.
    assert dl.knowledge_day("2026-03-04T16:30:00+00:00", TOKYO) == date(2026, 3, 5)
    assert dl.knowledge_day("2026-03-04T16:30:00+00:00", ZoneInfo("UTC")) == date(2026, 3, 4)
    assert dl.knowledge_day("2026-03-05", TOKYO) == date(2026, 3, 5)
    assert dl.knowledge_day("2026-03-05T09:00", TOKYO) == date(2026, 3, 5)  # naive: local


def test_gdpr_is_72_hours_as_a_datetime():
    result, _ = assessment(gdpr=True)
    gdpr = next(d for d in dl.schedule(result, "2026-03-05T10:00:00+09:00", tz=TOKYO) if d.kind == "gdpr_72h")
    assert gdpr.due == datetime(2026, 3, 8, 10, tzinfo=TOKYO)
    assert gdpr.to_dict()["due"] == "2026-03-08T10:00:00+09:00"


@pytest.mark.parametrize("privacy_mark,gdpr,kinds", [
    (True, False, ["ppc_preliminary", "ppc_final", "review_body_preliminary", "review_body_final",
                   "client_notice"]),
    (False, False, ["ppc_preliminary", "ppc_final", "client_notice"]),
    (False, True, ["ppc_preliminary", "ppc_final", "client_notice", "gdpr_72h"]),
])
def test_tracks_the_organisation_has(privacy_mark, gdpr, kinds):
    result, _ = assessment(privacy_mark=privacy_mark, gdpr=gdpr)
    assert [d.kind for d in dl.schedule(result, AT, tz=TOKYO)] == kinds


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
        "review_body_final": "open", "client_notice": "not_applicable"}
    day_6 = on_day_5 + timedelta(minutes=1)
    assert statuses(phases, day_6, sensitive=True, entrusted=False)["review_body_preliminary"] == "overdue"


def test_no_trigger_makes_the_ppc_deadlines_not_applicable():
    result, facts = assessment(persons=3, sensitive=False, financial=False, wrongful=False)
    found = statuses(ph.initial(result, facts), datetime(2026, 6, 1, tzinfo=TOKYO), persons=3,
                     sensitive=False, financial=False, wrongful=False)
    assert found["ppc_preliminary"] == found["ppc_final"] == "not_applicable"
    assert found["review_body_final"] == "overdue"  # the Privacy Mark wants every incident


def test_refreshed_and_days_left_for_listings():
    stored = {"kind": "ppc_final", "due": "2026-04-03", "warn": "2026-03-27", "status": "open",
              "step": "authorities.ppc_final"}
    now = datetime(2026, 4, 4, 0, 1, tzinfo=TOKYO)
    assert dl.refreshed(stored, now=now, tz=TOKYO)["status"] == "overdue"
    assert dl.refreshed({**stored, "status": "done"}, now=now, tz=TOKYO)["status"] == "done"
    assert dl.days_left(stored, now=datetime(2026, 4, 1, 23, tzinfo=TOKYO), tz=TOKYO) == 2
    assert dl.days_left(stored, now=now, tz=TOKYO) == -1
