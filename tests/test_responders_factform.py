"""The fact form parser: answers in Japanese and English, and nothing from quoted text."""

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from leakline.config import Manager
from leakline.responders.escalation import Recipient
from leakline.responders.factform import parse_fact_form, strip_quoted
from leakline.responders.guidance import render_guidance

TZ = ZoneInfo("Asia/Tokyo")
TODAY = date(2026, 11, 26)
CASE = {"id": "INC-2026-0001", "reporter": "taro@example.com", "reporter_name": "山田太郎",
        "subject": "メール誤送信", "category": "misdirected_email"}
OFFICER = [Recipient(Manager("佐藤花子", "privacy@example.com", "privacy_officer"), "privacy_officer")]


def parse(text: str) -> dict:
    return parse_fact_form(text, tz=TZ, today=TODAY)


def guidance_text(language: str) -> str:
    return render_guidance(CASE, language=language, recipients=OFFICER, org_name="株式会社サンプル").text


def quoted(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines())


def test_japanese_reply_with_full_width_characters():
    reply = ("お疲れ様です。わかる範囲で記入しました。\n\n"
             "発覚日時：２０２６/11/25 14:00\n"
             "漏えいした情報：氏名、住所、病歴\n"
             "人数：約１２０名\n"
             "委託元：株式会社ABC\n"
             "暗号化：なし\n\n山田\n")
    assert parse(reply) == {
        "discovered_at": "2026-11-25T14:00:00+09:00",
        "data_items": ["name", "address", "medical"],
        "persons": 120, "persons_estimated": True, "persons_over": False, "persons_max": None,
        "entrusted": True, "client": "株式会社ABC",
        "encrypted": False,
    }


def test_english_reply():
    reply = ("Discovered: 2026-11-25 09:30\n"
             "Data: names, addresses, medical\n"
             "Persons: about 120\n"
             "Entrusted by a client: yes (ABC Corp)\n"
             "Encrypted: no\n")
    assert parse(reply) == {
        "discovered_at": "2026-11-25T09:30:00+09:00",
        "data_items": ["name", "address", "medical"],
        "persons": 120, "persons_estimated": True, "persons_over": False, "persons_max": None,
        "entrusted": True, "client": "ABC Corp",
        "encrypted": False,
    }


@pytest.mark.parametrize("language", ["ja", "en"])
def test_quoted_untouched_form_yields_nothing(language):
    reply = "ありがとうございます。今から探します。\n\n" + quoted(guidance_text(language))
    assert parse(reply) == {}


@pytest.mark.parametrize("language", ["ja", "en"])
def test_untouched_form_copied_without_quote_marks_yields_only_what_was_prefilled(language):
    # The kind was read and is pre-filled; hints, the list and the empty fields give nothing.
    assert parse(guidance_text(language)) == {"category": "misdirected_email"}


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_form_in_the_guidance_is_one_the_parser_reads(language):
    values = {"ja": ["2026年11月25日 14時", "氏名、メールアドレス", "35名", "なし", "あり"],
              "en": ["Nov 25, 2026 2 pm", "names, email addresses", "35", "no", "yes"]}[language]
    text = guidance_text(language)
    form_lines = [line for line in text.splitlines() if line.endswith(": ") and not line.startswith(("受付", "Case"))]
    assert len(form_lines) == 5
    filled = "\n".join(line + value for line, value in zip(form_lines, values))
    assert parse(filled + "\n\n" + quoted(text)) == {
        "discovered_at": "2026-11-25T14:00:00+09:00", "data_items": ["name", "email"],
        "persons": 35, "persons_estimated": False, "persons_over": False, "persons_max": None,
        "entrusted": False, "encrypted": True,
    }


