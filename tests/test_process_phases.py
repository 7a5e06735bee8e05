"""Phases: stable order, steps that do not apply (and come back), prevention in order, who closed what."""

from __future__ import annotations

import re

import pytest

from leakline.process import phases as ph
from leakline.process.assessment import assess
from leakline.process.facts import current, merge

AT = "2026-03-05T10:00:00+09:00"
BY = "officer@example.com"


def situation(privacy_mark=True, gdpr=False, **values):
    records = merge({}, values, source="admin", by=BY, at=AT)[0]
    return assess(records, privacy_mark=privacy_mark, gdpr=gdpr, report_to="PPC").to_dict(), current(records)


def step(phases, phase_id, step_id):
    return next(s for s in next(p for p in phases if p["id"] == phase_id)["steps"] if s["id"] == step_id)


def phase(phases, phase_id):
    return next(p for p in phases if p["id"] == phase_id)


def close_all(phases, phase_id, by=BY):
    for s in phase(phases, phase_id)["steps"]:
        if s["status"] == "open":
            phases = ph.close(phases, phase_id, s["id"], by=by, at=AT, note=f"{s['id']} done")
    return phases


def test_ids_and_order():
    phases = ph.initial(*situation())
    assert [p["id"] for p in phases] == ["report", "containment", "publication", "prevention", "authorities"]
    assert [s["id"] for s in phase(phases, "prevention")["steps"]] == [
        "facts", "cause", "measures", "implementation", "verification"]
    assert [s["id"] for s in phase(phases, "publication")["steps"]] == ["notice", "client", "persons"]
    assert set(phase(phases, "report")) == {"id", "status", "steps", "closed_at", "closed_by", "note", "reason"}
    assert set(step(phases, "prevention", "facts")) == {"id", "status", "closed_at", "closed_by", "note", "reason"}


@pytest.mark.parametrize("kwargs,phase_id,step_id,reason", [
    ({"privacy_mark": False}, "authorities", "review_body", "no Privacy Mark"),
    ({"privacy_mark": False}, "authorities", "review_body_preliminary", "no Privacy Mark"),
    ({"sensitive": False, "financial": False, "wrongful": False, "persons": 4}, "authorities",
     "review_body_preliminary", "no trigger (T1-T4): the review body needs only the final report"),
    ({"persons": 4}, "authorities", "ppc_final", "no trigger (T1-T4) on the known facts"),
    ({"persons": 4}, "publication", "persons", "no trigger (T1-T4) on the known facts"),
    ({"sensitive": True, "encrypted": True}, "authorities", "ppc_preliminary",
     "exempt: the data was strongly encrypted and the key did not leak"),
    ({"entrusted": False}, "publication", "client", "not entrusted: no client (委託元) to notify"),
    ({}, "publication", "client", "not entrusted as far as known (set entrusted when it is a client's data)"),
    ({"gdpr": False}, "authorities", "gdpr", "GDPR does not apply (gdpr = false)"),
])
def test_steps_that_do_not_apply_say_why(kwargs, phase_id, step_id, reason):
    found = step(ph.initial(*situation(**kwargs)), phase_id, step_id)
    assert (found["status"], found["reason"]) == ("not_applicable", reason)


@pytest.mark.parametrize("kwargs,phase_id,step_id", [
    ({"privacy_mark": True}, "authorities", "review_body"),
    ({"sensitive": True}, "authorities", "ppc_preliminary"),
    ({"sensitive": True, "encrypted": True}, "authorities", "review_body_preliminary"),
    ({"entrusted": True}, "publication", "client"),
    ({"gdpr": True}, "authorities", "gdpr"),
])
def test_steps_that_apply_are_open(kwargs, phase_id, step_id):
    assert step(ph.initial(*situation(**kwargs)), phase_id, step_id)["status"] == "open"


def test_steps_come_back_when_facts_change():
    phases = ph.initial(*situation(persons=4))
    assert step(phases, "authorities", "ppc_final")["status"] == "not_applicable"
    phases = ph.refresh(phases, *situation(persons=4, sensitive=True))
    final = step(phases, "authorities", "ppc_final")
    assert (final["status"], final["reason"]) == ("open", None)
    assert step(phases, "publication", "persons")["status"] == "open"


def test_a_closed_step_stays_closed_when_it_stops_applying():
    phases = ph.initial(*situation(sensitive=True))
    phases = ph.close(phases, "authorities", "ppc_preliminary", by=BY, at=AT, note="sent on the portal")
    phases = ph.refresh(phases, *situation(sensitive=False))
    assert step(phases, "authorities", "ppc_preliminary")["status"] == "closed"
    assert step(phases, "authorities", "ppc_final")["status"] == "not_applicable"


def test_close_records_who_when_and_note():
    phases = ph.close(ph.initial(*situation()), "containment", by=BY, at=AT, note="recipient deleted the mail")
    assert {k: phase(phases, "containment")[k] for k in ("status", "closed_by", "closed_at", "note")} == {
        "status": "closed", "closed_by": BY, "closed_at": AT, "note": "recipient deleted the mail"}
    phases = ph.close(phases, "prevention", "facts", by="boss@example.com", at=AT, note="papers were on the desk")
    assert step(phases, "prevention", "facts")["closed_by"] == "boss@example.com"


