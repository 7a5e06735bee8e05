"""The legal assessment, rule by rule: triggers and their boundaries, undetermined facts, the
encryption exception, recovery, the processor's release, My Number, GDPR, sector, publication.

Each table row is a situation written from the PPC guideline 通則編 3-5 and its Q&A, not from
the repository's examples; the comment says which text it comes from.
"""

from __future__ import annotations

import pytest

from leakline.process.assessment import REQUIRED, assess, newly_required
from leakline.process.facts import merge

AT = "2026-03-05T10:00:00+09:00"
PPC = "個人情報保護委員会"
DECIDED = {"sensitive": False, "financial": False, "wrongful": False}


def records(source="admin", evidence=None, **values):
    return merge({}, values, source=source, by="officer@example.com", at=AT, evidence=evidence)[0]


def mixed(*layers):
    """Records from several sources: each layer is (source, values)."""
    found = {}
    for source, values in layers:
        found, _ = merge(found, values, source=source, by=f"{source}@example.com", at=AT)
    return found


def run(facts=None, privacy_mark=True, gdpr=False, **values):
    return assess(facts if facts is not None else records(**values), privacy_mark=privacy_mark,
                  gdpr=gdpr, report_to=PPC)


@pytest.mark.parametrize("values,held,undetermined,required", [
    ({}, [], ["T1", "T2", "T3", "T4"], None),                       # nothing known: not "no"
    ({"sensitive": True}, ["T1"], ["T2", "T3", "T4"], True),        # one holding trigger suffices
    ({"financial": True, "persons": 1}, ["T2"], ["T1", "T3"], True),
    ({"wrongful": True}, ["T3"], ["T1", "T2", "T4"], True),
    ({**DECIDED, "persons": 1000}, [], [], False),                  # Rules Art. 7(4): more than 1,000
    ({**DECIDED, "persons": 1001}, ["T4"], [], True),
    ({**DECIDED, "persons": 1000, "persons_over": True}, ["T4"], [], True),   # 「1,000人超」 = 1,001+
    ({**DECIDED, "persons": 999, "persons_over": True}, [], ["T4"], None),    # 「999人超」: no upper bound
    ({**DECIDED, "persons": 999, "persons_over": True, "persons_max": 1000}, [], [], False),
    ({**DECIDED, "persons_max": 9999}, ["T4"], [], True),           # 「数千人」: the largest possible counts
    ({**DECIDED, "persons_max": 1000}, [], [], False),
    ({**DECIDED, "persons_max": 1001}, ["T4"], [], True),
    ({**DECIDED, "persons": 500, "persons_max": 1200}, ["T4"], [], True),   # "500 to 1,200": 1,200 counts
    ({**DECIDED, "persons": 1000, "persons_estimated": True}, [], [], False),
    ({**DECIDED, "persons": 1001, "persons_estimated": True}, ["T4"], [], True),
    ({**DECIDED, "persons": 0}, [], [], False),
    ({"sensitive": False, "financial": False, "persons": 3}, [], ["T3"], None),  # T3 still open
    ({"category": "loss", "sensitive": False, "financial": False, "persons": 3}, [], ["T3"], None),  # a lost bag may be theft
    ({"category": "theft", "sensitive": False, "financial": False, "persons": 3}, ["T3"], [], True),
    ({"category": "misdirected_email", "sensitive": False, "financial": False, "persons": 3}, [], [], False),
    ({"sensitive": True, "financial": True, "wrongful": True, "persons": 2000}, ["T1", "T2", "T3", "T4"], [], True),
])
def test_triggers_hold_are_decided_or_are_undetermined(values, held, undetermined, required):
    result = run(**values)
    assert list(result.triggers) == held
    assert list(result.triggers_undetermined) == undetermined
    assert result.ppc_report_required is required and result.persons_notice_required is required


