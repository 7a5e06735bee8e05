"""Japanese mail as phones and Windows send it, decoded character for character."""

import pytest

from leakline.intake.parse import parse
from leakline.intake.thread import case_tags, strip_reply_prefixes
from mailbuilders import (forwarded_mail, html_only_mail, iso2022jp_mail, no_charset_mail,
                          plain_mail, shift_jis_mail)

BODY = "①顧客名簿～㈱髙橋様の住所一覧を誤送信しました。\n件数は約1,200件です。"
SUBJECT = "【至急】①名簿誤送信の件～㈱髙"


@pytest.mark.parametrize("build", [iso2022jp_mail, shift_jis_mail, no_charset_mail])
def test_japanese_encodings_decode_exactly(build):
    parsed = parse(build(SUBJECT, BODY, sender="髙橋 <takahashi@example.com>"))
    assert parsed.subject == SUBJECT
    assert parsed.text == BODY
    assert parsed.from_addr == "takahashi@example.com"
    assert not parsed.unparsed


def test_the_stdlib_alone_gets_iso2022jp_wrong():
    # The reason intake decodes text itself: keep this true or drop our decoder.
    import email

    raw = iso2022jp_mail(SUBJECT, BODY)
    part = email.message_from_bytes(raw)
    assert part.get_payload(decode=True).decode("iso-2022-jp", "replace") != BODY
    assert parse(raw).text == BODY


def test_euc_jp_without_charset_is_detected():
    body = "顧客名簿を紛失しました。半角ｶﾀｶﾅも含みます。"
    assert parse(no_charset_mail("件名", body, codec="euc_jp")).text == body


def test_html_only_phone_mail_keeps_readable_text():
    html = ("<html><head><style>p{color:red}</style></head><body><p>USBメモリを&amp;紛失</p>"
            "<div>場所：<b>電車内</b><br>時刻：18時頃</div><script>alert(1)</script></body></html>")
    parsed = parse(html_only_mail("紛失報告", html))
    assert parsed.html is True
    assert parsed.text == "USBメモリを&紛失\n\n場所：電車内\n時刻：18時頃"


def test_forwarded_message_keeps_its_own_headers_readable():
    inner = iso2022jp_mail("元の件名①", "お客様宛の本文㈱", sender="client@other.example",
                           message_id="<orig-1@other.example>")
    parsed = parse(forwarded_mail("Fwd: 元の件名①", "誤って外部に送ったメールを転送します", inner,
                                  message_id="<fwd-1@example.com>"))
    assert parsed.text == "誤って外部に送ったメールを転送します"
    (fwd,) = parsed.forwarded
    assert fwd["subject"] == "元の件名①"
    assert fwd["text"] == "お客様宛の本文㈱"
    assert fwd["message_id"] == "<orig-1@other.example>"
    assert "client@other.example" in fwd["from"]


def test_attachments_are_listed_not_written():
    raw = (b"From: a@example.com\r\nTo: incident@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
           b"see file\r\n--b\r\nContent-Type: application/octet-stream\r\n"
           b'Content-Disposition: attachment; filename="../../etc/passwd"\r\n'
           b"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n")
    parsed = parse(raw)
    assert parsed.text == "see file"
    assert parsed.attachments == [{"filename": "../../etc/passwd", "content_type":
                                   "application/octet-stream", "size": 5, "sha256":
                                   "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}]


def test_not_a_mail_is_flagged_unparsed_with_its_text():
    parsed = parse("これはメールではない\n".encode("utf-8"))
    assert parsed.unparsed
    assert parsed.text == "これはメールではない"


def test_content_key_ignores_transport_headers():
    a = plain_mail("件名", "本文")
    b = b"Received: from mx by relay; Thu, 26 Nov 2026 10:00:01 +0900\r\n" + a
    assert parse(a).content_key(a) == parse(b).content_key(b)
    c = plain_mail("件名", "本文2")
    assert parse(c).content_key(c) != parse(a).content_key(a)


@pytest.mark.parametrize("subject", [
    "返信: [INC-2026-0007] 誤送信", "RE：[INC-2026-0007]", "Re[2]: Re: 誤送信 [INC-2026-0007]",
    "転送: FW: ［INC-2026-0007］ 紛失", "Fwd: [inc-2026-0007]",
])
def test_case_tag_found_whatever_the_prefixes(subject):
    assert case_tags(subject, "INC") == ["INC-2026-0007"]


def test_strip_reply_prefixes():
    assert strip_reply_prefixes("Re[2]: RE：返信: 転送: FW: 誤送信の件") == "誤送信の件"
    assert strip_reply_prefixes("Review of data") == "Review of data"


def test_a_very_large_text_part_is_read_from_its_start_and_flagged_truncated():
    """Issue 13: a 10 MB text part is not decoded whole (the raw keeps it); the case says so."""
    from leakline.intake.mime import TEXT_BYTES

    line = "本日、顧客名簿を誤送信しました。約120名分の氏名と住所が含まれます。\r\n".encode()
    body = line * (2 * TEXT_BYTES // len(line))
    raw = (b"From: taro@example.com\r\nSubject: big\r\nMessage-ID: <big@example.com>\r\n"
           b"Content-Type: text/plain; charset=UTF-8\r\n\r\n") + body
    parsed = parse(raw)
    assert parsed.truncated and not parsed.unparsed
    assert parsed.text.startswith("本日、顧客名簿を誤送信しました。")
    assert len(parsed.text.encode()) <= TEXT_BYTES and parsed.text.endswith("含まれます。")
    small = parse(raw[:len(raw) - len(body)] + line)
    assert not small.truncated
