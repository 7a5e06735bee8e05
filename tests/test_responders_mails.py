"""What the mails say, in Japanese and English: guidance, receipt, ack, escalation, reminders, alerts."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from leakline.config import Config, Manager, Organization
from leakline.responders.alerts import render_deadletter_alert, render_deadline_reminder, render_escalation
from leakline.responders.escalation import due_escalations, initial_recipients, notified_so_far
from leakline.responders.guidance import CONTAINMENT, containment_for, render_ack, render_guidance, render_receipt

OFFICER = Manager("佐藤花子", "privacy@example.com", "privacy_officer")
SALES = Manager("鈴木一郎", "sales-boss@example.com", "supervisor", ("*@sales.example.com",))
DIRECTOR = Manager("Director Doe", "director@example.com", "executive")
T0 = datetime(2026, 11, 26, 18, 3, tzinfo=ZoneInfo("Asia/Tokyo"))
HOSTILE = "<script>alert('x')</script>"


def config(language="ja"):
    return Config(organization=Organization(name="株式会社サンプル", incident_address="incident@example.com",
                                            domains=("example.com",), language=language),
                  managers=(OFFICER, SALES, DIRECTOR))


def case(**changes):
    base = {"id": "INC-2026-0001", "status": "open", "reporter": "taro@sales.example.com",
            "reporter_name": "山田太郎", "subject": "顧客リストの誤送信", "received_at": T0.isoformat(),
            "category": "misdirected_email", "flags": [], "acks": [], "sent": {},
            "messages": [{"direction": "in", "kind": "report", "message_id": "<r@example.com>",
                          "text": "お疲れ様です。\n顧客リスト(120名分)を社外に誤送信しました。\n宛先: x@outside.example"}]}
    base.update(changes)
    return base


def guidance(language, **changes):
    c = case(**changes)
    return render_guidance(c, language=language, recipients=initial_recipients(c, config()),
                           org_name="株式会社サンプル")


@pytest.mark.parametrize("language, received, roles, rules", [
    ("ja", "受け付けました", "個人情報保護管理者、上長", ["一人で対応しない", "後回しにしない", "証拠を残す"]),
    ("en", "has been received", "privacy officer, your superior",
     ["Do not handle it alone", "Do not delay", "Keep the evidence"]),
])
def test_guidance_says_received_who_was_told_and_the_first_rules(language, received, roles, rules):
    subject, text, html = guidance(language)
    assert "顧客リストの誤送信" in subject
    for body in (text, html):
        assert "INC-2026-0001" in body and received in body and roles in body
        assert all(rule in body for rule in rules)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_guidance_names_no_other_person(language):
    _, text, html = guidance(language)
    for secret in ("佐藤花子", "鈴木一郎", "Director Doe", "privacy@example.com", "sales-boss@example.com",
                   "director@example.com"):
        assert secret not in text and secret not in html


@pytest.mark.parametrize("language, warning", [("ja", "上長にもすぐ"), ("en", "Tell them yourself")])
def test_reporter_without_configured_superior_is_told_to_tell_them(language, warning):
    assert warning in guidance(language, reporter="hanako@dev.example.com").text
    assert warning not in guidance(language).text


MARKERS = {  # one phrase that only the right list of containment steps contains
    "email": ("送信取消", "Recall the message"),
    "fax_post": ("書類を回収", "Get the papers back"),
    "loss": ("遺失届", "Search the last places"),
    "theft": ("被害届", "Report the theft"),
    "cyber": ("ネットワークから切り離す", "Disconnect from the network"),
    "disposal": ("廃棄業者", "disposal contractor"),
    "display": ("表示を止める", "Stop the display"),
    "insider": ("問いただしたり", "Do not confront"),
    "general": ("何が・いつ・どこで", "Note what happened"),
}


@pytest.mark.parametrize("category", sorted(CONTAINMENT) + [None, "verbal", "no_such_category"])
@pytest.mark.parametrize("language", ["ja", "en"])
def test_containment_steps_fit_the_category(category, language):
    group = containment_for(category)
    _, text, html = guidance(language, category=category)
    index = 0 if language == "ja" else 1
    for name, markers in MARKERS.items():
        assert (markers[index] in text) is (name == group), name
        assert (markers[index] in html) is (name == group), name


def test_category_groups():
    assert containment_for("misdirected_fax") == containment_for("misdelivery") == "fax_post"
    assert containment_for("unauthorized_access") == containment_for("malware") == "cyber"
    assert containment_for(None) == containment_for("other") == "general"


def test_steps_are_short_numbered_lines_for_a_phone():
    text = guidance("ja").text
    steps = text.split("■ 今すぐやること")[1].split("■")[0].strip().splitlines()[1:]
    assert [s.split(".")[0] for s in steps] == ["1", "2", "3", "4", "5"]
    assert all(len(s) <= 40 for s in steps)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_html_escapes_what_came_from_outside(language):
    subject, text, html = guidance(language, subject=HOSTILE, reporter_name=HOSTILE)
    assert HOSTILE in text  # plain text is not markup
    assert "<script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize("language", ["ja", "en"])
def test_receipt_carries_no_case_data(language):
    subject, text, html = render_receipt(language=language, org_name="株式会社サンプル")
    for body in (subject, text, html):
        for leak in ("INC-", "顧客リスト", "誤送信", "misdirected", "今すぐ", "DO NOW", "山田", "taro@"):
            assert leak not in body
    assert ("受信しました" if language == "ja" else "We received your message") in text


@pytest.mark.parametrize("language, expected", [("ja", "更新: 人数、暗号化、attachments_x"),
                                                ("en", "Updated: persons, encrypted, attachments_x")])
def test_ack_lists_what_changed(language, expected):
    subject, text, html = render_ack(case(), language=language, changed=["persons", "encrypted", "persons",
                                                                          "attachments_x"],
                                     org_name="株式会社サンプル")
    assert "INC-2026-0001" in text and expected in text
    assert len(text.splitlines()) < 12


def escalation(language="ja", minutes=0, **changes):
    c = case(**changes)
    cfg = config(language)
    if minutes:
        c["sent"]["escalate:initial"] = T0.isoformat()
    now = T0 + timedelta(minutes=minutes)
    [action] = due_escalations(c, cfg, now)
    notified = notified_so_far(c, cfg) + list(action.recipients)
    recipient = action.recipients[0]
    return render_escalation(c, cfg, action=action, recipient=recipient, notified=notified, now=now)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_escalation_summarises_the_case_and_how_to_acknowledge(language):
    subject, text, html = escalation(language)
    assert "顧客リストの誤送信" in subject
    for body in (text, html):
        assert "INC-2026-0001" in body
        assert "taro@sales.example.com" in body and "山田太郎" in body
        # Japanese mail writes dates without leading zeros (issue 12)
        assert ("2026年11月26日 18:03" if language == "ja" else "2026-11-26 18:03 JST") in body
        assert ("メール誤送信" if language == "ja" else "email to the wrong recipient") in body
        assert "顧客リスト(120名分)を社外に誤送信しました。" in body
        assert "leakline cases ack INC-2026-0001 --by privacy@example.com" in body
        assert "鈴木一郎" in body and "sales-boss@example.com" in body  # the other one told
    assert ("このメールに返信" if language == "ja" else "Reply to this mail") in text


def test_escalation_stages_differ_and_name_the_wait():
    initial, executive = escalation(minutes=0), escalation(minutes=60)
    assert initial.subject.startswith("【要対応】")
    assert executive.subject.startswith("【至急・未対応】")
    assert "60分以内" in executive.text
    assert "Director Doe" in executive.text  # addressed to the executive


def test_escalation_reminder_says_how_long_it_has_waited():
    c = case()
    cfg = config("en")
    c["sent"] = {"escalate:initial": T0.isoformat(), "escalate:exec:1": (T0 + timedelta(minutes=60)).isoformat()}
    now = T0 + timedelta(minutes=120)
    [action] = due_escalations(c, cfg, now)
    r = render_escalation(c, cfg, action=action, recipient=action.recipients[0],
                          notified=notified_so_far(c, cfg), now=now)
    assert r.subject.startswith("[Reminder")
    assert "120 minutes since the first notice" in r.text


@pytest.mark.parametrize("flag, phrase", [("external", "社外のアドレスからの報告"), ("spoof_suspected", "なりすまし")])
def test_escalation_warns_about_outside_and_spoofed_reports(flag, phrase):
    assert phrase in escalation(flags=[flag]).text
    assert phrase not in escalation().text


def test_escalation_html_escapes_the_report():
    c = case(subject=HOSTILE)
    c["messages"][0]["text"] = HOSTILE
    cfg = config()
    [action] = due_escalations(c, cfg, T0)
    html = render_escalation(c, cfg, action=action, recipient=action.recipients[0],
                             notified=list(action.recipients), now=T0).html
    assert "<script>" not in html and html.count("&lt;script&gt;") >= 2


@pytest.mark.parametrize("today, marker", [
    (date(2026, 12, 1), "【期限超過】"), (date(2026, 11, 30), "【期限のお知らせ】"),
])
def test_deadline_reminder(today, marker):
    subject, text, html = render_deadline_reminder(case(), config(), step="ppc_preliminary",
                                                   due=date(2026, 11, 30), today=today)
    # Japanese mail writes dates 2026年11月30日 (issue 12)
    assert subject.startswith(marker) and "速報" in subject and "2026年11月30日" in subject
    assert 'leakline phase close INC-2026-0001 authorities --step ppc_preliminary --note "..." --by YOUR_EMAIL' in text
    assert "INC-2026-0001" in html


def test_deadline_reminder_in_english_with_label_and_command():
    subject, text, _ = render_deadline_reminder(case(), config("en"), step="custom", due=date(2026, 12, 3),
                                                today=date(2026, 11, 30), label="call the client",
                                                command="leakline cases done INC-2026-0001 custom")
    assert subject == "[Deadline] call the client due 2026-12-03"
    assert "3 day(s) left" in text


def test_deadletter_alert_quotes_the_retry_command():
    subject, text, html = render_deadletter_alert(
        config(), message_id="<1.2.3.leakline@example.com>", to=["gone@partner.example"],
        subject="[INC-2026-0001] 個人情報漏えいの報告", error="550 5.1.1 User unknown", attempts=1,
        case_id="INC-2026-0001", first_tried=T0)
    assert "INC-2026-0001" in subject
    assert "leakline outbox retry '<1.2.3.leakline@example.com>'" in text
    assert "gone@partner.example" in text and "550 5.1.1 User unknown" in text
    assert "&lt;1.2.3.leakline@example.com&gt;" in html


def test_unknown_language_is_refused():
    with pytest.raises(ValueError):
        render_receipt(language="fr", org_name="x")