@pytest.mark.parametrize("layers,held,undetermined", [
    # An admin's list of data items decides T1 and T2: an item that is not listed is not there.
    ([("admin", {"data_items": ["name", "address"], "category": "misdirected_email", "persons": 3})], [], []),
    ([("admin", {"data_items": ["name", "medical"], "category": "misdirected_email", "persons": 3})], ["T1"], []),
    ([("admin", {"data_items": ["card_number"], "category": "misdirected_email", "persons": 3})], ["T2"], []),
    # A bank account number alone is not T2 (GL 3-5-3-1).
    ([("admin", {"data_items": ["name", "account"], "category": "misdirected_email", "persons": 3})], [], []),
    # The same list from the reporter or the text decides nothing yet.
    ([("reply", {"data_items": ["name", "address"], "category": "misdirected_email", "persons": 3})], [], ["T1", "T2"]),
    ([("extracted", {"data_items": ["name"], "category": "misdirected_email", "persons": 3})], [], ["T1", "T2"]),
    # The admin's list outranks a lower source's flag (admin > reply > extracted): found by the
    # held-out set (L016).
    ([("extracted", {"sensitive": True}), ("admin", {"data_items": ["name"], "category": "misdirected_email",
                                                   "persons": 3})], [], []),
    ([("reply", {"financial": True}), ("admin", {"data_items": ["name"], "category": "misdirected_email",
                                               "persons": 3})], [], []),
    # An admin's own flag stands against the admin's list.
    ([("admin", {"sensitive": True, "data_items": ["name"], "category": "misdirected_email",
                 "persons": 3})], ["T1"], []),
])
def test_an_admins_data_items_decide_t1_and_t2(layers, held, undetermined):
    result = run(mixed(*layers))
    assert (list(result.triggers), list(result.triggers_undetermined)) == (held, undetermined)


@pytest.mark.parametrize("source,held,undetermined", [
    ("extracted", [], ["T1", "T2", "T3"]),   # the text denying it decides nothing alone
    ("reply", [], []),
    ("admin", [], []),
])
def test_a_denial_read_from_the_text_leaves_the_trigger_undetermined(source, held, undetermined):
    result = run(mixed((source, DECIDED), ("admin", {"persons": 3})))
    assert (list(result.triggers), list(result.triggers_undetermined)) == (held, undetermined)
    if source == "extracted":
        assert any(r.startswith("T1 undetermined: the report says no") for r in result.reasons)


@pytest.mark.parametrize("layers,exempt,required", [
    ([("admin", {"sensitive": True, "encrypted": True, "key_leaked": False})], True, False),
    ([("admin", {"sensitive": True, "encrypted": True})], False, True),          # key unknown
    ([("admin", {"sensitive": True, "encrypted": True, "key_leaked": True})], False, True),
    ([("admin", {"sensitive": True, "encrypted": False})], False, True),
    # Nothing a reporter or the text says grants it (GL 3-5-3-1; DOMAIN.md).
    ([("extracted", {"encrypted": True, "key_leaked": False}), ("admin", {"sensitive": True})], False, True),
    ([("reply", {"encrypted": True}), ("admin", {"sensitive": True, "key_leaked": False})], False, True),
    ([("admin", {"encrypted": True}), ("reply", {"key_leaked": False}), ("admin", {"sensitive": True})],
     False, True),
    # The exception covers every trigger, also one still undetermined.
    ([("admin", {"encrypted": True, "key_leaked": False})], True, False),
    ([("admin", {**DECIDED, "persons": 10, "encrypted": True, "key_leaked": False})], False, False),
])
def test_the_encryption_exception_needs_an_admin_for_both_parts(layers, exempt, required):
    result = run(mixed(*layers))
    assert result.exempt_by_encryption is exempt
    assert result.ppc_report_required is required


def test_the_exception_keeps_the_triggers_and_the_privacy_mark_preliminary():
    result = run(category="loss", sensitive=True, encrypted=True, key_leaked=False)
    assert list(result.triggers) == ["T1"] and result.ppc_report_required is False
    assert result.privacy_mark["preliminary_required"] is True and result.privacy_mark["final_required"]


def test_an_encryption_claim_is_a_question_naming_the_words_never_an_exemption():
    facts = records(source="extracted", encryption_claim="パスワード付きZIPで送りました", sensitive=True)
    result = run(facts)
    assert result.exempt_by_encryption is False and result.ppc_report_required is True
    question = next(q for q in result.open_questions if q.startswith("Encryption claimed"))
    assert "「パスワード付きZIPで送りました」" in question and "--encrypted --key-safe" in question


def test_confirmed_encryption_asks_about_the_key():
    result = run(sensitive=True, encrypted=True)
    assert any("did the decryption key" in q for q in result.open_questions)