ANSWER = "人数: 30名\n"
QUOTE_STARTS = [
    "-----Original Message-----\nFrom: incident@example.com\n人数: 999\n",
    "-----元のメッセージ-----\n差出人: incident@example.com\n人数: 999\n",
    "________________________________\nFrom: 株式会社サンプル <incident@example.com>\n"
    "Sent: Thursday, November 26, 2026 10:00 AM\nTo: taro@example.com\n人数: 999\n",
    "差出人: 株式会社サンプル <incident@example.com>\n送信日時: 2026年11月26日 10:00\n件名: 受付\n人数: 999\n",
    "2026年11月26日(木) 10:00 株式会社サンプル <incident@example.com>:\n人数: 999\n",
    "On Thu, Nov 26, 2026 at 10:00 AM 株式会社サンプル <incident@example.com> wrote:\n人数: 999\n",
    "On Thu, Nov 26, 2026 at 10:00 AM 株式会社サンプル <\nincident@example.com> wrote:\n人数: 999\n",
    "2026/11/26 10:00 に 株式会社サンプル さんは書きました:\n人数: 999\n",
    "2026/11/26 10:00、株式会社サンプル <incident@example.com>のメッセージ:\n人数: 999\n",
    "-- \n山田太郎 / 営業部\n人数: 999\n",
    "＞人数: 999\n> 人数: 999\n",
]


@pytest.mark.parametrize("quote", QUOTE_STARTS)
def test_quoted_text_is_ignored(quote):
    assert parse(ANSWER + "\n" + quote) == {"persons": 30, "persons_estimated": False,
                                            "persons_over": False, "persons_max": None}
    assert parse(quote) == {}


def test_strip_quoted_keeps_own_lines_between_quotes():
    text = "> 人数:\n120名です\n> 暗号化:\n人数: 5\n"
    assert strip_quoted(text) == "120名です\n人数: 5"


def test_value_on_the_line_below_an_empty_label():
    assert parse("漏えいした情報:\n氏名と電話番号\n人数:\n\n暗号化: なし") == {
        "data_items": ["name", "phone"], "encrypted": False}


def test_unknown_and_open_answers_are_not_facts():
    assert parse("発覚日時: 不明\n人数: 調査中\n漏えいした情報: わかりません\n委託元: \n暗号化: あり / なし") == {}
    assert parse("Discovered: unknown\nPersons: n/a\nEncrypted: yes or no\nData: ?") == {}


@pytest.mark.parametrize("value, expected", [
    ("2026/11/25 14:00", "2026-11-25T14:00:00+09:00"),
    ("2026-11-25", "2026-11-25T00:00:00+09:00"),
    ("2026年11月25日 14時30分", "2026-11-25T14:30:00+09:00"),
    ("11月25日 14時", "2026-11-25T14:00:00+09:00"),
    ("11月25日 午後2時半", "2026-11-25T14:30:00+09:00"),
    ("１１／２５　１４：００", "2026-11-25T14:00:00+09:00"),
    ("12月30日", "2025-12-30T00:00:00+09:00"),  # no future discoveries: last year
    ("令和8年11月25日 9:05", "2026-11-25T09:05:00+09:00"),
    ("今日 10:00", "2026-11-26T10:00:00+09:00"),
    ("本日10時頃", "2026-11-26T10:00:00+09:00"),
    ("昨日の夕方 17:40", "2026-11-25T17:40:00+09:00"),
    ("today, 2:15 pm", "2026-11-26T14:15:00+09:00"),
    ("yesterday 9am", "2026-11-25T09:00:00+09:00"),
    ("Nov 25, 2026 2:00 PM", "2026-11-25T14:00:00+09:00"),
    ("25 November 2026, 12:30 am", "2026-11-25T00:30:00+09:00"),
    ("November 25 at 8:00", "2026-11-25T08:00:00+09:00"),
    ("14:00", "2026-11-26T14:00:00+09:00"),
])
def test_discovered_at_formats(value, expected):
    assert parse(f"発覚日時: {value}") == {"discovered_at": expected}


@pytest.mark.parametrize("value", ["2026/13/45", "先週のどこか", "25:99"])
def test_discovered_at_nonsense_is_dropped(value):
    assert parse(f"Discovered: {value}") == {}


