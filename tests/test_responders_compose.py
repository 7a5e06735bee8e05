"""Outgoing mail, checked the way a receiver sees it: serialised with policy.SMTP, parsed back."""

import email
import email.policy
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import pytest

from leakline.config import Config, Mail, Organization
from leakline.responders import guards
from leakline.msgid import MessageIds
from leakline.delivery.compose import ComposeError, KINDS, clean_header_value, compose

ORG = Organization(name="株式会社サンプル", incident_address="incident@example.com", domains=("example.com",))
CONFIG = Config(organization=ORG)
NOW = datetime(2026, 11, 26, 18, 3, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
TEXT = "山田太郎 さん\n\n報告を受け付けました。受付番号: INC-2026-0001\n① 一人で対応しない — 〜「証拠」を残す 🙏\n"
PARENT = "<CAF=abc123@mail.example.com>"


def send(**overrides):
    args = dict(kind="guidance", to=["taro@example.com"], subject="受付しました: メール誤送信",
                text=TEXT, html="<p>報告を受け付けました</p>", config=CONFIG, case_id="INC-2026-0001",
                now=NOW, in_reply_to=PARENT, references=["<root@mail.example.com>"])
    args.update(overrides)
    return compose(**args)


def wire(outgoing) -> bytes:
    return outgoing.data  # the bytes that are sent, made once (issue 13)


def received(outgoing):
    return email.message_from_bytes(wire(outgoing), policy=email.policy.default)


def test_headers_as_received():
    out = send()
    msg = received(out)
    assert msg["Message-ID"] == out.message_id
    assert re.fullmatch(r"<[^<>@\s]+\.leakline@example\.com>", out.message_id)
    assert msg["In-Reply-To"] == PARENT
    assert msg["References"].split() == ["<root@mail.example.com>", PARENT]
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Loop"] == "incident@example.com"
    assert msg["X-Leakline-Case"] == "INC-2026-0001"
    assert msg["Subject"] == "[INC-2026-0001] 受付しました: メール誤送信"
    assert msg["From"].addresses[0].display_name == "株式会社サンプル"
    assert msg["From"].addresses[0].addr_spec == "incident@example.com"
    assert msg["To"].addresses[0].addr_spec == "taro@example.com"
    assert parsedate_to_datetime(msg["Date"]) == NOW.replace(microsecond=0)
    assert msg["MIME-Version"] == "1.0"


def test_guidance_travels_with_a_null_envelope_sender_and_escalations_do_not():
    guidance = send()
    escalation = send(kind="escalation", to=["privacy@example.com", "boss@example.com"], in_reply_to=None,
                      references=[])
    assert guidance.envelope_from == ""
    assert guidance.envelope_to == ("taro@example.com",)
    assert escalation.envelope_from == "incident@example.com"
    assert escalation.envelope_to == ("privacy@example.com", "boss@example.com")
    msg = received(escalation)
    assert msg["Auto-Submitted"] == "auto-generated"
    assert "In-Reply-To" not in msg and "References" not in msg


def test_mail_sender_setting_is_the_from_address_and_message_id_domain():
    config = Config(organization=ORG, mail=Mail(sender="leakline@notify.example.com"))
    out = send(kind="reminder", config=config)
    assert out.envelope_from == "leakline@notify.example.com"
    assert out.message_id.endswith(".leakline@notify.example.com>")
    assert received(out)["From"].addresses[0].addr_spec == "leakline@notify.example.com"


def test_japanese_subject_is_encoded_on_the_wire_and_decodes_back():
    raw = wire(send())
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    assert header_block.isascii()
    subject_line = re.search(rb"^Subject:(.*(?:\r\n[ \t].*)*)", header_block, re.M).group(1)
    assert b"=?utf-8?" in subject_line.lower()
    assert received(send())["Subject"] == "[INC-2026-0001] 受付しました: メール誤送信"


def test_text_and_html_decode_character_for_character():
    msg = received(send())
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain.get_content_charset() == "utf-8"
    assert plain.get_content() == TEXT
    assert html.get_content() == "<p>報告を受け付けました</p>\n"


def test_long_japanese_subject_folds_and_survives():
    subject = "受付しました: " + "顧客情報を含むメールを誤って社外の取引先に送信してしまった件について" * 3
    msg = received(send(subject=subject))
    assert msg["Subject"] == "[INC-2026-0001] " + subject[:200]
    assert all(len(line) <= 78 for line in wire(send(subject=subject)).split(b"\r\n\r\n")[0].split(b"\r\n"))


def test_case_tag_is_not_doubled():
    msg = received(send(subject="Re: [INC-2026-0001] 紛失の件"))
    assert msg["Subject"] == "Re: [INC-2026-0001] 紛失の件"


def test_receipt_shows_no_case():
    out = send(kind="receipt", subject="受信のお知らせ")
    msg = received(out)
    assert msg["Subject"] == "受信のお知らせ"
    assert "X-Leakline-Case" not in msg
    assert b"INC-2026-0001" not in wire(out)
    assert out.case_id == "INC-2026-0001"  # kept for the outbox, never put in the message
    assert out.envelope_from == ""


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_is_recognised_as_our_own_by_the_loop_guards(kind):
    msg = received(send(kind=kind))
    reasons = {r.split(":")[0] for r in guards.no_auto_reply_reasons(msg, "incident@example.com", CONFIG)}
    assert {"auto_submitted", "x_loop", "own_message"} <= reasons


def test_subject_cannot_inject_headers():
    msg = received(send(subject="件名\r\nBcc: evil@attacker.test\r\n\r\nbody", kind="escalation"))
    assert "Bcc" not in msg
    assert msg["Subject"] == "[INC-2026-0001] 件名 Bcc: evil@attacker.test body"
    assert len(msg.get_all("Subject")) == 1


def test_organisation_name_cannot_inject_headers():
    # from_dict() refuses such a name; compose must not rely on that.
    config = Config(organization=Organization(name="Evil\r\nBcc: evil@attacker.test", domains=("example.com",)))
    msg = received(send(config=config))
    assert "Bcc" not in msg
    assert msg["From"].addresses[0].display_name == "Evil Bcc: evil@attacker.test"


@pytest.mark.parametrize("address", ["taro@example.com\r\nBcc: evil@attacker.test", "not an address", ""])
def test_bad_recipient_is_refused(address):
    with pytest.raises(ComposeError):
        send(to=[address])


def test_thread_references_are_bounded_keeping_root_and_parent():
    refs = [f"<m{i}@example.net>" for i in range(30)]
    msg = received(send(references=refs + ["not-a-msgid", "<a\r\nb@x>"]))
    ids = msg["References"].split()
    assert len(ids) == 10
    assert ids[0] == "<m0@example.net>"
    assert ids[-1] == PARENT
    assert ids[-2] == "<m29@example.net>"


def test_refuses_naive_time_and_unknown_kind():
    with pytest.raises(ComposeError):
        send(now=datetime(2026, 11, 26, 18, 0))
    with pytest.raises(ComposeError):
        send(kind="newsletter")


def test_message_ids_are_unique():
    assert len({send().message_id for _ in range(50)}) == 50


@pytest.mark.parametrize("value, expected", [
    ("a\r\nb", "a b"), ("a\nb\rc", "a b c"), ("a\x00b\x1bc", "a b c"), ("a\u2028b", "a b"),
    ("  spaced   out  ", "spaced out"),
])
def test_clean_header_value(value, expected):
    assert clean_header_value(value) == expected


def test_stable_message_id_is_repeatable_signed_and_recognised_as_ours():
    ids = MessageIds(b"k" * 32, "example.com")
    first = ids.stable("INC-2026-0001", "remind:2", "privacy@example.com")
    again = MessageIds(b"k" * 32, "example.com").stable("INC-2026-0001", "remind:2", "privacy@example.com")
    other = ids.stable("INC-2026-0001", "remind:3", "privacy@example.com")
    assert first == again != other
    # Another installation (another key) never makes the same id, nor takes ours for its own.
    elsewhere = MessageIds(b"j" * 32, "example.com")
    assert elsewhere.stable("INC-2026-0001", "remind:2", "privacy@example.com") != first
    assert ids.is_ours(first) and not elsewhere.is_ours(first)
    assert ids.is_ours(ids.fresh()) and not ids.is_ours("<0123.leakline@example.com>")
    assert "k" * 8 not in repr(ids)
    out = send(kind="reminder", message_id=first)
    msg = received(out)
    assert out.message_id == msg["Message-ID"] == first
    del msg["X-Leakline-Case"], msg["From"]
    msg["From"] = "someone@elsewhere.example"  # only the Message-ID is left to recognise it by
    assert "Message-ID" in guards.OwnMessage().check(msg, "incident@example.com", CONFIG)
    with pytest.raises(ComposeError):
        send(message_id="<x@y>\r\nBcc: evil@attacker.test")


# -- the bytes compose() writes itself (issue 13: no EmailMessage built and serialised) ----------

def test_names_with_quotes_and_specials_and_many_recipients_read_back_exactly():
    org = Organization(name='Sample "Co." <Legal>, Tokyo', incident_address="incident@example.com",
                       domains=("example.com",))
    recipients = [f"manager{i}.with.a.long.local.part@subsidiary{i}.example.com" for i in range(6)]
    out = send(config=Config(organization=org), to=recipients, kind="escalation")
    msg = received(out)
    assert msg["From"].addresses[0].display_name == 'Sample "Co." <Legal>, Tokyo'
    assert [a.addr_spec for a in msg["To"].addresses] == recipients
    head = out.data.split(b"\r\n\r\n")[0]
    assert head.isascii() and all(len(line) <= 78 for line in head.split(b"\r\n"))


def test_an_ascii_subject_folds_at_spaces_and_long_lines_of_text_travel_in_base64():
    subject = "Report " + " ".join(f"word{i}" for i in range(25))
    text = "x" * 2000 + "\n"
    msg = received(send(subject=subject, text=text, html=None, kind="escalation"))
    assert msg["Subject"] == "[INC-2026-0001] " + subject
    assert msg.get_content_type() == "text/plain"
    assert msg["Content-Transfer-Encoding"] == "base64" and msg.get_content() == text


def test_short_ascii_text_travels_as_7bit():
    msg = received(send(text="Report received.\n", html=None, kind="escalation"))
    assert msg["Content-Transfer-Encoding"] == "7bit"
    assert msg.get_content().replace("\r\n", "\n") == "Report received.\n"


def test_an_internationalised_address_is_refused_as_before():
    with pytest.raises(ComposeError):
        send(to=["山田@example.com"])
