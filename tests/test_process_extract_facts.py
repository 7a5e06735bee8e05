"""What extraction may and may not say (issues 10 and 11): counts, discovery dates, encryption, hedges."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.score import read, score
from leakline.process import apply_extraction, kindmodel, kinds, reassess
from leakline.process.extract import extract, normalize
from leakline.process.facts import ACCIDENT_CATEGORIES, WRONGFUL_CATEGORIES, known

RECEIVED = "2026-03-09T10:00:00+09:00"  # a Monday


def facts(text: str, subject: str = "報告") -> dict:
    case = {"id": "INC-1", "received_at": RECEIVED, "facts": {}}
    updated, _ = apply_extraction(case, text, subject, RECEIVED)
    return known(updated["facts"]).values


@pytest.mark.parametrize("text, persons, over, maximum", [
    ("顧客100〜150名分の名簿", 150, False, None),                 # a range: the upper end
    ("確認できたのは300名、最大で2,450名のおそれ", 2450, False, None),  # the "up to" figure
    ("対象は1,000人超です", 1000, True, None),
    ("会員1,000名以上の情報", 1000, True, None),
    ("more than 1,000 customers", 1000, True, None),
    ("数千件の顧客データ", None, False, 9999),                     # an order of magnitude only
    ("several hundred customers", None, False, 999),
    ("お客様１２０名分", 120, False, None),                         # full-width digits
    ("従業員千二百人の住所", 1200, False, None),                   # kanji numerals
    ("封筒200通を確認しました。対象のお客様は2名です", 2, False, None),  # envelopes are not persons
    ("当社の従業員数は45名です。誤送信した明細は12名分", 12, False, None),  # nor is the head-count
    ("TEL 03-1234-5678 受付番号 No. 4521", None, False, None),
])
def test_persons_is_the_largest_number_the_text_supports(text, persons, over, maximum):
    values = facts(text)
    assert (values["persons"], values["persons_over"], values["persons_max"]) == (persons, over, maximum)


@pytest.mark.parametrize("text, day", [
    ("金曜に気づきました。USBメモリが見当たりません。", "2026-03-06"),
    ("先週金曜の夕方、お客様からの電話で判明しました。", "2026-03-06"),
    ("昨日14時頃、誤送信に気づきました。", "2026-03-08T14:00:00+09:00"),
    ("一昨日、紛失に気づきました。", "2026-03-07"),
    ("3/5に発覚しました。", "2026-03-05"),
    ("12/28に判明しました。", "2025-12-28"),                      # no year: the latest not after
    ("I noticed it last Friday.", "2026-03-06"),
    ("We found out yesterday evening.", "2026-03-08"),
    ("2月20日に送ったメールについて、昨日先方から連絡があり判明しました。", "2026-03-08"),
])
def test_a_discovery_date_in_the_text_becomes_discovered_at(text, day):
    assert facts(text)["discovered_at"] == day


def test_no_date_or_today_leaves_the_receipt_and_later_dates_are_ignored():
    assert facts("本日、USBメモリを紛失しました。")["discovered_at"] == RECEIVED
    assert facts("3月20日の会議で説明します。紛失しました。")["discovered_at"] == RECEIVED


def test_the_discovery_date_moves_day_one_of_the_deadlines():
    from types import SimpleNamespace
    from datetime import datetime
    from zoneinfo import ZoneInfo
    tz = ZoneInfo("Asia/Tokyo")
    case = {"id": "INC-1", "received_at": RECEIVED, "facts": {}}
    case, _ = apply_extraction(case, "先週金曜に気づきました。患者30名分の検査結果を誤送信しました。", "報告", RECEIVED)
    org = SimpleNamespace(privacy_mark=True, gdpr=False, report_to="個人情報保護委員会")
    case, _ = reassess(case, org=org, tz=tz, now=datetime(2026, 3, 9, 10, tzinfo=tz))
    final = next(d for d in case["deadlines"] if d["kind"] == "ppc_final")
    assert final["due"] == "2026-04-06"  # day 30 from Fri 03-06 is Sat 04-04, moved to Mon 04-06


@pytest.mark.parametrize("text", [
    "ノートPCを紛失しました。BitLockerで暗号化しています。",
    "The laptop is encrypted and the key is kept by IT.",
    "パスワード付きZIPで送りました。",
])
def test_extraction_never_says_encrypted_only_what_the_text_claims(text):
    values = extract("", text).values
    assert "encrypted" not in values and values["encryption_claim"]
    assert "recovered_unread" not in values


@pytest.mark.parametrize("text, key_leaked", [
    ("パスワード付きZIPでしたが、パスワードも同じ宛先に送ってしまいました。", True),
    ("The file had a password, but I sent the password in the next mail to the same address.", True),
    ("パスワードは付箋に書いてPCに貼っていました。", True),
    ("パスワードは別の経路で本人に伝えています。", None),
])
def test_a_key_that_travelled_with_the_data_is_key_leaked(text, key_leaked):
    assert extract("", text).values.get("key_leaked") == key_leaked


@pytest.mark.parametrize("text", [
    "暗号化されていたかどうかはわかりません。",
    "暗号化の有無は確認中です。",
    "I'm not sure whether the USB stick was encrypted.",
    "病歴が含まれているかは不明です。"[:0] + "暗号化は不明です。",
])
def test_hedges_mean_unknown(text):
    values = extract("", text).values
    assert "encrypted" not in values and "encryption_claim" not in values


@pytest.mark.parametrize("text", [
    "けさ来たらパソコンの画面に英語の文章が出ていて、ビットコインで払えと書いてあります。サーバーのファイルが全部 .locked になって開けません。",
    "All files on the share were renamed and cannot be opened; a note says to pay in bitcoin to get the data back.",
])
def test_encryption_by_an_attacker_is_malware_and_wrongful(text):
    values = facts(text)
    assert values["category"] == "malware" and values["wrongful"] is True
    assert values["encryption_claim"] is None and values["encrypted"] is None


def test_a_caller_who_lied_makes_a_verbal_disclosure_wrongful():
    values = facts("「〇〇の娘です」と名乗る電話があり、受付が入院病棟を伝えてしまいました。患者様ご本人から娘はいないとの申し出がありました。")
    assert values["wrongful"] is True


def test_plain_denials_set_encrypted_false():
    assert extract("", "USBメモリは暗号化されていません。").values["encrypted"] is False
    assert extract("", "The file was not encrypted.").values["encrypted"] is False


CORPUS = sorted(Path(__file__).parent.joinpath("corpus").glob("reports_dev*.txt"))


def test_the_dev_corpus_scores_at_least_what_was_measured():
    """A floor under the figures in bench/RESULTS.md, so a change that breaks extraction shows. The
    shipped kind model was trained on these reports: its floor is the held-out test below."""
    result = score([record for path in CORPUS for record in read(path)])
    share = {field: n / result["total"] for field, n in result["right"].items()}
    assert result["total"] == 710
    assert share["category"] >= 0.98 and share["financial"] >= 0.99 and share["sensitive"] >= 0.97
    assert share["wrongful"] >= 0.99 and share["persons"] >= 0.97 and share["discovered_at"] >= 0.76
    assert share["persons_over"] >= 0.99 and share["persons_max"] >= 0.99 and share["encrypted_claim"] >= 0.97


HELDOUT = Path(__file__).parent.joinpath("corpus")


@pytest.mark.parametrize("name,floors", [
    # Sets 1 and 2 were studied in the fourth pass (tests/corpus/HELDOUT.md): floors of today.
    ("reports_heldout1.txt", {"category": 0.96, "sensitive": 0.96, "financial": 1.0, "wrongful": 1.0,
                              "persons": 1.0}),
    ("reports_heldout2.txt", {"category": 0.91, "sensitive": 0.98, "financial": 0.98, "wrongful": 0.95,
                              "persons": 0.98}),
    # Set 3 was never read while tuning: the targets, which it meets at the end.
    ("reports_heldout3.txt", {"category": 0.90, "sensitive": 0.95, "financial": 0.95, "wrongful": 0.95,
                              "persons": 0.90}),
])
def test_the_held_out_sets_score_at_least_what_was_measured(name, floors):
    result = score(read(HELDOUT / name))
    share = {field: n / result["total"] for field, n in result["right"].items()}
    assert {field: share[field] for field in floors if share[field] < floors[field]} == {}


def test_the_kind_model_reads_a_file_it_was_not_trained_on():
    """Trained on devA-devC, the kind decision on devD (written by another writer) stays near the
    cross-validated figure, with no accident kind for a wrongful act (that would remove T3)."""
    records = {path.stem[-1]: read(path) for path in CORPUS}
    train = [r for name in "ABC" for r in records[name]]
    texts = [normalize(r["subject"], r["body"]).lower() for r in train]
    model = kindmodel.train(texts, [r["labels"]["category"] for r in train])
    right = dangerous = 0
    for record in records["D"]:
        text = normalize(record["subject"], record["body"]).lower()
        kind = kindmodel.decide(model, text, kinds.read_kind(text)).kind
        want = record["labels"]["category"]
        right += kind == want
        dangerous += kind in ACCIDENT_CATEGORIES and want in WRONGFUL_CATEGORIES
    assert right / len(records["D"]) >= 0.88 and dangerous == 0


def test_the_shipped_model_knows_the_cues_of_today():
    """A cue renamed or removed in kinds.py without retraining leaves the model blind to it."""
    model = kindmodel.load()
    names = {f"hit:{name}" for name in (*kinds.CUE_NAMES, *kinds.PAIR_NAMES)} | {f"cue:{k}" for k in model.kinds}
    stale = {f for f in model.weights if f.startswith(("hit:", "cue:")) and f not in names}
    assert not stale and model.act is not None and set(model.act.kinds) == {"yes", "no"}


@pytest.mark.parametrize("text,flag,value", [
    ("Card payments go through the provider, so card numbers are not in our system.", "financial", None),
    ("クレジットカード情報は決済代行会社側の管理で、当サイトには保存していません。", "financial", None),
    ("The copy shows her photo, name, residence card number and status of residence.", "financial", None),
    ("紛失したスマホは画面ロックに6桁の暗証番号をかけています。", "financial", None),
    ("連絡帳には熱性けいれんの既往と座薬の使い方が書いてあります。", "sensitive", True),
    ("書類には依頼者様の被害届の写しと、ストーカー行為の内容が記載されています。", "sensitive", True),
    ("The reminder was for our breast cancer patient support group.", "sensitive", True),
])
def test_flags_read_with_their_denials_and_indirect_names(text, flag, value):
    assert extract("", text).values.get(flag) is value
