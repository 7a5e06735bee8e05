"""The reply language: the organisation's, unless the report is plainly in the other language."""

import pytest

from leakline.responders.language import reply_language

ENGLISH = ("I accidentally sent an email with the customer list attached to the wrong address "
           "this morning. The file had names and phone numbers of about 120 customers.")
JAPANESE = "本日午前、顧客リストを添付したメールを誤って社外のアドレスに送信してしまいました。約120名分です。"


@pytest.mark.parametrize("org, text, expected", [
    ("ja", JAPANESE, "ja"),
    ("ja", ENGLISH, "en"),
    ("ja", "PC lost", "ja"),  # too short to be plainly English
    ("ja", ENGLISH + " 山田", "ja"),  # any Japanese: the reporter reads Japanese
    ("en", ENGLISH, "en"),
    ("en", JAPANESE, "ja"),
    ("en", "USBメモリ", "en"),  # a few characters are not a report in Japanese
    ("en", JAPANESE + " Attached: customer_list_2026.xlsx, sent via Outlook", "ja"),
    ("en", ENGLISH + " 山田太郎より、よろしくお願いします。", "en"),
    ("ja", "", "ja"),
    ("en", "", "en"),
])
def test_reply_language(org, text, expected):
    assert reply_language(text, org) == expected
