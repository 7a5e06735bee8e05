"""The one bounce reader (intake.bounce) on the corpus of real bounce formats (tests/data/bounces,
expected.json): every bounce found with exactly its failed recipients, their kind (permanent or
delayed) and the Message-ID of what bounced; no look-alike (an out-of-office, a read receipt, a
list digest, a person quoting a bounce) read as one. bench/bounces.py scores the alternatives."""

import json
from email.utils import parseaddr
from pathlib import Path

import pytest

from leakline.intake.bounce import read_bounce
from leakline.intake.parse import parse

CORPUS = Path(__file__).parent / "data" / "bounces"
EXPECTED = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))


def envelope_sender(raw: bytes) -> str:
    """The sample's Return-Path: what the MTA recorded as MAIL FROM."""
    for line in raw.split(b"\n\n", 1)[0].splitlines():
        if line.lower().startswith(b"return-path:"):
            address = parseaddr(line.split(b":", 1)[1].decode("ascii", "replace"))[1]
            return "" if address.lower() in ("", "mailer-daemon") else address
    return "unknown@example.net"


@pytest.mark.parametrize("sample", sorted(EXPECTED))
def test_corpus_sample_is_read_as_expected(sample):
    want = EXPECTED[sample]
    raw = (CORPUS / sample).read_bytes()
    bounce = read_bounce(parse(raw).msg, envelope_sender(raw))
    if not want["is_bounce"]:
        assert bounce is None
        return
    assert bounce is not None
    assert set(bounce.recipients) == {a.lower() for a in want["recipients"]}
    assert bounce.permanent == want["permanent"]
    if want["original_message_id"]:
        assert bounce.original_message_id == want["original_message_id"]


def test_corpus_covers_what_the_issue_names():
    assert sum(w["is_bounce"] for w in EXPECTED.values()) == 42 and len(EXPECTED) == 54
