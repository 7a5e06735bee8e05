"""Report drafts for realistic cases: the items each form asks for, 調査中 only where nothing is
known, numbering 1. to n., refusals of kinds that do not apply, and public texts that name nobody."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from leakline import process
from leakline.config import Contact, Organization
from leakline.process.reports import KINDS, ReportError, draft, resolve

TOKYO = ZoneInfo("Asia/Tokyo")
ORG = Organization(
    name="株式会社リークライン", privacy_mark=True, report_to="個人情報保護委員会", gdpr=True,
    legal_name="株式会社リークライン", corporate_number="4010001234567",
    address="東京都千代田区丸の内一丁目1番1号", representative="代表取締役 山田一郎", industry="情報通信業",
    review_body="一般財団法人日本情報経済社会推進協会", sector="financial", sector_report_to="関東財務局",
    contact=Contact("個人情報保護管理者 鈴木次郎", "03-1234-5678", "privacy@leakline.example",
                    "個人情報お問い合わせ窓口\n0120-000-000（平日9時～17時）"))
NOW = datetime(2026, 3, 6, 9, 0, tzinfo=TOKYO)
TODAY = date(2026, 3, 6)
BY = "po@leakline.example"
USB = ("総務課の佐藤花子です。委託元である株式会社サンプル商事からお預かりした顧客約1,200名分の氏名・住所・病歴を"
       "含むUSBメモリを紛失しました。暗号化はしていません。秘密の合言葉はアオゾラ。")
SECRETS = ("佐藤", "花子", "hanako", "example.com", "サンプル商事", "アオゾラ", "INC-2026-0001", "USBメモリ",
           "駅と警察", "持ち出しルール")


def make_case(text=USB, facts=None, closing=(), org=ORG, flags=()):
    case = {"id": "INC-2026-0001", "status": "open", "reporter": "hanako.sato@example.com",
            "reporter_name": "佐藤花子", "subject": "USBメモリ紛失（佐藤）", "received_at": "2026-03-05T18:03:00+09:00",
            "facts": {}, "flags": list(flags), "messages": [{"from": "hanako.sato@example.com", "text": text}]}
    case, _ = process.apply_extraction(case, text, case["subject"], NOW)
    if facts:
        case, _ = process.apply_facts(case, facts, "admin", BY, NOW)
    case, _ = process.reassess(case, org=org, tz=TOKYO, now=NOW)
    for phase, step, note, *skip in closing:
        case = process.close(case, phase, step, by=BY, at=NOW, note=note, org=org, tz=TOKYO, now=NOW,
                             skip=bool(skip))
    return case


def render(case, kind, lang="ja", **options):
    return draft(case, kind, lang, org=ORG, today=TODAY, **options).text


def numbered(text):
    return [line.split(" ")[0] for line in text.splitlines() if re.match(r"^\d+\.", line)]


USB_FACTS = {"occurred_at": "2026-03-04", "medium": "electronic", "audience": "customers", "caused_by": "us",
             "wrongful": False, "financial": False}
FULL_STORY = [
    ("containment", None, "1. 駅と警察に遺失届を提出（受理番号あり）"),
    ("prevention", "facts", "USBメモリを持ち出し、電車内に置き忘れた"),
    ("prevention", "cause", "持ち出しルールが守られていなかった"),
    ("prevention", "measures", "暗号化USB以外への書き出しを禁止する"),
]


@pytest.mark.parametrize("kind,items", [("ppc-preliminary", 9), ("ppc-final", 9), ("client-notice", 9),
                                        ("sector-report", 9), ("review-body", 11), ("persons-notice", 6),
                                        ("public-notice", 8), ("gdpr-72h", 4)])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_items_run_from_1_to_n_and_no_other_line_looks_like_one(kind, items, lang):
    case = make_case(facts={**USB_FACTS, "entrusted": True, "gdpr_high_risk": True}, closing=FULL_STORY)
    text = render(case, kind, lang)
    assert numbered(text) == [f"{n}." for n in range(1, items + 1)]


def test_the_ppc_preliminary_carries_what_the_form_asks_for():
    text = render(make_case(facts=USB_FACTS, closing=FULL_STORY[:2]), "ppc-preliminary")
    for expected in ("個人データの漏えい等事案に関する報告（速報）", "宛先: 個人情報保護委員会\n",
                     "法人名: 株式会社リークライン", "法人番号: 4010001234567", "所在地: 東京都千代田区丸の内一丁目1番1号",
                     "代表者: 代表取締役 山田一郎", "業種: 情報通信業",
                     "担当者: 個人情報保護管理者 鈴木次郎（電話: 03-1234-5678、メール: privacy@leakline.example）",
                     "発生日: 2026年3月4日", "発覚日: 2026年3月5日", "発覚の経緯: 当社従業員からの社内報告",
                     "事実関係: USBメモリを持ち出し、電車内に置き忘れた",
                     "報告対象事態: 規則第7条第1号（要配慮個人情報）、規則第7条第4号（本人の数が1,000人を超える）",
                     "委託関係: 委託元（株式会社サンプル商事）から取扱いの委託を受けた個人データです。",
                     "- 2026年3月4日 発生", "- 2026年3月5日 発覚", "媒体: 電子媒体", "本人の種類: 顧客",
                     "項目: 氏名、住所、病歴・健康診断結果等", "約1,200人", "事故発生元: 当社",
                     "実施済みの措置:", "今後実施予定の措置:", "本報告は速報であり"):
        assert expected in text, expected
    assert "T1" not in text and "T4" not in text and "(Personal Information Protection Commission)" not in text
    assert "被害拡大防止の措置: 1. 駅と警察に遺失届を提出" in text  # the note's "1." is not an item


def test_the_ppc_final_uses_the_notes_and_says_nothing_is_under_investigation():
    closing = FULL_STORY + [
        ("prevention", "implementation", "暗号化USBを配布し、書き出し制限を設定した"),
        ("prevention", "verification", "3か月後の点検で違反なし"),
        ("publication", "persons_notice", "対象者全員に書面で通知"),
        ("publication", "public_notice", "当社ウェブサイトで公表"),
    ]
    facts = {**USB_FACTS, "secondary_harm": "現時点で確認されていない", "entrusted": False}
    text = render(make_case(facts=facts, closing=closing), "ppc-final")
    assert "原因: 持ち出しルールが守られていなかった" in text
    assert "- 2026年3月6日 暗号化USBを配布し、書き出し制限を設定した" in text
    assert "- 実施後の確認: 3か月後の点検で違反なし" in text
    assert "2026年3月6日 対象者全員に書面で通知" in text and "2026年3月6日 当社ウェブサイトで公表" in text
    assert "二次被害の有無: 現時点で確認されていない" in text
    assert "委託関係はありません" in text and "- 2026年3月6日 本人へ通知: 対象者全員に書面で通知" in text
    assert "調査中" not in text and "【要記入】" not in text


def test_an_undetermined_trigger_is_named_by_its_article():
    text = render(make_case(text="顧客の氏名と住所の入った名簿を紛失しました。"), "ppc-preliminary")
    assert "規則第7条第4号に該当するかは調査中です。" in text
    assert "規則第7条第3号に該当するかは調査中です。" in text


def test_a_skipped_publication_says_so_with_the_reason():
    case = make_case(facts=USB_FACTS, closing=[("publication", "public_notice", "本人全員に連絡がつくため", True)])
    assert "公表は行いません（本人全員に連絡がつくため）。" in render(case, "ppc-preliminary")


def test_the_review_body_draft_has_jipdecs_items_and_its_stage():
    case = make_case(facts=USB_FACTS, closing=FULL_STORY)
    text = render(case, "review-body")
    for heading in ("1. 業種", "2. 発生日及び発覚日", "3. 事故の概要", "4. 媒体・項目・件数", "5. 安全管理措置の実施状況",
                    "6. 事故等に係る経過", "7. 事故発生元及び事故発生者", "8. 本人等への対応", "9. 公表", "10. 二次被害"):
        assert f"\n{heading}\n" in text, heading
    assert "（速報）" in text and "宛先: 一般財団法人日本情報経済社会推進協会" in text
    filed = process.close(case, "authorities", "review_body_preliminary", by=BY, at=NOW, note="ポータルで速報",
                          org=ORG, tz=TOKYO, now=NOW)
    assert "（確報）" in render(filed, "review-body")
    assert "（確報）" in render(case, "review_body_final") == render(case, "review-body", stage="final")


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("kind", ["persons-notice", "public-notice"])
def test_public_texts_identify_nobody(kind, lang):
    closing = FULL_STORY + [("prevention", "implementation", "佐藤花子の端末を交換した")]
    case = make_case(facts={**USB_FACTS, "client": "株式会社サンプル商事 東京都港区1-2-3",
                            "secondary_harm": "佐藤花子の件で問い合わせあり"}, closing=closing)
    text = render(case, kind, lang)
    for secret in SECRETS + ("東京都港区", "問い合わせあり", "端末を交換"):
        assert secret not in text, secret
    assert "株式会社リークライン" in text and ("病歴" if lang == "ja" else "medical history") in text


@pytest.mark.parametrize("facts,audience,expected", [
    ({"data_items": ["name", "employee_id", "salary"]}, None, "従業員の皆様"),
    ({"data_items": ["name", "card_number"]}, None, "お客様"),
    ({"data_items": ["name"], "audience": "members"}, None, "会員の皆様"),
    ({"data_items": ["name"]}, "patients", "患者の皆様"),
    ({"data_items": ["name"]}, None, "関係者の皆様"),
])
def test_the_persons_notice_speaks_to_its_audience(facts, audience, expected):
    text = render(make_case(text="名簿を誤送信しました。", facts=facts), "persons-notice", audience=audience)
    assert text.splitlines()[2] == expected and f"{expected}にお願いしたいこと" in text
    assert "お客様" not in text or expected == "お客様"


def test_the_persons_notice_says_what_the_person_can_do_and_where_to_ask():
    case = make_case(text="ECサイトのクレジットカード番号とパスワードが不正アクセスで流出しました。",
                     facts={"data_items": ["name", "email", "card_number", "id_password"]})
    text = render(case, "persons-notice")
    assert "クレジットカードのご利用明細をご確認ください" in text and "パスワードを変更してください" in text
    assert "不審なメールの添付ファイルやリンクは開かないでください" in text
    assert text.endswith("6. お問い合わせ窓口\n個人情報お問い合わせ窓口\n0120-000-000（平日9時～17時）")
    no_desk = Organization(name="テスト株式会社")
    assert "【要記入: お問い合わせ窓口" in draft(case, "persons-notice", "ja", org=no_desk).text


def test_a_public_notice_that_replaces_the_notice_says_so():
    case = make_case(facts={**USB_FACTS, "persons_unreachable": True})
    assert "本公表をもって個別のご連絡に代えさせていただきます" in render(case, "public-notice")
    assert "公表により本人への通知に代える予定です" in render(case, "ppc-preliminary")


@pytest.mark.parametrize("facts,kind,reason", [
    ({"entrusted": False}, "client-notice", "not entrusted: no client (委託元) to notify"),
    ({"wrongful": False, "financial": False, "sensitive": False, "persons": 3, "gdpr_high_risk": False},
     "persons-notice", "no trigger (T1-T4) on the known facts"),
    ({"wrongful": False, "financial": False, "sensitive": False, "persons": 3}, "ppc-preliminary",
     "no trigger (T1-T4) on the known facts"),
    ({}, "gdpr-controller-notice", "controller: there is no controller to notify"),
])
def test_a_kind_that_does_not_apply_is_refused_unless_forced(facts, kind, reason):
    case = make_case(text="名簿を誤送信しました。", facts={"data_items": ["name"], **facts})
    with pytest.raises(ReportError) as error:
        render(case, kind)
    assert str(error.value).startswith(f"{kind} (") and reason in str(error.value)
    assert "\n" not in str(error.value) and "--force" in str(error.value)
    forced = draft(case, kind, "ja", org=ORG, today=TODAY, force=True)
    assert forced.forced and forced.text.startswith("【注意】この報告は本件には該当しないと判断されています")
    assert reason in forced.text.splitlines()[0]


def test_the_public_notice_and_pending_kinds_are_never_refused():
    case = make_case(text="名簿を誤送信しました。", facts={"data_items": ["name"], "persons": 3, "wrongful": False})
    assert "1. 概要" in render(case, "public-notice")
    assert "1. 概要" in render(make_case(text="名簿を紛失しました。"), "client-notice")  # entrusted unknown


@pytest.mark.parametrize("given,kind,stage", [
    ("ppc-preliminary", "ppc-preliminary", "preliminary"), ("ppc_preliminary", "ppc-preliminary", "preliminary"),
    ("PPC_FINAL", "ppc-final", "final"), ("review_body_final", "review-body", "final"),
    ("review-body-preliminary", "review-body", "preliminary"), ("review_body", "review-body", None),
    ("persons_notice", "persons-notice", None), ("persons", "persons-notice", None),
    ("client", "client-notice", None), ("notice", "public-notice", None), ("public_notice", "public-notice", None),
    ("gdpr", "gdpr-72h", None), ("gdpr_controller_notice", "gdpr-controller-notice", None),
    ("sector_report", "sector-report", None),
])
def test_every_step_id_is_a_kind(given, kind, stage):
    assert resolve(given, None) == (kind, stage)


@pytest.mark.parametrize("kind,stage,message", [
    ("ppc-preliminary", "final", "ppc-preliminary is the preliminary report"),
    ("review_body_final", "preliminary", "review_body_final is the final report"),
    ("press-release", None, "unknown report kind 'press-release'"),
    ("ppc-final", "draft", "unknown stage 'draft'"),
])
def test_wrong_kinds_and_stages_are_one_line(kind, stage, message):
    with pytest.raises(ReportError, match="^" + re.escape(message)):
        resolve(kind, stage)


def test_unknown_language_or_audience_is_refused():
    with pytest.raises(ReportError, match="^unknown language 'fr'"):
        render(make_case(), "ppc-final", "fr")
    with pytest.raises(ReportError, match="^unknown audience 'aliens'"):
        render(make_case(), "persons-notice", audience="aliens")


def test_a_ransomware_attack_on_a_shop_is_t2_and_t3_with_sixty_days():
    case = make_case(text="ECサイトが不正アクセスを受け、会員のクレジットカード番号が流出したおそれがあります。",
                     facts={"category": "unauthorized_access", "data_items": ["name", "card_number"],
                            "persons_max": 9999, "caused_by": "third_party"})
    assert next(d for d in case["deadlines"] if d["kind"] == "ppc_final")["due"] == "2026-05-07"
    text = render(case, "ppc-preliminary")
    assert "規則第7条第2号（財産的被害が生じるおそれがある個人データ）" in text
    assert "規則第7条第3号（不正の目的をもって行われたおそれがある行為）" in text
    assert "規則第7条第4号（本人の数が1,000人を超える）" in text and "最大9,999人（調査中）" in text
    assert "事故発生元: 第三者" in text and "媒体: 電子媒体" in text


def test_a_my_number_case_names_its_own_form():
    case = make_case(text="従業員150名分の源泉徴収票（マイナンバー記載）を別の会社に誤送付しました。",
                     facts={"category": "misdelivery", "data_items": ["name", "my_number", "salary"], "persons": 150})
    assert case["assessment"]["ppc_report_required"] is True and case["assessment"]["triggers"] == []
    text = render(case, "ppc-preliminary")
    assert text.startswith("特定個人情報の漏えい等事案に関する報告（速報）")
    assert "番号法第29条の4第1項に基づく報告の対象です" in text and "特定個人情報の漏えい等に関する報告の様式" in text


def test_a_banks_fax_goes_to_the_supervisor():
    case = make_case(text="お客様1名の口座情報を記載した書類を誤ったFAX番号に送信しました。",
                     facts={"category": "misdirected_fax", "data_items": ["name", "account"], "persons": 1,
                            "audience": "customers"})
    assert case["assessment"]["ppc_report_required"] is False
    assert case["assessment"]["sector"]["report_required"] is True
    text = render(case, "sector-report")
    assert "宛先: 関東財務局" in text and "規則第7条各号には該当しません（業法に基づく報告）" in text
    assert "媒体: 紙媒体" in text


def test_the_hash_is_of_the_text_as_printed_without_the_final_newline():
    result = draft(make_case(), "ppc-preliminary", "ja", org=ORG, today=TODAY)
    assert not result.text.endswith("\n")
    assert result.sha256 == hashlib.sha256(result.text.encode("utf-8")).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", result.sha256)


def test_a_case_with_no_facts_still_drafts():
    case = {"id": "INC-2026-0002", "received_at": "2026-03-05T18:03:00+09:00", "facts": {}}
    case, _ = process.reassess(case, org=ORG, tz=TOKYO, now=NOW)
    text = render(case, "ppc-preliminary")
    assert numbered(text) == [f"{n}." for n in range(1, 10)]
    assert "事案の内容: （事案の区分は調査中）により" in text and "発生日: 調査中" in text


def test_kinds_cover_every_step_with_a_draft():
    assert set(KINDS) == {"ppc-preliminary", "ppc-final", "review-body", "persons-notice", "client-notice",
                          "public-notice", "gdpr-72h", "gdpr-controller-notice", "sector-report"}


@pytest.mark.parametrize("reporter,flags,expected", [
    ("hanako.sato@example.com", (), "発覚の経緯: 当社従業員からの社内報告により発覚しました。"),
    ("someone@customer.example.net", ("external",), "発覚の経緯: 社外の方からの連絡により発覚しました。"),
    # our domain, but the trust rules did not verify the sender (e.g. through `ingest`): the
    # draft says neither "an outsider" nor "an employee"
    ("hanako.sato@example.com", ("external",), "発覚の経緯: 当社ドメインのアドレスからの連絡により発覚しました（送信者の確認は未了）。"),
])
def test_how_it_was_found_says_only_what_the_trust_rules_established(reporter, flags, expected):
    case = make_case(facts=USB_FACTS, flags=flags)
    case["reporter"] = reporter
    assert expected in render(case, "ppc-preliminary")

