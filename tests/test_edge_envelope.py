"""Finding 5: envelope strings that are not UTF-8 are stored escaped, and never fail other mail."""

import asyncio
import os
import subprocess
import sys

from conftest import wait_for
from leakline.app import App
from leakline.config import load
from mailbuilders import plain_mail
from rawsmtp import RawSMTP


def spooled(app):
    return [entry for segment in app.spool.segments() for entry in app.spool.read(segment)]


def test_invalid_utf8_in_mail_from_and_ehlo_is_accepted_and_stored_escaped(running, app):
    raw = plain_mail("不正な送信者", "本文", message_id="<bad-env@example.com>")
    with RawSMTP(running.host, running.port) as client:
        code, text = client.mail(raw, sender=b"<taro\xff\xfe@example.com>", helo=b"host\xc3(.example")
    assert code == 250, text
    rows = wait_for(lambda: app.store.summaries("open"))
    message = app.store.get(rows[0]["id"])["messages"][0]
    assert message["envelope"]["mail_from"] == "taro\\xff\\xfe@example.com"
    assert app.store.raw_path(message["raw"]).read_bytes() == raw


def test_a_bad_envelope_in_a_batch_fails_no_other_message(app):
    """Messages that arrive together share one segment; a bad one must not take the others down."""
    from leakline.server import GroupCommitter

    async def arrive_together():
        committer = GroupCommitter(app.spool, on_committed=lambda: None)
        envelopes = [{"mail_from": f"staff{i}@example.com", "rcpt_tos": ["incident@example.com"]}
                     for i in range(5)]
        envelopes[2] = {"mail_from": "bad\udcff@example.com", "helo": "h\udcc3",
                        "rcpt_tos": ["incident\udc80@example.com"]}
        return await asyncio.gather(*(committer.store(plain_mail(f"件名{i}", "本文"), env)
                                      for i, env in enumerate(envelopes)), return_exceptions=True)

    results = asyncio.run(arrive_together())
    assert all(isinstance(r, str) for r in results), results
    entries = spooled(app)
    assert len(entries) == 5
    assert len(app.spool.segments()) == 1  # still one segment, one fsync
    bad = next(e for e in entries if e.envelope["mail_from"].startswith("bad"))
    assert bad.envelope["mail_from"] == "bad\\xff@example.com"
    assert bad.envelope["helo"] == "h\\xc3"
    assert bad.envelope["rcpt_tos"] == ["incident\\x80@example.com"]


def test_one_unreadable_message_fails_alone_in_its_batch(app):
    """A storage failure of one message's own data (its spilled body) answers 451 for it alone."""
    from leakline.server import GroupCommitter

    class Unreadable:
        def __len__(self):
            return 10

        def copy_to(self, fd):
            raise OSError(5, "Input/output error")

    async def arrive_together():
        committer = GroupCommitter(app.spool, on_committed=lambda: None)
        bodies = [plain_mail("a", "1"), Unreadable(), plain_mail("b", "2")]
        return await asyncio.gather(*(committer.store(body, {"mail_from": "t@example.com"})
                                      for body in bodies), return_exceptions=True)

    good1, bad, good2 = asyncio.run(arrive_together())
    assert isinstance(good1, str) and isinstance(good2, str)
    assert isinstance(bad, OSError)
    assert len(spooled(app)) == 2
    assert list(app.spool.tmp.iterdir()) == []  # the failed attempt left no temp file


def _ingest(config_path, args, env=None):
    return subprocess.run([os.fsencode(sys.executable), b"-m", b"leakline", b"--config",
                           os.fsencode(config_path), b"ingest", *args],
                          input=plain_mail("パイプ", repr(args)), capture_output=True, env=env,
                          timeout=60)


def test_ingest_with_invalid_utf8_sender_and_recipient_is_stored(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    result = _ingest(path, [b"-", b"--sender", b"taro\xff@example.com",
                            b"--recipient", b"incident\xfe@example.com"])
    assert result.returncode == 0, result.stderr
    env = dict(os.environb)
    env[b"SENDER"] = b"hanako\x82\xa0@example.com"
    result = _ingest(path, [b"-"], env=env)
    assert result.returncode == 0, result.stderr
    app = App(load(path))
    senders = sorted(e.envelope["mail_from"] for e in spooled(app))
    assert senders == ["hanako\\x82\\xa0@example.com", "taro\\xff@example.com"]
    assert app.pipeline.drain() == 2
    assert len(app.store.summaries("open")) == 2
