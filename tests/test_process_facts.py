"""The facts model: validation, source precedence, the audit of changes, derived flags."""

from __future__ import annotations

import pytest

from leakline.process.facts import FIELDS, FactError, current, known, merge, shown

AT = "2026-03-05T10:00:00+09:00"


def test_merge_records_source_who_when_and_evidence():
    records, changes = merge({}, {"category": "loss", "sensitive": True}, source="extracted",
                             by="extraction", at=AT, evidence={"sensitive": "matched 病歴"})
    assert records["sensitive"] == {"value": True, "source": "extracted", "by": "extraction", "at": AT,
                                    "evidence": "matched 病歴"}
    assert [(c.field, c.old, c.new) for c in changes] == [("category", None, "loss"), ("sensitive", None, True)]


@pytest.mark.parametrize("first,second,kept", [
    ("extracted", "reply", "reply"),
    ("reply", "admin", "admin"),
    ("extracted", "admin", "admin"),
    ("admin", "reply", "admin"),      # a lower source never overwrites a higher one
    ("admin", "extracted", "admin"),
    ("reply", "extracted", "reply"),
    ("reply", "reply", "reply"),      # the same source overwrites
])
def test_precedence_admin_over_reply_over_extracted(first, second, kept):
    records, _ = merge({}, {"persons": 10}, source=first, by="a", at=AT)
    records, changes = merge(records, {"persons": 20}, source=second, by="b", at=AT)
    assert records["persons"]["source"] == kept
    assert records["persons"]["value"] == (20 if kept == second else 10)
    assert bool(changes) == (kept == second)


def test_change_names_old_and_new_for_the_audit():
    records, _ = merge({}, {"persons": 10}, source="reply", by="taro@example.com", at=AT)
    _, changes = merge(records, {"persons": 1200}, source="admin", by="boss@example.com", at=AT)
    assert changes[0].to_dict() == {"field": "persons", "old": 10, "new": 1200, "source": "admin",
                                    "by": "boss@example.com", "at": AT, "old_source": "reply"}


def test_a_count_given_alone_is_exact():
    records, _ = merge({}, {"persons": 1200, "persons_estimated": True}, source="extracted", by="x", at=AT)
    records, _ = merge(records, {"persons": 1187}, source="admin", by="boss@example.com", at=AT)
    assert (current(records)["persons"], current(records)["persons_estimated"]) == (1187, False)


def test_same_value_from_same_source_is_no_change():
    records, _ = merge({}, {"category": "loss"}, source="reply", by="a", at=AT)
    assert merge(records, {"category": "loss"}, source="reply", by="a", at=AT)[1] == []


def test_merge_does_not_change_its_input():
    records, _ = merge({}, {"category": "loss"}, source="reply", by="a", at=AT)
    merge(records, {"category": "theft"}, source="admin", by="b", at=AT)
    assert records["category"]["value"] == "loss"


@pytest.mark.parametrize("values,message", [
    ({"colour": "red"}, "colour: unknown fact"),
    ({"category": "flood"}, "category: unknown category 'flood'"),
    ({"persons": -1}, "persons: expected a number of persons"),
    ({"persons": True}, "persons: expected a number of persons"),
    ({"persons": "1200"}, "persons: expected a number of persons"),
    ({"data_items": ["name", "shoe_size"]}, "data_items: unknown data item 'shoe_size'"),
    ({"data_items": "name"}, "data_items: expected a list"),
    ({"sensitive": "yes"}, "sensitive: expected true, false or unknown"),
    ({"discovered_at": "yesterday"}, "discovered_at: expected an ISO date"),
    ({"persons_estimated": None}, "persons_estimated: expected true or false"),
])
def test_wrong_values_raise_one_line(values, message):
    with pytest.raises(FactError) as error:
        merge({}, values, source="admin", by="a", at=AT)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_nothing_is_applied_when_one_value_is_wrong():
    with pytest.raises(FactError):
        merge({}, {"category": "loss", "persons": -5}, source="admin", by="a", at=AT)


def test_unknown_source_is_refused():
    with pytest.raises(FactError, match="source"):
        merge({}, {"category": "loss"}, source="rumour", by="a", at=AT)


def test_current_gives_defaults():
    assert current({}) == {"discovered_at": None, "occurred_at": None, "category": None,
                           "persons": None, "persons_estimated": False, "persons_over": False,
                           "persons_max": None, "data_items": [], "sensitive": None,
                           "financial": None, "wrongful": None, "encrypted": None, "entrusted": None,
                           "key_leaked": None, "recovered_unread": None, "persons_unreachable": None,
                           "publicly_exposed": None, "gdpr_high_risk": None, "encryption_claim": None,
                           "client": None, "client_notified_at": None, "medium": None,
                           "audience": None, "caused_by": None, "secondary_harm": None}


def test_data_items_are_stored_in_canonical_order_without_duplicates():
    records, _ = merge({}, {"data_items": ["medical", "name", "medical"]}, source="admin", by="a", at=AT)
    assert records["data_items"]["value"] == ["name", "medical"]


