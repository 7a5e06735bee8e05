"""`leakline status`: whether this node serves, and whether anything waits for a person.

One call gathers, without stopping anything: the listener (the serve lock's holder is alive and
its port answers with a greeting), the spool (segments waiting, the oldest's age, shunted
messages), the database (work waiting there: none on the file store), the outbox (queued,
deferred, due too long, dead letters, entries a node left `sending`), overdue deadlines per
organisation, the store's quick check (what `serve` checks at start, and a damaged journal), and
the last error a serve process logged (leakline/errorlog.py). `attention` lists what needs a
person, each with a code and a line saying what to run; the CLI exits 1 when it is not empty.
The JSON form is in docs/CONTRACTS.md.
"""

from __future__ import annotations

import os
import shutil
import smtplib
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from leakline.app import App, DataDirError, check_data_dir, check_layout
from leakline.config import Config
from leakline.errorlog import last_error
from leakline.node import backend_name, node_id, operations
from leakline.orgs import has_data
from leakline.servelock import ServeLock
from leakline.store.spool import pid_alive

DEFAULT_BACKLOG = timedelta(minutes=10)
PROBE_SECONDS = 5.0
# Below this, a burst of mail or a backup on the same disk may fill it: serve then answers 451.
MIN_FREE_PERCENT = 5.0


@dataclass(frozen=True)
class Options:
    backlog: timedelta = DEFAULT_BACKLOG  # a spool segment or a due outbox entry older: attention
    probe_seconds: float = PROBE_SECONDS  # how long the listener has to greet
    min_free_percent: float = MIN_FREE_PERCENT  # less free on data_dir's disk: attention


def service_status(config: Config, now: datetime | None = None, options: Options = Options()) -> dict:
    """Everything `leakline status` shows, as one dict (the JSON without `schema`)."""
    now = now or datetime.now(timezone.utc)
    app = App(config, now=lambda: now)
    ops = operations(config)
    work = ops.database_work(app.spool)
    checked = store_health(app)  # before anything reads the index (which mends a shard quietly)
    status = {
        "at": now.isoformat(timespec="seconds"),
        "node": {"id": node_id(config), "hostname": socket.gethostname(),
                 "data_dir": os.path.abspath(config.service.data_dir),
                 "backend": backend_name(config)},
        "listening": listener(config, options.probe_seconds),
        "spool": spool(app, now),
        "database": {"backend": ops.name, "waiting": work.waiting, "note": work.note},
        "outbox": outbox(app, now),
        "deadlines": deadlines(app, now),
        "store": checked,
        "disk": disk(config),
        "last_error": last_error(config.service.data_dir),
    }
    status["attention"] = attention(status, options, several=config.orgs is not None
                                    and len(config.organizations) > 1)
    status["ok"] = not status["attention"]
    return status


# -- the listener ---------------------------------------------------------------------------------
def listener(config: Config, timeout: float = PROBE_SECONDS) -> dict:
    """Who holds the serve lock, whether that process lives, and whether its port greets."""
    holder = ServeLock(config.service.data_dir).holder()
    if holder is None:
        return {"ok": False, "pid": None, "pid_alive": None, "host": None, "port": None,
                "since": None, "answered": False, "error": "no `leakline serve` holds the serve lock"}
    pid, host, port = holder.get("pid"), holder.get("host"), holder.get("port")
    alive = pid_alive(pid) if isinstance(pid, int) else None
    error = None if port else "serve is starting: its port is not known yet"
    if port:
        error = greeting_error(host, port, timeout)
    return {"ok": error is None, "pid": pid, "pid_alive": alive, "host": host, "port": port,
            "since": holder.get("since"), "answered": error is None, "error": error}


def greeting_error(host: str | None, port: int, timeout: float) -> str | None:
    """None when host:port greets with 220, else why not (refused, timed out, busy)."""
    target = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host or "", host)
    try:
        client = smtplib.SMTP(timeout=timeout)
        code, text = client.connect(target, port)
    except (OSError, smtplib.SMTPException) as exc:
        return f"{target}:{port} does not answer ({type(exc).__name__}: {exc})"
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        pass
    if code != 220:
        return f"{target}:{port} greets with {code} {text.decode('ascii', 'replace')[:80]}"
    return None


