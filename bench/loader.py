"""Fill a data_dir with N realistic cases through the store interface (not through SMTP).

Usage: python bench/loader.py [--cases 100000] [--open 1000] [--data-dir /tmp/leakline-bench-100k]
                              [--processes 2] [--force]

Each case is what intake and the responders would have made of a 2 KB Japanese report: the raw
message (put_raw), its identity (claim_key), a case id from the sequence (next_case_id), and the
case document with its message, facts, category, acks and `sent` markers, written by Store.save
with its audit event; 100 cases a unit of work, as the worker commits a batch. received_at is
spread evenly from 2022-01-01 to yesterday, so the case ids span five years; the newest `--open` cases are open, the rest closed with closed_at;
every case is acknowledged, so none is due for a reminder.

With --processes > 1 the years are split between processes (disjoint year ranges, so each
sequence has one writer); units of work take the data lock, so commits serialise there.
A data_dir that already holds exactly N cases is reused as it is.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

JST = timezone(timedelta(hours=9))
FIRST = datetime(2022, 1, 1, 9, 0, tzinfo=JST)
CATEGORIES = ("misdirected_email", "misdirected_fax", "loss", "theft", "unauthorized_access",
              "malware", "wrong_disposal", "wrong_display", "misdelivery", "insider")
LINE = "本日、顧客名簿を誤送信しました。約120名分の氏名と住所が含まれます。至急ご確認ください。\n"
TEXT = (LINE * (2048 // len(LINE.encode()) + 1))[: 2048 // 3]  # about 2 KB of UTF-8
MARKER = "loader.json"
UNIT = 100


def received_times(n: int, last: datetime) -> list[datetime]:
    step = (last - FIRST) / max(n, 1)
    return [FIRST + step * i for i in range(n)]


def raw_message(i: int, sender: str, when: datetime) -> tuple[str, bytes]:
    message_id = f"<load-{i}@example.com>"
    head = (f"From: {sender}\r\nTo: incident@example.com\r\nSubject: =?UTF-8?B?6Kqk6YCB5L+h?= "
            f"load {i}\r\nMessage-ID: {message_id}\r\nDate: {when:%a, %d %b %Y %H:%M:%S +0900}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n")
    return message_id, head.encode() + TEXT.replace("\n", "\r\n").encode()


def make_case(case_id: str, i: int, when: datetime, is_open: bool, raw_rel: str,
              message_id: str, sender: str) -> dict:
    at = when.isoformat(timespec="seconds")
    category = CATEGORIES[i % len(CATEGORIES)]
    fact = lambda value: {"value": value, "source": "extracted", "by": None, "at": at,  # noqa: E731
                          "evidence": TEXT[:40]}
    message = {
        "key": message_id, "message_id": message_id, "from": sender, "from_name": f"社員 {i}",
        "to": ["incident@example.com"], "subject": f"誤送信 load {i}",
        "date": when.strftime("%a, %d %b %Y %H:%M:%S +0900"), "received_at": at,
        "direction": "in", "kind": "report", "text": TEXT, "html": False, "in_reply_to": None,
        "references": [], "attachments": [], "forwarded": [], "unparsed": False,
        "raw": raw_rel, "sha256": raw_rel.rsplit("/", 1)[-1].removesuffix(".eml"),
        "envelope": {"mail_from": sender, "rcpt_tos": ["incident@example.com"],
                     "peer": "127.0.0.1", "spool_id": f"load.{i}"},
    }
    closed_at = None if is_open else (when + timedelta(days=20)).isoformat(timespec="seconds")
    return {
        "id": case_id, "status": "open" if is_open else "closed", "reporter": sender,
        "reporter_name": f"社員 {i}", "subject": f"誤送信 load {i}", "received_at": at,
        "flags": [], "category": category,
        "facts": {"category": fact(category), "persons": fact(120),
                  "data_items": fact(["氏名", "住所"]), "discovered_at": fact(at)},
        # Acknowledged, even the open ones: else the scheduler would send the preloaded cases'
        # reminders during the benchmark.
        "acks": [{"by": "privacy@example.com", "at": at, "via": "mail"}],
        "sent": {"guidance": at, "escalate:initial": at},
        "closed_at": closed_at, "messages": [message],
    }


def load_years(data_dir: str, jobs: list[tuple[int, str, bool]], shared: bool = False) -> int:
    """Store cases [(i, received_at ISO, open?)] in order; returns how many were stored.

    `shared`: other loader processes write to the same data_dir at the same time."""
    from leakline.listing import listing_fields
    from leakline.store.cases import Store

    # The index rows as `leakline serve` writes them: with the fields `cases list` shows.
    store = Store(Path(data_dir), summarize=listing_fields)
    for start in range(0, len(jobs), UNIT):
        # One unit of work per UNIT cases, as the worker commits a spool segment (issue 13).
        with store.unit_of_work():
            for i, at, is_open in jobs[start:start + UNIT]:
                store_one(store, i, datetime.fromisoformat(at), is_open)
    store.checkpoint()
    return len(jobs)


def store_one(store, i: int, when: datetime, is_open: bool) -> None:
    sender = f"staff{i % 5000}@example.com"
    message_id, raw = raw_message(i, sender, when)
    raw_rel = store.put_raw(raw, when.year, when.month)
    case_id = store.next_case_id(when.year)
    store.claim_key(message_id, case_id)
    case = make_case(case_id, i, when, is_open, raw_rel, message_id, sender)
    store.save(case, [{"action": "case_opened", "actor": "system",
                       "details": {"message_id": message_id, "from": sender, "kind": "report",
                                   "raw": raw_rel, "sha256": case["messages"][0]["sha256"],
                                   "spool_id": f"load.{i}"}}])


def fill(data_dir: Path, n: int, n_open: int, processes: int) -> dict:
    from leakline.store.cases import Store

    os.umask(0o077)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    Store(data_dir).prepare()
    last = datetime.now(JST).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    times = received_times(n, last)
    by_year: dict[int, list] = {}
    for i, when in enumerate(times):
        by_year.setdefault(when.year, []).append((i, when.isoformat(), i >= n - n_open))
    # Balance whole years over the processes (a year has one writer: its sequence stays dense).
    groups: list[list] = [[] for _ in range(max(1, processes))]
    for year in sorted(by_year, key=lambda y: -len(by_year[y])):
        min(groups, key=len).extend(by_year[year])
    started = time.perf_counter()
    if processes > 1:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            stored = sum(pool.starmap(load_years, [(str(data_dir), g, True) for g in groups if g]))
    else:
        stored = load_years(str(data_dir), groups[0])
    seconds = time.perf_counter() - started
    info = {"cases": stored, "open": n_open, "processes": processes,
            "seconds": round(seconds, 1), "cases_per_second": round(stored / seconds, 1),
            "years": {y: len(v) for y, v in sorted(by_year.items())}}
    (data_dir / MARKER).write_text(json.dumps(info))
    return info


def default_dir(n: int, base: Path = Path("/tmp")) -> Path:
    """Where the loader keeps N cases: /tmp/leakline-bench-100k, /tmp/leakline-bench-500."""
    return base / (f"leakline-bench-{n // 1000}k" if n % 1000 == 0 else f"leakline-bench-{n}")


def ensure_loaded(data_dir: Path, n: int, n_open: int = 1000, processes: int = 1,
                  force: bool = False) -> dict:
    """The data_dir with N cases: reused when its marker says so, else (re)filled."""
    marker = data_dir / MARKER
    if not force and marker.exists():
        info = json.loads(marker.read_text())
        if info.get("cases") == n and info.get("open") == n_open:
            return dict(info, reused=True)
    if data_dir.exists() and any(data_dir.iterdir()):
        if not marker.exists():
            raise SystemExit(f"{data_dir} holds data the loader did not write; not replacing it")
        import shutil

        shutil.rmtree(data_dir)
    return dict(fill(data_dir, n, n_open, processes), reused=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=1000)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--processes", type=int, default=1,
                        help="writes serialise on the data lock: 2 processes were no faster")
    parser.add_argument("--force", action="store_true", help="refill even if the count matches")
    args = parser.parse_args()
    data_dir = args.data_dir or default_dir(args.cases)
    from benchinfo import header

    header()
    info = ensure_loaded(data_dir, args.cases, args.open, args.processes, args.force)
    print(json.dumps(dict(info, data_dir=str(data_dir)), indent=2))


if __name__ == "__main__":
    main()
