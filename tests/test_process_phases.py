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
    assert [s["id"] for s in phase(phases, "publication")["steps"]] == [
        "public_notice", "client_notice", "persons_notice"]
    assert [s["id"] for s in phase(phases, "authorities")["steps"]] == [
        "review_body_preliminary", "review_body_final", "ppc_preliminary", "ppc_final", "gdpr_72h",
        "gdpr_controller_notice", "sector_report"]
    assert set(phase(phases, "report")) == {"id", "status", "steps", "closed_at", "closed_by", "note", "reason"}
    assert set(step(phases, "prevention", "facts")) == {"id", "status", "closed_at", "closed_by", "note",
                                                        "reason", "optional"}


DECIDED = {"sensitive": False, "financial": False, "wrongful": False}


@pytest.mark.parametrize("kwargs,phase_id,step_id,reason", [
    ({"privacy_mark": False}, "authorities", "review_body_final", "no Privacy Mark"),
    ({"privacy_mark": False}, "authorities", "review_body_preliminary", "no Privacy Mark"),
    ({**DECIDED, "persons": 4}, "authorities", "review_body_preliminary",
     "no trigger (T1-T4): the review body needs only the final report"),
    ({**DECIDED, "persons": 4}, "authorities", "ppc_final", "no trigger (T1-T4) on the known facts"),
    ({**DECIDED, "persons": 4}, "publication", "persons_notice", "no trigger (T1-T4) on the known facts"),
    ({"sensitive": True, "encrypted": True, "key_leaked": False}, "authorities", "ppc_preliminary",
     "exempt: the data was strongly encrypted and the key did not leak (confirmed by an admin)"),
    ({"sensitive": True, "recovered_unread": True}, "authorities", "ppc_final",
     "not a leak: all of it recovered before any third party viewed it (confirmed by an admin)"),
    ({"sensitive": True, "entrusted": True, "client_notified_at": "2026-03-06"}, "publication",
     "persons_notice", "released: the client (委託元) was notified and reports and notifies instead"),
    ({"sensitive": True, "persons_unreachable": True}, "publication", "persons_notice",
     "the persons cannot be reached: the public notice (public_notice) replaces the notice to them "
     "(APPI Art. 26(2) proviso)"),
    ({"entrusted": False}, "publication", "client_notice", "not entrusted: no client (委託元) to notify"),
    ({"gdpr": False}, "authorities", "gdpr_72h", "GDPR does not apply (gdpr = false)"),
    ({"gdpr": True}, "authorities", "gdpr_controller_notice", "controller: there is no controller to notify"),
    ({}, "authorities", "sector_report", "no sector rule (organization.sector is not set)"),
])
def test_steps_that_do_not_apply_say_why(kwargs, phase_id, step_id, reason):
    found = step(ph.initial(*situation(**kwargs)), phase_id, step_id)
    assert (found["status"], found["reason"]) == ("not_applicable", reason)


@pytest.mark.parametrize("kwargs,phase_id,step_id", [
    ({"privacy_mark": True}, "authorities", "review_body_final"),
    ({"sensitive": True}, "authorities", "ppc_preliminary"),
    ({"sensitive": True, "encrypted": True, "key_leaked": False}, "authorities", "review_body_preliminary"),
    ({"entrusted": True}, "publication", "client_notice"),
    ({"gdpr": True}, "authorities", "gdpr_72h"),
    ({"sensitive": True, "persons_unreachable": True}, "publication", "public_notice"),
])
def test_steps_that_apply_are_open(kwargs, phase_id, step_id):
    found = step(ph.initial(*situation(**kwargs)), phase_id, step_id)
    assert (found["status"], found["optional"]) == ("open", False)


@pytest.mark.parametrize("kwargs,phase_id,step_id,reason", [
    ({}, "authorities", "ppc_preliminary", "undetermined (T1, T2, T3, T4): due as if required until decided"),
    ({**DECIDED}, "authorities", "ppc_final", "undetermined (T4): due as if required until decided"),
    ({**DECIDED}, "publication", "persons_notice", "undetermined (T4): due as if required until decided"),
    ({**DECIDED}, "authorities", "review_body_preliminary",
     "undetermined: due as if required until the triggers are decided"),
    ({}, "publication", "client_notice", "unknown whether the data is a client's (委託元): set entrusted"),
    ({"gdpr": True, **DECIDED, "persons": 3}, "publication", "persons_notice",
     "GDPR Art. 34: high risk undetermined"),
])
def test_undetermined_duties_are_pending_not_absent(kwargs, phase_id, step_id, reason):
    found = step(ph.initial(*situation(**kwargs)), phase_id, step_id)
    assert (found["status"], found["reason"]) == ("pending", reason)


def test_pending_steps_keep_the_case_open_and_can_be_closed():
    phases = ph.initial(*situation(**DECIDED))
    assert "authorities.ppc_preliminary" in ph.open_items(phases)
    phases = ph.close(phases, "authorities", "ppc_preliminary", by=BY, at=AT, note="filed as a precaution")
    assert step(phases, "authorities", "ppc_preliminary")["status"] == "closed"


def test_the_public_notice_is_optional_and_can_be_skipped_with_a_note():
    phases = ph.initial(*situation(**DECIDED, persons=3, entrusted=False))
    public = step(phases, "publication", "public_notice")
    assert (public["status"], public["optional"]) == ("open", True)
    assert "publication.public_notice" not in ph.open_items(phases)
    assert ph.optional_open(phases) == [("publication", "public_notice")]
    phases = ph.close(phases, "publication", "public_notice", by=BY, at=AT, skip=True,
                      note="not published: two recipients, both reached")
    public = step(phases, "publication", "public_notice")
    assert (public["status"], public["note"], public["closed_by"]) == (
        "skipped", "not published: two recipients, both reached", BY)
    assert phase(phases, "publication")["status"] == "closed"
    with pytest.raises(ph.PhaseError, match="^publication.public_notice is already skipped"):
        ph.close(phases, "publication", "public_notice", by=BY, at=AT, note="again")


