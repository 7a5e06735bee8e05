"""Hostile subjects and names through the whole path: no header injection, no live HTML."""

import base64

from conftest import make_config
from test_flow_harness import OFFICER, REPORTER, Clock, Flow, to_addr


def encoded(text: str) -> str:
    return f"=?UTF-8?B?{base64.b64encode(text.encode()).decode()}?="


def test_crlf_and_html_in_subject_and_name_stay_inert(tmp_path):
    flow = Flow(make_config(tmp_path / "data"), Clock())
    subject = "誤送信\r\nBcc: thief@evil.example\r\n<script>alert(1)</script>"
    name = "山田<img src=x onerror=alert(1)>\r\nX-Injected: yes"
    raw = (f"From: {encoded(name)} <{REPORTER}>\r\nTo: incident@example.com\r\n"
           f"Subject: {encoded(subject)}\r\nMessage-ID: <inj-1@sales.example.com>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
           "顧客名簿を誤送信しました。\r\n").encode()
    sent = flow.run(raw, mail_from=REPORTER)
    (guidance,) = to_addr(sent, REPORTER)
    (escalation,) = to_addr(sent, OFFICER)
    for mail in (guidance, escalation):
        head = mail.raw.split(b"\n\n", 1)[0].decode("ascii", "replace").splitlines()
        # The text may survive inside a folded Subject (a continuation line starts with white
        # space); it must never start a header line of its own.
        assert not [line for line in head if line.lower().startswith(("bcc:", "x-injected:"))]
        assert set(mail.msg.keys()) & {"Bcc", "X-Injected"} == set()
        assert mail.to == [REPORTER] if mail is guidance else [OFFICER]
        assert "<script>" not in mail.html and "<img" not in mail.html
    assert "&lt;script&gt;" in escalation.html or "&lt;img" in escalation.html
    case = flow.case()
    assert "\n" not in case["subject"] and "\r" not in case["subject"]
