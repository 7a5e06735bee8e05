"""Deliveries recorded in batches (issue 13): one commit for a batch, each mail delivered once.

The Maildir transport names each file after its outbox entry, so a delivery repeated after a
crash (the file written, the process killed before the outbox recorded it) finds the file, in
new/ or where a mail reader moved it in cur/, and writes no second copy.
"""

from __future__ import annotations

import asyncio
import os
import random

from test_outbox_delivery import enqueue
from leakline.delivery.sender import SenderWorker
from leakline.delivery.transport import MaildirTransport


def worker(box, transport, clock, **kw) -> SenderWorker:
    return SenderWorker(box, transport, clock, rng=random.Random(7), **kw)


def test_a_batch_of_deliveries_is_recorded_with_one_commit(box, tmp_path, clock, fsyncs):
    ids = [enqueue(box) for _ in range(12)]
    recorded = []
    fsyncs[0] = 0
    counts = asyncio.run(worker(box, MaildirTransport(tmp_path / "mail-out"), clock,
                                on_sent=recorded.append).run_once())
    assert counts.sent == 12 and sorted(item.id for item in recorded) == sorted(ids)
    assert fsyncs[0] == 1  # the journal's; the Maildir files are flushed by one syncfs
    assert len(list((tmp_path / "mail-out" / "new").iterdir())) == 12
    assert {box.get(i)["state"] for i in ids} == {"sent"}


def test_a_delivery_repeated_after_a_crash_writes_no_second_copy(box, tmp_path, clock):
    first, moved = enqueue(box), enqueue(box)
    maildir = tmp_path / "mail-out"
    # The process wrote both files, a reader moved one to cur/, and the process died before
    # the outbox recorded either as sent.
    crashed = MaildirTransport(maildir)
    for item in box.due(clock()):
        crashed.write(item)
    (name,) = [p.name for p in (maildir / "new").iterdir()
               if p.name == MaildirTransport.file_name(next(i for i in box.due(clock())
                                                             if i.id == moved))]
    os.rename(maildir / "new" / name, maildir / "cur" / f"{name}:2,S")

    counts = asyncio.run(worker(box, MaildirTransport(maildir), clock).run_once())
    assert counts.sent == 2
    assert len(list((maildir / "new").iterdir())) == 1
    assert len(list((maildir / "cur").iterdir())) == 1
    assert list((maildir / "tmp").iterdir()) == []
    assert box.get(first)["state"] == box.get(moved)["state"] == "sent"


def test_a_case_that_cannot_record_its_mail_does_not_stop_the_batch(box, tmp_path, clock):
    ids = [enqueue(box) for _ in range(3)]

    def on_sent(item):
        if item.id == ids[1]:
            raise OSError("the case file is in the way")

    counts = asyncio.run(worker(box, MaildirTransport(tmp_path / "mail-out"), clock,
                                on_sent=on_sent).run_once())
    assert counts.sent == 3 and {box.get(i)["state"] for i in ids} == {"sent"}