def test_a_required_step_cannot_be_skipped():
    phases = ph.initial(*situation(sensitive=True))
    with pytest.raises(ph.PhaseError, match="^authorities.ppc_final cannot be skipped: only an optional step"):
        ph.close(phases, "authorities", "ppc_final", by=BY, at=AT, note="no", skip=True)
    phases = ph.initial(*situation(sensitive=True, persons_unreachable=True))
    with pytest.raises(ph.PhaseError, match="^publication.public_notice cannot be skipped"):
        ph.close(phases, "publication", "public_notice", by=BY, at=AT, note="no", skip=True)


@pytest.mark.parametrize("old,new", [("notice", "public_notice"), ("client", "client_notice"),
                                     ("persons", "persons_notice"), ("review_body", "review_body_final"),
                                     ("gdpr", "gdpr_72h")])
def test_old_step_ids_are_accepted_and_migrated(old, new):
    phase_id = "authorities" if old in ("review_body", "gdpr") else "publication"
    phases = ph.initial(*situation(gdpr=True, entrusted=True, sensitive=True))
    closed = ph.close(phases, phase_id, old, by=BY, at=AT, note="done")
    assert step(closed, phase_id, new)["status"] == "closed"
    stored = [{**p, "steps": [{k: v for k, v in {**s, "id": old if s["id"] == new else s["id"]}.items()
                               if k != "optional"} for s in p["steps"]]} for p in closed]
    migrated = ph.refresh(stored, *situation(gdpr=True, entrusted=True, sensitive=True))
    assert step(migrated, phase_id, new)["status"] == "closed" and ph.step_status(migrated, phase_id, old) == "closed"
    assert [s["id"] for s in phase(migrated, phase_id)["steps"]] == list(ph.STEPS[phase_id])


def test_steps_come_back_when_facts_change():
    phases = ph.initial(*situation(**DECIDED, persons=4))
    assert step(phases, "authorities", "ppc_final")["status"] == "not_applicable"
    phases = ph.refresh(phases, *situation(**{**DECIDED, "sensitive": True}, persons=4))
    final = step(phases, "authorities", "ppc_final")
    assert (final["status"], final["reason"]) == ("open", None)
    assert step(phases, "publication", "persons_notice")["status"] == "open"


def test_a_closed_step_stays_closed_when_it_stops_applying():
    phases = ph.initial(*situation(sensitive=True))
    phases = ph.close(phases, "authorities", "ppc_preliminary", by=BY, at=AT, note="sent on the portal")
    phases = ph.refresh(phases, *situation(**DECIDED, persons=2))
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
    ("publication", "client_notice", "publication.client_notice does not apply: not entrusted: no client "
                                     "(委託元) to notify"),
    ("publication", None, "publication has open steps (public_notice, persons_notice): close each with its step"),
])
def test_errors_are_one_clear_line(phase_id, step_id, message):
    with pytest.raises(ph.PhaseError) as error:
        ph.close(ph.initial(*situation(persons=3, entrusted=False)), phase_id, step_id, by=BY, at=AT, note="x")
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
    phases = ph.initial(*situation(**DECIDED, persons=3, entrusted=False))
    phases = ph.close(phases, "publication", "public_notice", by=BY, at=AT, note="published on the web site")
    assert phase(phases, "publication")["status"] == "closed"  # client and persons do not apply
    phases = ph.refresh(phases, *situation(**{**DECIDED, "sensitive": True}, persons=3, entrusted=False))
    assert phase(phases, "publication")["status"] == "open"
    assert ph.open_items(phases)[:3] == ["report", "containment", "publication.persons_notice"]


def test_a_phase_none_of_whose_steps_apply_is_not_applicable():
    phases = ph.initial(*situation(privacy_mark=False, persons=3, **DECIDED))
    assert (phase(phases, "authorities")["status"], phase(phases, "authorities")["reason"]) == (
        "not_applicable", "no step applies")
    with pytest.raises(ph.PhaseError, match="^authorities does not apply: no step applies$"):
        ph.close(phases, "authorities", by=BY, at=AT, note="x")


def test_notifying_the_client_releases_the_ppc_steps():
    phases = ph.initial(*situation(entrusted=True, sensitive=True))
    assert step(phases, "authorities", "ppc_final")["status"] == "open"
    phases = ph.close(phases, "publication", "client_notice", by=BY, at=AT, note="client notified by phone")
    phases = ph.refresh(phases, *situation(entrusted=True, sensitive=True, client_notified_at=AT))
    for phase_id, step_id in (("authorities", "ppc_preliminary"), ("authorities", "ppc_final"),
                              ("publication", "persons_notice")):
        assert step(phases, phase_id, step_id)["reason"].startswith("released: the client (委託元) was notified")


def test_open_items_is_empty_only_when_everything_is_closed_or_not_applicable():
    phases = ph.initial(*situation(privacy_mark=False, persons=3, entrusted=False, category="wrong_disposal",
                                   data_items=["name"]))
    assert ph.open_items(phases) == ["report", "containment", "prevention.facts",
                                     "prevention.cause", "prevention.measures", "prevention.implementation",
                                     "prevention.verification"]
    for phase_id in ("report", "containment"):
        phases = ph.close(phases, phase_id, by=BY, at=AT, note="done")
    for phase_id in ("publication", "prevention"):
        phases = close_all(phases, phase_id)
    assert ph.open_items(phases) == []