# -- spool, database, outbox ---------------------------------------------------------------------
def spool(app: App, now: datetime) -> dict:
    segments = app.spool.segments()
    oldest = None
    for segment in segments[:1]:  # sorted by time of arrival
        try:
            oldest = max(0.0, now.timestamp() - segment.stat().st_mtime)
        except FileNotFoundError:  # processed meanwhile
            oldest = None
    return {"waiting": len(segments), "oldest_age_seconds": _round(oldest),
            "shunted": len(app.spool.shunted())}


def outbox(app: App, now: datetime) -> dict:
    """The queue, and the dead letters with the entries a dead node left `sending` (counted
    among them, and apart as `sending`: only a shared database has any)."""
    if app.db is None and not (app.data_dir / "outbox").is_dir():  # nothing was ever queued
        return {"queued": 0, "deferred": 0, "oldest_due_seconds": None, "dead_letters": 0,
                "sending": 0, "orgs": []}
    queued, failed = app.outbox.list(), app.outbox.list(failed=True)
    due = [now - datetime.fromisoformat(row["next_attempt_at"]) for row in queued
           if row.get("next_attempt_at")]
    late = max((d.total_seconds() for d in due if d.total_seconds() >= 0), default=None)
    return {"queued": len(queued), "deferred": sum(1 for row in queued if row.get("attempts")),
            "oldest_due_seconds": _round(late), "dead_letters": len(failed),
            "sending": sum(1 for row in failed if row.get("state") == "sending"),
            "orgs": outbox_orgs(app.config, queued, failed)}


def outbox_orgs(config: Config, queued: list[dict], failed: list[dict]) -> list[dict]:
    """[{"org", "queued", "dead_letters"}] for each organisation with any, in id order; `org`
    null for mail of no configured organisation."""
    from leakline.orgs import org_of_outbox_item

    counts: dict[str | None, dict] = {}
    for key, rows in (("queued", queued), ("dead_letters", failed)):
        for row in rows:
            org = org_of_outbox_item(config, row.get("org"), row.get("case_id"))
            counts.setdefault(org, {"org": org, "queued": 0, "dead_letters": 0})[key] += 1
    return sorted(counts.values(), key=lambda c: (c["org"] is None, c["org"] or ""))


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 1)


def disk(config: Config) -> dict:
    """Free space on the file system of data_dir (what a full disk stops first)."""
    usage = shutil.disk_usage(config.service.data_dir)
    return {"free_bytes": usage.free, "total_bytes": usage.total,
            "free_percent": round(100 * usage.free / usage.total, 1) if usage.total else 0.0}


# -- organisations: deadlines and the store ----------------------------------------------------------
def _stores(app: App):
    config = app.config
    for org_id in config.organizations.ids():
        if has_data(config, org_id):
            yield org_id, app.tenant(org_id, prepare=False).store


def deadlines(app: App, now: datetime) -> dict:
    """Open cases, those with an overdue deadline, and those no manager acknowledged within the
    organisation's `ack_within_minutes` (escalation still running), per organisation (from the
    index)."""
    from leakline.listing import row_for_listing

    tz = app.config.service.tz
    orgs = []
    for org_id, store in _stores(app):
        rows = [row_for_listing(row, store, now=now, tz=tz) for row in store.summaries("open")]
        window = timedelta(minutes=app.config.for_org(org_id).escalation.ack_within_minutes)
        orgs.append({"org": org_id, "open": len(rows), "overdue": sum(1 for r in rows if r["overdue"]),
                     "unacknowledged": sum(1 for r in rows if _unacked_past(r, now - window))})
    return {"overdue": sum(o["overdue"] for o in orgs),
            "unacknowledged": sum(o["unacknowledged"] for o in orgs), "orgs": orgs}


def _unacked_past(row: dict, cutoff: datetime) -> bool:
    """Not acknowledged, received before `cutoff` (a received_at unreadable counts: ask)."""
    if row.get("acked"):
        return False
    try:
        received = datetime.fromisoformat(str(row.get("received_at")))
    except ValueError:
        return True
    if received.tzinfo is None:
        received = received.replace(tzinfo=timezone.utc)
    return received < cutoff