@pytest.mark.parametrize("values,field,derived", [
    ({"data_items": ["name", "medical"]}, "sensitive", True),
    ({"data_items": ["disability"]}, "sensitive", True),
    ({"data_items": ["name", "address"]}, "sensitive", None),
    ({"data_items": ["card_number"]}, "financial", True),
    ({"data_items": ["id_password"]}, "financial", True),
    ({"data_items": ["login"]}, "financial", None),      # no payment function
    ({"data_items": ["account"]}, "financial", None),    # an account number alone takes no money
    ({"category": "theft"}, "wrongful", True),
    ({"category": "unauthorized_access"}, "wrongful", True),
    ({"category": "misdirected_email"}, "wrongful", False),
    ({"category": "loss"}, "wrongful", None),            # a lost bag may have been stolen
])
def test_derived_flags(values, field, derived):
    records, _ = merge({}, values, source="reply", by="a", at=AT)
    facts = known(records)
    assert facts[field] is derived
    if derived is not None:
        assert facts.why[field].endswith("(derived)")


def test_a_stated_flag_beats_a_derived_one():
    records, _ = merge({}, {"data_items": ["medical"], "sensitive": False}, source="admin", by="a", at=AT)
    assert current(records)["sensitive"] is False


def test_an_admins_items_outrank_a_lower_sources_flag_and_show_as_derived():
    records, _ = merge({}, {"sensitive": True}, source="extracted", by="x", at=AT)
    records, _ = merge(records, {"data_items": ["name"]}, source="admin", by="boss@example.com", at=AT)
    assert current(records)["sensitive"] is False
    assert shown(records)["sensitive"]["source"] == "derived"


def test_why_gives_the_evidence_or_who_set_it():
    records, _ = merge({}, {"sensitive": True}, source="extracted", by="x", at=AT,
                       evidence={"sensitive": "matched 病歴"})
    records, _ = merge(records, {"persons": 3}, source="admin", by="boss@example.com", at=AT)
    why = known(records).why
    assert why["sensitive"] == "matched 病歴 (extracted)"
    assert why["persons"] == "set by boss@example.com (admin)"


@pytest.mark.parametrize("values,message", [
    ({"medium": "stone"}, "medium: expected one of paper, electronic, both"),
    ({"audience": "everyone"}, "audience: expected one of customers"),
    ({"caused_by": "gremlins"}, "caused_by: expected one of us, processor, third_party"),
    ({"client_notified_at": "last week"}, "client_notified_at: expected an ISO date"),
    ({"occurred_at": 20260305}, "occurred_at: expected an ISO date"),
    ({"persons_max": -1}, "persons_max: expected a number of persons"),
    ({"key_leaked": "no"}, "key_leaked: expected true, false or unknown"),
    ({"gdpr_high_risk": 1}, "gdpr_high_risk: expected true, false or unknown"),
])
def test_new_facts_are_validated(values, message):
    with pytest.raises(FactError, match="^" + message):
        merge({}, values, source="admin", by="a", at=AT)


def test_an_exact_count_replaces_bounds_and_over_from_the_same_or_lower_source():
    records, _ = merge({}, {"persons": 1000, "persons_over": True, "persons_max": 9999}, source="extracted",
                       by="x", at=AT)
    records, _ = merge(records, {"persons": 850}, source="admin", by="boss@example.com", at=AT)
    facts = current(records)
    assert (facts["persons"], facts["persons_over"], facts["persons_max"]) == (850, False, None)


def test_an_estimate_keeps_the_upper_bound():
    records, _ = merge({}, {"persons_max": 9999}, source="extracted", by="x", at=AT)
    records, _ = merge(records, {"persons": 800, "persons_estimated": True}, source="reply", by="r", at=AT)
    assert current(records)["persons_max"] == 9999


@pytest.mark.parametrize("source,expected", [("admin", False), ("reply", None), ("extracted", None)])
def test_only_an_admins_data_items_decide_the_absence_of_sensitive_data(source, expected):
    records, _ = merge({}, {"data_items": ["name", "address"]}, source=source, by="a", at=AT)
    assert current(records)["sensitive"] is expected and current(records)["financial"] is expected


@pytest.mark.parametrize("category,exposed", [("misdirected_email", False), ("loss", False),
                                              ("wrong_display", None), ("unauthorized_access", None)])
def test_public_exposure_is_ruled_out_only_for_mistakes_before_particular_people(category, exposed):
    records, _ = merge({}, {"category": category}, source="extracted", by="x", at=AT)
    assert current(records)["publicly_exposed"] is exposed


def test_shown_has_every_fact_null_when_unknown_and_derived_ones_marked():
    records, _ = merge({}, {"data_items": ["name", "medical"], "persons": 3}, source="reply",
                       by="taro@example.com", at=AT)
    facts = shown(records)
    assert list(facts) == list(FIELDS)
    assert facts["persons"] == {"value": 3, "source": "reply", "by": "taro@example.com", "at": AT,
                                "evidence": None}
    assert facts["sensitive"] == {"value": True, "source": "derived", "by": None, "at": None,
                                  "evidence": "data item medical is 要配慮個人情報 (sensitive personal information)"}
    assert facts["encrypted"] == {"value": None, "source": None, "by": None, "at": None, "evidence": None}
    assert all(not isinstance(f["value"], str) or field in ("category", "discovered_at", "occurred_at")
               for field, f in facts.items())
