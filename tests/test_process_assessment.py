"""The legal assessment: triggers, the 1,000/1,001 boundary, the encryption exception, the tracks."""

from __future__ import annotations

import pytest

from leakline.process.assessment import assess, newly_required
from leakline.process.facts import merge

AT = "2026-03-05T10:00:00+09:00"
PPC = "個人情報保護委員会"


def records(**values):
    return merge({}, values, source="admin", by="officer@example.com", at=AT)[0]


def run(privacy_mark=True, gdpr=False, **values):
    return assess(records(**values), privacy_mark=privacy_mark, gdpr=gdpr, report_to=PPC)


@pytest.mark.parametrize("values,triggers,required", [
    ({}, [], False),
    ({"sensitive": True}, ["T1"], True),
    ({"financial": True}, ["T2"], True),
    ({"wrongful": True}, ["T3"], True),
    ({"persons": 1001}, ["T4"], True),
    ({"persons": 1000}, [], False),                               # "more than 1,000"
    ({"persons": 1000, "persons_estimated": True}, [], False),
    ({"persons": 1001, "persons_estimated": True}, ["T4"], True),  # an estimate counts
    ({"persons": 1, "sensitive": True}, ["T1"], True),             # one person is enough for T1-T3
    ({"sensitive": True, "persons": 5000}, ["T1", "T4"], True),
    ({"financial": True, "wrongful": True}, ["T2", "T3"], True),
    ({"sensitive": True, "financial": True, "wrongful": True, "persons": 2000}, ["T1", "T2", "T3", "T4"], True),
    ({"sensitive": False, "financial": False, "wrongful": False, "persons": 10}, [], False),
    ({"data_items": ["medical"]}, ["T1"], True),                    # derived from the data item
    ({"data_items": ["card_number"]}, ["T2"], True),
    ({"category": "theft"}, ["T3"], True),
    ({"category": "misdirected_email", "persons": 3}, [], False),
])
def test_triggers(values, triggers, required):
    result = run(**values)
    assert list(result.triggers) == triggers
    assert result.ppc_report_required is required and result.persons_notice_required is required


@pytest.mark.parametrize("values,triggers,exempt", [
    ({"sensitive": True, "encrypted": True}, ["T1"], True),
    ({"category": "theft", "persons": 1500, "encrypted": True}, ["T3", "T4"], True),
    ({"sensitive": True, "encrypted": False}, ["T1"], False),
    ({"sensitive": True, "encrypted": None}, ["T1"], False),   # unknown is not an exception
    ({"persons": 10, "encrypted": True}, [], False),           # nothing to be exempt from
])
def test_encryption_exempts_the_ppc_track(values, triggers, exempt):
    result = run(**values)
    assert list(result.triggers) == triggers
    assert result.exempt_by_encryption is exempt
    assert result.ppc_report_required is (bool(triggers) and not exempt)


def test_encryption_does_not_exempt_the_privacy_mark_track():
    result = run(category="loss", sensitive=True, encrypted=True)
    assert not result.ppc_report_required
    assert result.privacy_mark == {"applies": True, "final_required": True, "preliminary_required": True}
    assert any("encryption does not exempt under the Privacy Mark" in r for r in result.reasons)


@pytest.mark.parametrize("privacy_mark,values,final,preliminary", [
    (True, {"persons": 1}, True, False),          # every incident, even one person
    (True, {"persons": 1, "sensitive": True}, True, True),
    (True, {"persons": 1001}, True, True),
    (False, {"sensitive": True}, False, False),
])
def test_privacy_mark_track(privacy_mark, values, final, preliminary):
    track = run(privacy_mark=privacy_mark, **values).privacy_mark
    assert (track["applies"], track["final_required"], track["preliminary_required"]) == (
        privacy_mark, final, preliminary)


def test_reasons_cite_the_evidence():
    facts = merge({}, {"sensitive": True}, source="extracted", by="extraction", at=AT,
                  evidence={"sensitive": "matched 病歴"})[0]
    result = assess(facts, privacy_mark=False, gdpr=False, report_to=PPC)
    assert result.reasons[0] == "T1: sensitive personal information (要配慮個人情報): matched 病歴 (extracted)"
    assert f"Report to {PPC}" in result.reasons[1] and "final within 30 days" in result.reasons[1]


def test_t3_gives_sixty_days_in_the_reasons():
    assert any("final within 60 days" in r for r in run(wrongful=True).reasons)


def test_unknown_persons_is_not_t4_and_the_reasons_say_so():
    result = run(sensitive=False, financial=False, wrongful=False)
    assert list(result.triggers) == []
    assert any(r.startswith("T4 not counted: the number of persons is unknown") for r in result.reasons)


def test_open_questions_name_what_is_unknown():
    questions = " ".join(run(persons=10).open_questions)
    assert "T1 unknown" in questions and "T2 unknown" in questions and "Entrusted unknown" in questions
    assert "T4" not in questions


def test_client_track_and_the_release_from_the_ppc_report():
    result = run(entrusted=True, client="株式会社サンプル商事", sensitive=True)
    assert result.client == {"required": True, "name": "株式会社サンプル商事"}
    assert result.ppc_report_required  # until the client is notified (phases release the steps)
    reason = next(r for r in result.reasons if r.startswith("Entrusted data"))
    assert "株式会社サンプル商事" in reason and "released" in reason and "26(1)" in reason
    assert run(entrusted=False).client["required"] is False


@pytest.mark.parametrize("values,report,notify", [
    ({"persons": 3}, True, False),
    ({"sensitive": True}, True, True),
    ({"sensitive": True, "encrypted": True}, True, False),  # unintelligible data: no Art. 34 notice
])
def test_gdpr_track(values, report, notify):
    track = run(gdpr=True, **values).gdpr
    assert (track["applies"], track["report_required"], track["persons_notice_required"]) == (True, report, notify)
    assert run(gdpr=False, **values).gdpr["applies"] is False


def test_my_number_gets_a_note():
    assert any("My Number" in r for r in run(data_items=["my_number"]).reasons)


def test_to_dict_has_the_contract_keys():
    result = run(sensitive=True, persons=2000).to_dict()
    assert result["triggers"] == ["T1", "T4"] and result["ppc_report_required"] is True
    assert {"persons_notice_required", "reasons", "report_to", "privacy_mark", "client", "gdpr"} <= set(result)
    assert result["report_to"] == PPC


@pytest.mark.parametrize("old,new,names", [
    (None, {}, ["review_body_final"]),
    ({}, {"sensitive": True}, ["ppc_report", "persons_notice", "review_body_preliminary"]),
    ({"sensitive": True}, {"sensitive": True, "persons": 2000}, []),
    ({"sensitive": True}, {"sensitive": False}, []),
    ({"sensitive": True, "encrypted": True}, {"sensitive": True, "encrypted": False},
     ["ppc_report", "persons_notice"]),
    ({}, {"entrusted": True}, ["client_notice"]),
])
def test_newly_required(old, new, names):
    before = None if old is None else run(**old).to_dict()
    assert newly_required(before, run(**new).to_dict()) == names