def store_health(app: App) -> dict:
    """serve's start-up check of every store (sequences, index shards; repaired where it can),
    a journal damaged inside, and the data_dir's mode and layout."""
    from leakline.store.health import quick_check

    problems, repairs = [], []
    if app.db is not None:  # PostgreSQL: no journal, shards or sequence files; its schema
        from leakline.store.pg.db import SchemaError

        try:
            app.db.check_schema()
        except (SchemaError, OSError) as exc:  # OSError: DatabaseUnavailable
            problems.append(f"database: {exc}")
        return {"ok": not problems, "problems": problems, "repairs": repairs}
    try:
        check_data_dir(app.data_dir)
        check_layout(app.config)
    except DataDirError as exc:
        problems.append(str(exc))
    several = app.config.org_subtrees
    for org_id, store in _stores(app):
        named = f"{org_id}: " if several else ""
        problems += [f"{named}{p}" for p in _journal_problems(store.units)]
        report = quick_check(store)
        problems += [f"{named}{p}" for p in report.problems]
        repairs += [f"{named}{r}" for r in report.repairs]
    if several:
        problems += _journal_problems(app.outbox.units)
    return {"ok": not problems, "problems": problems, "repairs": repairs}


def _journal_problems(units) -> list[str]:
    """A journal damaged inside stops every unit of work (docs/STORE.md); read, never cut."""
    from leakline.store.journal import JournalError

    if units.journal.clean():
        return []
    try:
        units.journal.records()
    except JournalError as exc:
        return [str(exc)]
    return []


# -- what needs a person ------------------------------------------------------------------------
def attention(status: dict, options: Options = Options(), several: bool = False) -> list[dict]:
    """[{"code", "message"}], in the order an operator should look."""
    found = []
    backlog = options.backlog

    def need(code: str, message: str) -> None:
        found.append({"code": code, "message": message})

    heard = status["listening"]
    if not heard["ok"]:
        need("not_listening", f"not listening: {heard['error']}; start it (systemctl start "
                              "leakline, or leakline serve)")
    spooled, limit = status["spool"], backlog.total_seconds()
    if spooled["waiting"] and (spooled["oldest_age_seconds"] or 0) > limit:
        need("spool_backlog", f"{spooled['waiting']} spool segment(s) waiting, the oldest for "
                              f"{_minutes(spooled['oldest_age_seconds'])}: is intake running?")
    if spooled["shunted"]:
        need("shunted", f"{spooled['shunted']} message(s) intake gave up on: leakline spool list")
    out = status["outbox"]
    if out["dead_letters"]:
        dead = [o for o in out["orgs"] if o["dead_letters"]]
        where = " (" + ", ".join(f"{o['org'] or 'no organisation'}: {o['dead_letters']}"
                                 for o in dead) + ")" if several else ""
        org = "--org ID " if several else ""
        need("dead_letters", f"{out['dead_letters']} outgoing message(s) dead-lettered{where}: "
                             f"leakline {org}outbox list --failed, then leakline {org}outbox retry ID")
    if out["sending"]:
        need("sending", f"{out['sending']} outgoing message(s) left `sending` by a node that "
                        "stopped: leakline outbox list --failed, then leakline outbox retry ID")
    if (out["oldest_due_seconds"] or 0) > limit:
        need("outbox_backlog", f"outgoing mail due for {_minutes(out['oldest_due_seconds'])}: "
                               "is the sender running? leakline outbox list")
    late = [o for o in status["deadlines"]["orgs"] if o["overdue"]]
    if late:
        where = " (" + ", ".join(f"{o['org']}: {o['overdue']}" for o in late) + ")" if several else ""
        command = "leakline --org ID deadlines --overdue" if several else "leakline deadlines --overdue"
        need("overdue", f"{sum(o['overdue'] for o in late)} open case(s) with an overdue "
                        f"deadline{where}: {command}")
    unacked = [o for o in status["deadlines"]["orgs"] if o["unacknowledged"]]
    if unacked:
        where = " (" + ", ".join(f"{o['org']}: {o['unacknowledged']}" for o in unacked) + ")" \
            if several else ""
        command = "leakline --org ID cases list --unacked" if several else "leakline cases list --unacked"
        need("unacknowledged", f"{sum(o['unacknowledged'] for o in unacked)} open case(s) no "
                               f"manager acknowledged in time{where}: {command}")
    space = status["disk"]
    if space["free_percent"] < options.min_free_percent:
        need("disk_space", f"data_dir's disk has {space['free_percent']} % free "
                           f"({space['free_bytes'] / 1e9:.1f} GB): serve answers 451 when it cannot "
                           "write; free space (leakline purge, old backups) or move data_dir")
    checked = status["store"]
    if not checked["ok"]:
        more = f" (and {len(checked['problems']) - 1} more)" if len(checked["problems"]) > 1 else ""
        need("store", f"store: {checked['problems'][0]}{more}: leakline store check")
    return found


def _minutes(seconds: float | None) -> str:
    minutes = int((seconds or 0) // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"