@pytest.mark.parametrize("layers,not_a_leak,required", [
    # Q&A Q6-1: a mis-sent mail deleted unread, the recipient confirming it.
    ([("admin", {"sensitive": True, "recovered_unread": True})], True, False),
    ([("reply", {"recovered_unread": True}), ("admin", {"sensitive": True})], False, True),
    ([("extracted", {"recovered_unread": True}), ("admin", {"sensitive": True})], False, True),
    ([("admin", {"sensitive": True, "recovered_unread": False})], False, True),
])
def test_recovered_unread_only_on_an_admins_word(layers, not_a_leak, required):
    result = run(mixed(*layers))
    assert result.not_a_leak is not_a_leak and result.ppc_report_required is required
    assert (list(result.triggers) == []) is not_a_leak


def test_not_a_leak_empties_the_triggers_but_the_privacy_mark_report_stays():
    facts = records(evidence={"recovered_unread": "受信者から未開封で削除した旨の書面 3/6"},
                    sensitive=True, category="misdirected_email", persons=1, recovered_unread=True)
    result = run(facts).to_dict()
    assert result["triggers"] == [] and result["triggers_undetermined"] == []
    assert result["ppc_report_required"] is False and result["persons_notice_required"] is False
    assert result["privacy_mark"]["final_required"] is True
    assert result["privacy_mark"]["preliminary_required"] is True  # the mark counts the possibility
    assert "受信者から未開封で削除した旨の書面" in result["reasons"][0]


@pytest.mark.parametrize("layers,released,required", [
    # GL 3-5-3-5: the processor that notified its client is released.
    ([("admin", {"sensitive": True, "entrusted": True, "client_notified_at": "2026-03-06T10:00:00+09:00"})],
     True, False),
    ([("admin", {"sensitive": True, "entrusted": True})], False, True),
    ([("admin", {"sensitive": True, "entrusted": True}), ("reply", {"client_notified_at": "2026-03-06"})],
     False, True),
    ([("admin", {"sensitive": True, "entrusted": False, "client_notified_at": "2026-03-06"})], False, True),
])
def test_the_processors_release(layers, released, required):
    result = run(mixed(*layers))
    assert result.released_to_client is released and result.ppc_report_required is required
    assert list(result.triggers) == ["T1"]  # the triggers are listed under the release too


@pytest.mark.parametrize("values,required,question", [
    ({"entrusted": True, "client": "株式会社サンプル商事"}, True, False),
    ({"entrusted": False}, False, False),
    ({}, None, True),
])
def test_the_client_track(values, required, question):
    result = run(**values)
    assert result.client["required"] is required
    assert any(q.startswith("Entrusted unknown") for q in result.open_questions) is question


MN = {"data_items": ["name", "my_number"], "category": "misdirected_email"}


@pytest.mark.parametrize("values,mn,required", [
    ({**MN, "persons": 101}, True, True),           # MN Rules Art. 2(4): more than 100
    ({**MN, "persons": 100}, False, False),
    ({**MN}, None, None),                           # the count is unknown
    ({**MN, "persons": 50, "persons_max": 150}, True, True),
    ({**MN, "category": "theft", "persons": 2}, True, True),         # Art. 2(2) wrongful purpose
    ({**MN, "category": "wrong_display", "persons": 2}, None, None),  # Art. 2(3) open to view? unknown
    ({**MN, "category": "wrong_display", "wrongful": False, "persons": 2, "publicly_exposed": True}, True, True),
    ({**MN, "category": "wrong_display", "wrongful": False, "persons": 2, "publicly_exposed": False},
     False, False),
])
def test_the_my_number_track(values, mn, required):
    result = run(**values)
    assert result.my_number == {"applies": True, "report_required": mn}
    assert result.ppc_report_required is required
    assert result.privacy_mark["preliminary_required"] is mn
    if mn:
        assert any("My Number (特定個人情報): report to the PPC" in r for r in result.reasons)


@pytest.mark.parametrize("values,role,report,controller_notice,notify", [
    ({"gdpr_high_risk": True}, "controller", True, False, True),
    ({"gdpr_high_risk": False, "sensitive": True}, "controller", True, False, False),  # its own test
    ({"sensitive": True}, "controller", True, False, None),                             # undetermined
    ({"gdpr_high_risk": True, "encrypted": True, "key_leaked": False}, "controller", True, False, False),
    ({"gdpr_high_risk": True}, "processor", False, True, False),
])
def test_gdpr_art_33_and_34(values, role, report, controller_notice, notify):
    track = assess(records(**values), privacy_mark=False, gdpr=True, report_to=PPC, gdpr_role=role,
                   gdpr_processor_notice_hours=36).gdpr
    assert (track["report_required"], track["controller_notice_required"],
            track["persons_notice_required"]) == (report, controller_notice, notify)
    assert track["controller_notice_hours"] == (36 if role == "processor" else None)


