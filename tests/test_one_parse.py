"""One parse per message (issue 13): from the spool to the Maildir, a report's bytes are parsed
once (one header parse per MIME part, intake/mime.py), and what leakline sends is never parsed
back: the sender's classification, the responders and the transports use that one parse."""

from __future__ import annotations

import email.parser

from test_flow_harness import Flow, report


def test_a_report_is_parsed_once_and_its_replies_never(config, clock, monkeypatch):
    parses: list[bytes] = []
    real = email.parser.BytesParser.parsebytes

    def counted(self, text, headersonly=False):
        if not headersonly:
            raise AssertionError("a whole-message parse on the way from the spool to the Maildir")
        parses.append(bytes(text[:60]))
        return real(self, text, headersonly)

    def refused(*args, **kwargs):
        raise AssertionError("a whole-message parse on the way from the spool to the Maildir")

    import holidays  # noqa: F401  (its import reads package metadata with the email parser)

    flow = Flow(config, clock)
    raw = report()
    flow.receive(raw, mail_from="taro@sales.example.com")  # the harness reads no header itself
    monkeypatch.setattr(email.parser.BytesParser, "parsebytes", counted)
    for name in ("message_from_bytes", "message_from_string", "message_from_binary_file"):
        monkeypatch.setattr(email, name, refused)
    flow.drain()
    assert len(parses) == 1  # the report: a single-part message, one header block
    flow.deliver()
    assert len(parses) == 1  # guidance and escalations were composed and delivered unparsed
    monkeypatch.undo()
    assert len(flow.delivered()) >= 2


def test_a_report_is_read_for_facts_once_and_before_the_data_lock(config, clock, monkeypatch):
    """Extraction, the costliest part of a report, runs in Intake.prepare (outside the lock,
    where two intake processes can overlap it) and the responder uses that result."""
    import leakline.process.extract as extraction

    real, held = extraction.extract, []
    flow = Flow(config, clock)

    def counted(*args, **kwargs):
        held.append(flow.app.store.lock.held())
        return real(*args, **kwargs)
    monkeypatch.setattr(extraction, "extract", counted)
    flow.run(report())
    assert held == [False]
    assert flow.case()["facts"]["category"]["value"] == "misdirected_email"
