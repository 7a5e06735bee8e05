"""What the guidance says (issue 12): whom to call, what happens next, what not to do, and
"do not act alone" that does not forbid the steps that limit the damage. Receipts carry the
same contact line and still nothing of the case."""

from __future__ import annotations

import pytest

from conftest import make_config
from leakline.responders.guidance import CONTAINMENT
from test_flow_harness import REPORTER, Clock, Flow, report, to_addr

CONTACT = {"contact": {"name": "総務部 個人情報窓口", "phone": "03-1234-5678"}}
REPORTS = {  # one report per list of containment steps
    "email": ("メール誤送信", "お客様120名分の氏名を含むファイルを誤って取引先にメールしました。"),
    "loss": ("USB紛失", "顧客名簿の入ったUSBメモリを紛失しました。"),
    "cyber": ("ランサムウェア", "ファイルサーバーがランサムウェアに感染し、身代金を要求する画面が出ています。"),
    "fax_post": ("FAX誤送信", "顧客の申込書を誤った番号にFAXしてしまいました。"),
    "insider": ("内部不正", "退職予定の社員が顧客データを私用のUSBに持ち出したようです。"),
}


def guidance_for(tmp_path, kind: str, language: str = "ja", **org):
    flow = Flow(make_config(tmp_path / "data", organization=org), Clock())
    subject, body = REPORTS[kind]
    if language == "en":
        subject, body = "Email to the wrong client", "I sent a file with 120 customer names to the wrong client."
    (guidance,) = to_addr(flow.run(report(subject, body + "\n")), REPORTER)
    assert CONTAINMENT.get(flow.case()["category"]) == kind or language == "en", flow.case()["category"]
    return guidance


def section(text: str, title: str) -> list[str]:
    body = text.split(f"■ {title}", 1)[1].split("\n■", 1)[0]
    return [line for line in body.splitlines()[1:] if line.strip()]


@pytest.mark.parametrize("kind", sorted(REPORTS))
def test_the_guidance_says_whom_to_call_what_next_and_what_not_to_do(tmp_path, kind):
    guidance = guidance_for(tmp_path, kind, **CONTACT)
    for body in (guidance.text, guidance.html):
        assert "急ぎの連絡先: " in body and "総務部 個人情報窓口" in body and "電話 03-1234-5678" in body
    text = guidance.text
    donts = section(text, "やってはいけないこと")
    assert any("本人" in d and "自分から連絡しない" in d for d in donts)
    assert any("社外" in d and "話" in d for d in donts)
    assert any("証拠" in d and "消" in d for d in donts)
    assert any("身代金を払わない" in d and "攻撃者に連絡しない" in d and "IPA" in d and "JPCERT/CC" in d
               and "警察" in d for d in donts) is (kind == "cyber")
    assert len(section(text, "このあとの流れ")) == 3
    assert "やってはいけないこと" in guidance.html and "このあとの流れ" in guidance.html


@pytest.mark.parametrize("kind", sorted(REPORTS))
def test_do_not_act_alone_and_do_this_now_agree(tmp_path, kind):
    text = guidance_for(tmp_path, kind).text
    (alone,) = [line for line in text.splitlines() if "一人で対応しない" in line]
    # The rule itself allows the damage-limiting steps at once, and those steps say so.
    assert "「今すぐやること」" in alone and "指示を待たずに" in alone
    assert "指示を待たずに行ってください" in text.split("■ 今すぐやること", 1)[1].splitlines()[0]
    steps = section(text, "今すぐやること")
    donts = " ".join(section(text, "やってはいけないこと"))
    # "Do not contact the persons" never forbids the recipient the steps tell them to contact.
    if any("誤送信先に連絡" in s or "受け取った相手に連絡" in s for s in steps):
        assert "誤送信先などへの回収・削除の依頼は除く" in donts
    # No step tells them to do what the do-not list forbids, and isolating never means powering off.
    assert not any("電源を切" in s or "初期化する" in s or "削除する" in s and "依頼" not in s for s in steps)
    if kind == "cyber":
        assert any("ネットワークから切り離す" in s for s in steps)
        assert any("電源は切らない" in s for s in steps)


def test_english_guidance_has_the_same_parts(tmp_path):
    text = guidance_for(tmp_path, "email", "en", **CONTACT).text
    assert "Urgent contact: 総務部 個人情報窓口, phone 03-1234-5678" in text
    assert "without waiting for instructions" in text.split("FIRST RULES", 1)[1].split("\nDO NOW (")[0]
    assert "DO NOW (email to the wrong recipient): these limit the damage" in text
    assert "DO NOT\n- Do not contact the persons whose data it is yourself" in text
    assert "WHAT HAPPENS NEXT\n1. " in text


def test_without_a_contact_the_guidance_names_the_privacy_officer(tmp_path):
    assert "急ぎの連絡先: 個人情報保護管理者に直接連絡してください" in guidance_for(tmp_path, "loss").text


def test_an_outsiders_receipt_carries_the_contact_line_and_nothing_of_the_case(tmp_path):
    flow = Flow(make_config(tmp_path / "data", organization=CONTACT), Clock())
    subject = "御社からのメールに他人の個人情報が"
    sent = flow.run(report(subject, "別のお客様の氏名と住所が書かれた請求書が添付されていました。\n",
                           sender="suzuki@customer.example.net", message_id="<c@customer.example.net>"))
    (receipt,) = to_addr(sent, "suzuki@customer.example.net")
    for body in (receipt.text, receipt.html):
        assert "お急ぎの場合の連絡先: 総務部 個人情報窓口 電話 03-1234-5678" in body
        assert "INC-" not in body and subject not in body and "請求書" not in body
    assert "INC-" not in receipt.subject