@pytest.mark.parametrize("layers,required", [
    ([("admin", {**DECIDED, "persons": 1})], True),     # 金融機関Q&A Q4-12: any leak, one FAX
    ([("admin", {"audience": "employees"})], False),
    ([("reply", {"audience": "employees"})], True),      # only an admin's word removes it
    ([("admin", {"audience": "customers"})], True),
])
def test_the_financial_sector_report(layers, required):
    result = assess(mixed(*layers), privacy_mark=True, gdpr=False, report_to="金融庁",
                    sector="financial", sector_report_to="関東財務局")
    assert result.sector == {"applies": True, "name": "financial", "report_required": required,
                             "report_to": "関東財務局"}
    assert run(**DECIDED).sector["applies"] is False


@pytest.mark.parametrize("layers,public", [
    ([("admin", {"sensitive": True})], False),                                 # optional
    ([("admin", {"sensitive": True, "persons_unreachable": True})], True),     # substitutes
    ([("admin", {**DECIDED, "persons": 3, "persons_unreachable": True})], False),
    ([("admin", {"persons_unreachable": True})], None),
    ([("reply", {"persons_unreachable": True}), ("admin", {"sensitive": True})], False),
])
def test_the_public_notice_is_optional_unless_it_replaces_the_notice(layers, public):
    assert run(mixed(*layers)).public_notice_required is public


def test_reasons_cite_the_evidence_and_the_article():
    facts = records(source="extracted", evidence={"sensitive": "matched 病歴"}, sensitive=True)
    result = run(facts)
    assert result.reasons[0] == ("T1 (規則第7条第1号): sensitive personal information (要配慮個人情報): "
                                 "matched 病歴 (extracted)")
    assert any(r.startswith(f"Report to {PPC}") and "final within 30 days" in r for r in result.reasons)
    assert any("final within 60 days" in r for r in run(wrongful=True).reasons)


def test_an_unknown_count_is_undetermined_and_asked_for():
    result = run(**DECIDED)
    assert list(result.triggers_undetermined) == ["T4"]
    assert any(r.startswith("T4 undetermined: the number of persons is unknown") for r in result.reasons)
    assert any(q.startswith("T4 undetermined: how many persons at most?") for q in result.open_questions)


def test_to_dict_has_the_contract_keys():
    result = run(sensitive=True, persons=2000).to_dict()
    assert result["triggers"] == ["T1", "T4"] and result["ppc_report_required"] is True
    assert {"persons_notice_required", "reasons", "open_questions", "report_to", "privacy_mark", "client",
            "gdpr", "triggers_undetermined", "released_to_client", "sector", "exempt_by_encryption",
            "my_number", "not_a_leak", "public_notice_required"} <= set(result)
    assert result["report_to"] == PPC


def test_required_is_keyed_by_step_ids():
    from leakline.process.deadlines import STEPS
    from leakline.process.phases import STEPS as PHASE_STEPS

    step_ids = {s for steps in PHASE_STEPS.values() for s in steps}
    assert set(REQUIRED) <= step_ids and set(STEPS) <= set(REQUIRED)


@pytest.mark.parametrize("old,new,names", [
    (None, {}, ["review_body_final"]),  # undetermined is not "required": no alert yet
    ({}, {"sensitive": True}, ["ppc_preliminary", "ppc_final", "persons_notice", "review_body_preliminary"]),
    ({"sensitive": True}, {"sensitive": True, "persons": 2000}, []),
    ({"sensitive": True}, {"sensitive": False}, []),
    ({"sensitive": True, "encrypted": True, "key_leaked": False}, {"sensitive": True, "encrypted": False},
     ["ppc_preliminary", "ppc_final", "persons_notice"]),
    ({}, {"entrusted": True}, ["client_notice"]),
])
def test_newly_required(old, new, names):
    before = None if old is None else run(**old).to_dict()
    assert newly_required(before, run(**new).to_dict()) == names


def test_newly_required_reads_an_assessment_stored_before_issue_10():
    old = {"ppc_report_required": False, "persons_notice_required": False,
           "privacy_mark": {"applies": True, "final_required": True, "preliminary_required": False},
           "client": {"required": False}, "gdpr": {"applies": False, "report_required": False}}
    assert newly_required(old, run(sensitive=True).to_dict()) == [
        "ppc_preliminary", "ppc_final", "persons_notice", "review_body_preliminary"]