def test_close_does_not_change_its_input():
    phases = ph.initial(*situation())
    ph.close(phases, "containment", by=BY, at=AT, note="done")
    assert phase(phases, "containment")["status"] == "open"


def test_prevention_steps_close_in_order():
    phases = ph.initial(*situation())
    with pytest.raises(ph.PhaseError, match=r"^prevention.cause cannot close before prevention.facts$"):
        ph.close(phases, "prevention", "cause", by=BY, at=AT, note="cabinets were full")
    for step_id in ("facts", "cause", "measures", "implementation"):
        phases = ph.close(phases, "prevention", step_id, by=BY, at=AT, note=step_id)
    assert phase(phases, "prevention")["status"] == "open"
    phases = ph.close(phases, "prevention", "verification", by=BY, at=AT, note="desks are clear")
    assert phase(phases, "prevention")["status"] == "closed"
    assert phase(phases, "prevention")["closed_by"] == BY


def test_other_phases_have_no_step_order():
    phases = ph.initial(*situation(sensitive=True))
    phases = ph.close(phases, "authorities", "ppc_final", by=BY, at=AT, note="sent together with the preliminary")
    assert step(phases, "authorities", "ppc_final")["status"] == "closed"


@pytest.mark.parametrize("phase_id,step_id,message", [
    ("cleanup", None,
     "unknown phase 'cleanup' (phases: report, containment, publication, prevention, authorities)"),
    ("prevention", "blame", "unknown step 'blame' in phase prevention (steps: facts, cause, measures, "
                            "implementation, verification)"),
    ("containment", "search", "unknown step 'search' in phase containment (steps: none)"),
    ("publication", "client", "publication.client does not apply: not entrusted as far as known "
                              "(set entrusted when it is a client's data)"),
    ("publication", None, "publication has open steps (notice): close each with its step"),
])
def test_errors_are_one_clear_line(phase_id, step_id, message):
    with pytest.raises(ph.PhaseError) as error:
        ph.close(ph.initial(*situation(persons=3)), phase_id, step_id, by=BY, at=AT, note="x")
    assert str(error.value) == message


def test_closing_twice_and_closing_without_a_note_are_refused():
    phases = ph.close(ph.initial(*situation()), "report", by=BY, at=AT, note="acknowledged by mail")
    with pytest.raises(ph.PhaseError, match="^" + re.escape(f"report is already closed (by {BY} at {AT})") + "$"):
        ph.close(phases, "report", by=BY, at=AT, note="again")
    phases = ph.close(phases, "prevention", "facts", by=BY, at=AT, note="ok")
    with pytest.raises(ph.PhaseError, match="^prevention.facts is already closed"):
        ph.close(phases, "prevention", "facts", by=BY, at=AT, note="again")
    with pytest.raises(ph.PhaseError, match="^a note is required"):
        ph.close(phases, "containment", by=BY, at=AT, note="  ")


def test_a_phase_closes_when_its_steps_are_closed_or_not_applicable_and_reopens():
    phases = ph.initial(*situation(persons=3, entrusted=False))
    phases = ph.close(phases, "publication", "notice", by=BY, at=AT, note="published on the web site")
    assert phase(phases, "publication")["status"] == "closed"  # client and persons do not apply
    phases = ph.refresh(phases, *situation(persons=3, entrusted=False, sensitive=True))
    assert phase(phases, "publication")["status"] == "open"
    assert ph.open_items(phases)[:3] == ["report", "containment", "publication.persons"]


def test_a_phase_none_of_whose_steps_apply_is_not_applicable():
    phases = ph.initial(*situation(privacy_mark=False, persons=3, sensitive=False, financial=False, wrongful=False))
    assert (phase(phases, "authorities")["status"], phase(phases, "authorities")["reason"]) == (
        "not_applicable", "no step applies")
    with pytest.raises(ph.PhaseError, match="^authorities does not apply: no step applies$"):
        ph.close(phases, "authorities", by=BY, at=AT, note="x")


def test_notifying_the_client_releases_the_ppc_steps():
    phases = ph.initial(*situation(entrusted=True, sensitive=True))
    assert step(phases, "authorities", "ppc_final")["status"] == "open"
    phases = ph.close(phases, "publication", "client", by=BY, at=AT, note="client notified by phone and letter")
    phases = ph.refresh(phases, *situation(entrusted=True, sensitive=True))
    for phase_id, step_id in (("authorities", "ppc_preliminary"), ("authorities", "ppc_final"),
                              ("publication", "persons")):
        assert step(phases, phase_id, step_id)["reason"].startswith("released: the client (委託元) was notified")


def test_open_items_is_empty_only_when_everything_is_closed_or_not_applicable():
    phases = ph.initial(*situation(privacy_mark=False, persons=3, entrusted=False))
    assert ph.open_items(phases) == ["report", "containment", "publication.notice", "prevention.facts",
                                     "prevention.cause", "prevention.measures", "prevention.implementation",
                                     "prevention.verification"]
    for phase_id in ("report", "containment"):
        phases = ph.close(phases, phase_id, by=BY, at=AT, note="done")
    for phase_id in ("publication", "prevention"):
        phases = close_all(phases, phase_id)
    assert ph.open_items(phases) == []
