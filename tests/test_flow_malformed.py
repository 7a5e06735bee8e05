"""Every accepted message becomes a case or a message on one: malformed, deep, huge or reused.

Through the real wiring (the Flow harness): invalid ISO-2022-JP, MIME nested 1,000 deep, a
Subject of 60,000 encoded words, a second message reusing a known Message-ID, an oversized
header block. None may be shunted; each keeps its raw bytes.
"""

from __future__ import annotations

import base64

import pytest

from conftest import make_config
from mailbuilders import cp932_to_iso2022jp, plain_mail
from test_flow_harness import OFFICER, REPORTER, Clock, Flow, report, to_addr

HEAD = (f"From: {REPORTER}\r\nTo: incident@example.com\r\nDate: Thu, 26 Nov 2026 10:00:00 +0900\r\n"
        "MIME-Version: 1.0\r\n")


@pytest.fixture
def flow(tmp_path) -> Flow:
    return Flow(make_config(tmp_path / "data"), Clock())


def nothing_shunted(flow: Flow) -> None:
    assert not flow.app.spool.segments()
    assert not list(flow.app.spool.shunt.iterdir())


def raw_kept(flow: Flow, case: dict, raw: bytes) -> None:
    (message,) = [m for m in case["messages"] if m["direction"] == "in"]
    assert flow.store.raw_path(message["raw"]).read_bytes() == raw


def bad_jis(text: str) -> bytes:
    """ISO-2022-JP with an 8-bit byte inside the kanji run, as a broken gateway writes it."""
    good = cp932_to_iso2022jp(text)
    cut = good.index(b"\x1b$B") + 5
    return good[:cut] + b"\xa0" + good[cut:]


def test_an_8bit_byte_inside_iso2022jp_in_the_body_is_a_case_flagged_unparsed(flow):
    raw = (HEAD + "Subject: USB lost\r\nMessage-ID: <jis-body@sales.example.com>\r\n"
           "Content-Type: text/plain; charset=ISO-2022-JP\r\n\r\n").encode() + bad_jis(
        "顧客120名分の名簿を入れたUSBメモリを紛失しました。") + b"\r\n"
    sent = flow.run(raw)
    nothing_shunted(flow)
    case = flow.case()
    assert "unparsed" in case["flags"]
    assert "USBメモリを紛失しました" in case["messages"][0]["text"]
    assert case["assessment"] and case["category"] == "loss"
    assert to_addr(sent, OFFICER) and to_addr(sent, REPORTER)
    raw_kept(flow, case, raw)


def test_an_8bit_byte_inside_iso2022jp_in_the_subject_is_a_case(flow):
    word = "=?ISO-2022-JP?B?" + base64.b64encode(bad_jis("名簿紛失の報告")).decode() + "?="
    raw = (HEAD + f"Subject: {word}\r\nMessage-ID: <jis-subj@sales.example.com>\r\n"
           "Content-Type: text/plain; charset=UTF-8\r\n\r\n"
           "顧客名簿を紛失しました。\r\n").encode()
    sent = flow.run(raw)
    nothing_shunted(flow)
    case = flow.case()
    assert "紛失の報告" in case["subject"] and "\ufffd" in case["subject"]
    assert "unparsed" in case["flags"]
    assert to_addr(sent, OFFICER)
    raw_kept(flow, case, raw)


def nested_multipart(depth: int, text: str) -> bytes:
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                       for i in range(depth))
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    leaf = b"Content-Type: text/plain; charset=UTF-8\r\n\r\n" + text.encode() + b"\r\n"
    return opening + leaf + closing


def nested_rfc822(depth: int, text: str) -> bytes:
    body = b"Content-Type: text/plain; charset=UTF-8\r\n\r\n" + text.encode() + b"\r\n"
    for i in range(depth):
        body = (b"Content-Type: message/rfc822\r\n\r\nFrom: x@example.net\r\nSubject: fw %d\r\n"
                b"MIME-Version: 1.0\r\n" % i) + body
    return body


@pytest.mark.parametrize("build", [nested_multipart, nested_rfc822])
def test_a_report_nested_1000_deep_is_assessed_and_answered(flow, build):
    raw = (HEAD + "Subject: =?UTF-8?B?" + base64.b64encode("名簿紛失".encode()).decode()
           + "?=\r\nMessage-ID: <deep@sales.example.com>\r\n").encode() + build(
        1000, "顧客名簿を紛失しました。")
    sent = flow.run(raw)
    nothing_shunted(flow)
    case = flow.case()
    assert case["subject"] == "名簿紛失"
    assert case["assessment"] and case["deadlines"]
    assert "unparsed" in case["flags"]  # the deepest parts were not read: a person must look
    assert to_addr(sent, OFFICER) and to_addr(sent, REPORTER)
    raw_kept(flow, case, raw)