@pytest.mark.parametrize("value, expected", [
    ("氏名、住所、病歴", ["name", "address", "medical"]),
    ("顧客の氏名・メールアドレス・電話番号", ["name", "phone", "email"]),
    ("生年月日、クレジットカード番号", ["birthdate", "card_number"]),
    # One vocabulary with the extractor: a password is T2 only for a service where money moves.
    ("ログインID・パスワード、口座番号", ["account", "login"]),
    ("ネットバンキングのログインID・パスワード", ["id_password"]),
    ("ログイン情報", ["login"]),
    ("顧客１２０名の氏名、病歴・健康診断結果等", ["name", "medical"]),
    ("マイナンバー", ["my_number"]),
    ("健康診断結果", ["medical"]),
    ("names, email addresses, dates of birth", ["name", "email", "birthdate"]),
    ("usernames and passwords, bank account numbers", ["account", "login"]),
    ("online banking usernames and passwords", ["id_password"]),
    ("credit card numbers", ["card_number"]),
    ("氏名、購入履歴", ["name", "other"]),
    ("customer names and shoe sizes", ["name", "other"]),
    ("その他", ["other"]),
])
def test_data_items(value, expected):
    assert parse(f"漏えいした情報: {value}") == {"data_items": expected}


@pytest.mark.parametrize("value, persons, estimated", [  # a count read back whole: over and bound reset
    ("120", 120, False),
    ("120名", 120, False),
    ("約120名", 120, True),
    ("1,200人", 1200, False),
    ("１２０名程度", 120, True),
    ("1000人以上", 1000, True),
    ("100〜200名", 200, True),
    ("1.2万人", 12000, False),
    ("about 120", 120, True),
    ("~50", 50, True),
    ("approx. 3000 people", 3000, True),
    ("0", 0, False),
])
def test_persons(value, persons, estimated):
    assert parse(f"人数: {value}") == {"persons": persons, "persons_estimated": estimated,
                                     "persons_over": value == "1000人以上", "persons_max": None}


@pytest.mark.parametrize("line, expected", [
    ("委託元: 株式会社ABC", {"entrusted": True, "client": "株式会社ABC"}),
    ("委託元: 有限会社みどり", {"entrusted": True, "client": "有限会社みどり"}),
    ("委託: はい", {"entrusted": True}),
    ("委託: はい(株式会社ABC)", {"entrusted": True, "client": "株式会社ABC"}),
    ("委託元: なし", {"entrusted": False}),
    ("委託元: 自社の顧客情報", {"entrusted": False}),
    ("委託元: ないです", {"entrusted": False}),
    ("Entrusted by a client: yes (ABC Corp)", {"entrusted": True, "client": "ABC Corp"}),
    ("Entrusted by a client: no", {"entrusted": False}),
    ("Client: Northwind Traders", {"entrusted": True, "client": "Northwind Traders"}),
])
def test_entrusted(line, expected):
    assert parse(line) == expected


@pytest.mark.parametrize("value, expected", [
    ("なし", False), ("暗号化なし", False), ("していない", False), ("ありません", False), ("平文", False),
    ("あり", True), ("はい", True), ("暗号化済み", True), ("パスワード付きZIP", True),
    ("no", False), ("not encrypted", False), ("yes", True), ("Yes, AES-256", True),
])
def test_encrypted(value, expected):
    assert parse(f"暗号化: {value}") == {"encrypted": expected}


def test_labels_with_bullets_brackets_and_hints():
    text = "1. 発覚日時: 11/25 14:00\n・人数（おおよそ）: 40名\n【暗号化】なし\n* Data (e.g. names): names\n"
    assert parse(text) == {"discovered_at": "2026-11-25T14:00:00+09:00", "persons": 40,
                           "persons_estimated": False, "persons_over": False, "persons_max": None, "encrypted": False, "data_items": ["name"]}


def test_first_answer_wins_and_unrelated_colon_lines_are_ignored():
    text = "宛先: x@outside.example\n時刻: 14:00\n人数: 10\n人数: 20\nURL: https://example.com/a:b\n"
    assert parse(text) == {"persons": 10, "persons_estimated": False, "persons_over": False,
                           "persons_max": None}


# ---- the form pre-filled with what was read, and the kind asked from a list ----