def test_a_subject_of_60000_encoded_words_still_makes_the_case(flow):
    words = " ".join(["=?UTF-8?B?44GC?="] * 60_000)
    raw = (HEAD + f"Subject: {words}\r\nMessage-ID: <words@sales.example.com>\r\n"
           "Content-Type: text/plain; charset=UTF-8\r\n\r\n顧客名簿を紛失しました。\r\n").encode()
    sent = flow.run(raw)
    nothing_shunted(flow)
    case = flow.case()
    assert case["subject"].startswith("あああ") and set(case["subject"]) == {"あ"}
    assert to_addr(sent, OFFICER)
    raw_kept(flow, case, raw)


def test_adjacent_encoded_words_are_joined_and_nothing_else_is_touched(flow):
    # A character split over two encoded words (RFC 2047 6.2), a tag, brackets and prefixes.
    split = "漏".encode()
    first = base64.b64encode("【至急】Re: [INC-2026-9999] 名簿の".encode() + split[:1]).decode()
    second = base64.b64encode(split[1:] + "えい".encode()).decode()
    raw = (HEAD + f"Subject: =?UTF-8?B?{first}?=\r\n =?UTF-8?B?{second}?= (続報)\r\n"
           "Message-ID: <words2@sales.example.com>\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
           "名簿を紛失しました。\r\n").encode()
    flow.run(raw)
    assert flow.case()["subject"] == "【至急】Re: [INC-2026-9999] 名簿の漏えい (続報)"


def test_a_huge_header_block_is_analysed_truncated_and_kept_whole(flow):
    filler = "".join(f"X-Filler-{i}: {'x' * 60_000}\r\n" for i in range(40))  # 2.4 MB of headers
    raw = (HEAD + filler + "Subject: USB lost\r\nMessage-ID: <big-head@sales.example.com>\r\n"
           "Content-Type: text/plain; charset=UTF-8\r\n\r\nUSBメモリを紛失しました。\r\n").encode()
    sent = flow.run(raw)
    nothing_shunted(flow)
    case = flow.case()
    assert to_addr(sent, OFFICER)
    raw_kept(flow, case, raw)


def test_a_different_message_reusing_a_known_message_id_is_kept_as_its_own_case(flow):
    flow.run(report(message_id="<same@sales.example.com>"))
    second = plain_mail("FAX誤送信", "顧客30名分のリストをFAXで別の会社に送りました。",
                        sender="hanako@example.com", message_id="<same@sales.example.com>")
    sent = flow.run(second)
    first_id, second_id = flow.case_ids()
    case = flow.case(second_id)
    assert case["subject"] == "FAX誤送信" and case["reporter"] == "hanako@example.com"
    assert to_addr(sent, OFFICER)
    raw_kept(flow, case, second)
    # The very same bytes again, or the same message with other trace headers: a duplicate.
    assert flow.run(second) == []
    assert flow.run(b"Received: from relay by mx; Thu, 26 Nov 2026 10:01:00 +0900\r\n" + second) == []
    assert flow.case_ids() == [first_id, second_id]


def test_a_reused_message_id_on_a_reply_is_stored_on_its_case(flow):
    sent = flow.run(report(message_id="<orig@sales.example.com>"))
    case_id = flow.case()["id"]
    reply = plain_mail(f"Re: [{case_id}] 続報", "追加の情報です。", sender=REPORTER,
                       message_id="<orig@sales.example.com>")
    flow.run(reply)
    assert flow.case_ids() == [case_id]
    messages = [m for m in flow.case(case_id)["messages"] if m["direction"] == "in"]
    assert len(messages) == 2 and messages[1]["text"] == "追加の情報です。"
    assert to_addr(sent, OFFICER)


@pytest.mark.parametrize("field", ["From", "To", "Cc"])
def test_thousands_of_nested_comments_in_an_address_header_cost_nothing(flow, field):
    """email.utils.getaddresses recurses once per nested comment: RecursionError, wherever read."""
    headers = {"From": REPORTER, "To": "incident@example.com", "Cc": "x@example.com"}
    headers[field] += " " + "(" * 30_000
    raw = ("".join(f"{k}: {v}\r\n" for k, v in headers.items())
           + "Subject: USB\r\nMessage-ID: <parens@sales.example.com>\r\n\r\nUSBメモリを紛失しました。\r\n").encode()
    sent = flow.run(raw, mail_from=REPORTER)
    nothing_shunted(flow)
    assert to_addr(sent, OFFICER)
    assert "unparsed" not in flow.case()["flags"]  # the rest of the message was read as usual
    raw_kept(flow, flow.case(), raw)