def _case_with_facts(facts: dict) -> dict:
    from leakline.process.facts import merge
    records, _ = merge({}, facts, source="extracted", by="extraction", at="2026-11-26T10:00:00+09:00")
    return {**CASE, "category": facts.get("category"), "facts": records}


def _own_form(text: str) -> str:
    """The form lines of a guidance text, as a reporter copies them into a reply."""
    labels = ("種類:", "発覚日時:", "漏えいした情報:", "人数:", "委託元:", "暗号化:",
              "Kind:", "Discovered:", "Data:", "Persons:", "Entrusted by a client:", "Encrypted:")
    return "\n".join(line for line in text.splitlines() if line.startswith(labels))


PREFILLED = {"discovered_at": "2026-11-24T17:40:00+09:00", "data_items": ["name", "address", "medical"],
             "persons": 1000, "persons_estimated": True, "persons_over": True, "entrusted": False,
             "encrypted": False}


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_prefilled_form_sent_back_untouched_reads_back_the_same(language):
    text = render_guidance(_case_with_facts({**PREFILLED, "category": "misdelivery"}), language=language,
                           recipients=OFFICER, org_name="株式会社サンプル").text
    assert ("違っていれば書き換えてください" if language == "ja" else "write over it") in text
    assert parse(_own_form(text)) == {**PREFILLED, "category": "misdelivery", "persons_max": None}


@pytest.mark.parametrize("language, magnitude", [("ja", "人数: 数千名"), ("en", "Persons: several thousand")])
def test_an_order_of_magnitude_is_shown_and_read_back(language, magnitude):
    facts = {"persons_max": 9999, "category": "loss"}
    text = render_guidance(_case_with_facts(facts), language=language, recipients=OFFICER,
                           org_name="株式会社サンプル").text
    assert magnitude in text
    assert parse(_own_form(text)) == {"category": "loss", "persons": None, "persons_estimated": False,
                                      "persons_over": False, "persons_max": 9999}


def test_an_unknown_kind_is_asked_with_a_numbered_list_and_the_number_is_read():
    text = render_guidance(_case_with_facts({"persons": 3}), language="ja", recipients=OFFICER,
                           org_name="株式会社サンプル").text
    assert "種類(番号で答えてください)" in text and "3) 誤配達・誤交付（封入ミスを含む）" in text
    assert "種類: \n" in text
    assert parse("種類: 3\n") == {"category": "misdelivery"}
    assert parse("種類: 7 盗まれたと思います\n") == {"category": "theft"}
    assert parse("Kind: unauthorized_access\n") == {"category": "unauthorized_access"}
    assert parse("種類: わからない\n") == {}
    assert parse("種類: 99\n") == {}


def test_a_known_kind_is_prefilled_and_not_asked():
    text = render_guidance(CASE, language="en", recipients=OFFICER, org_name="株式会社サンプル").text
    assert "Kind: email sent to the wrong recipient\n" in text and "answer with the number" not in text


def test_encryption_is_never_prefilled_as_given():
    text = render_guidance(_case_with_facts({"encryption_claim": "BitLockerで暗号化", "category": "loss"}),
                           language="ja", recipients=OFFICER, org_name="株式会社サンプル").text
    assert "暗号化: \n" in text


def test_a_pasted_copy_of_the_guidance_gives_only_the_values_written_over():
    case = _case_with_facts({**PREFILLED, "category": "misdelivery"})
    text = render_guidance(case, language="ja", recipients=OFFICER, org_name="株式会社サンプル").text
    from leakline.process.facts import current
    known = current(case["facts"])
    assert parse_fact_form(text, tz=TZ, today=TODAY, known=known) == {}  # an echo: nothing new
    edited = text.replace("人数: 1,000名超", "人数: 1,500名")
    assert parse_fact_form(edited, tz=TZ, today=TODAY, known=known) == {
        "persons": 1500, "persons_estimated": False, "persons_over": False}
    # Without our note, the same lines are the reporter's own word, recorded as such.
    assert parse_fact_form(_own_form(text), tz=TZ, today=TODAY, known=known)["persons"] == 1000
