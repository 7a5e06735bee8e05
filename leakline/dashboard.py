"""`leakline cases show`: a case as an officer's dashboard, like `gh issue view`.

At the top what the officer must know and do: the facts with their source and evidence, the
triggers in legal words and what is required, the open questions, each phase and step with the
exact command that closes it, and the deadlines with the days left. Below, the messages one line
each (`--full` adds their bodies). Lines are tuples of plain text and `Painted` parts.
"""

from __future__ import annotations

import shlex
import unicodedata
from datetime import datetime

from leakline.listing import is_updated
from leakline.output import Painted
from leakline.process.deadlines import days_left, refreshed
from leakline.process.facts import FIELDS, shown
from leakline.process.phases import ORDERED
from leakline.process.vocabulary import CATEGORY_LABELS, trigger_words

Line = tuple
STATUS_FG = {"open": "red", "pending": "yellow", "overdue": "red", "closed": "green", "done": "green",
             "skipped": "magenta", "not_applicable": None}
SAID = {True: ("required", "red"), False: ("not required", "green"),
        None: ("undetermined (treated as due)", "yellow")}


def when(value: str | None, tz) -> str:
    """An instant as the organisation reads it: '2026-03-05 10:00 JST'."""
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        return value
    local = moment.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def one_line(text, width: int | None = None) -> str:
    flat = " ".join(str(text or "").split())
    return flat if width is None or len(flat) <= width else flat[: width - 1] + "…"


def heading(title: str) -> Line:
    return ("\n", Painted(title, bold=True))


def pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns (a Japanese character takes two)."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(0, width - used)


def status(word: str) -> Painted:
    return Painted(word.replace("_", " "), fg=STATUS_FG.get(word), dim=word == "not_applicable")


def render(case: dict, *, config, now: datetime, full: bool = False, by: str | None = None) -> list[Line]:
    """Every line of the dashboard of `case` at `now`."""
    tz = config.service.tz
    lang = config.organization.language
    you = shlex.quote(by) if by else "YOUR_EMAIL"
    return (_header(case, tz, you) + _facts(case) + _assessment(case, lang) + _phases(case, tz, you)
            + _deadlines(case, now, tz) + _notes(case, tz) + _messages(case, tz, full))


def _header(case: dict, tz, you: str) -> list[Line]:
    lines: list[Line] = [(Painted(case["id"], bold=True), "  ", status(case["status"]), "  ",
                          one_line(case.get("subject")))]
    name = case.get("reporter_name")
    lines.append((f"reporter  {name + ' ' if name else ''}<{case.get('reporter')}>",))
    category = case.get("category")
    label = f" ({CATEGORY_LABELS[category][0]})" if category in CATEGORY_LABELS else ""
    lines.append((f"received  {when(case.get('received_at'), tz)}    category  {category or 'unknown'}{label}",))
    if case.get("status") == "closed":
        lines.append((f"closed    {when(case.get('closed_at'), tz)}",))
    acks = case.get("acks") or []
    if acks:
        lines.append(("acked     " + "; ".join(f"by {a['by']} at {when(a['at'], tz)} ({a.get('via')})"
                                             for a in acks),))
    else:
        lines.append(("acked     ", Painted("not acknowledged", fg="red", bold=True),
                      f": leakline cases ack {case['id']} --by {you}"))
    if case.get("flags"):
        lines.append((f"flags     {', '.join(case['flags'])}",))
    if is_updated(case):
        marker = case.get("updated") or {}
        lines.append(("updated   ", Painted("new mail since an officer last acted", fg="yellow"),
                      f" ({one_line(marker.get('reason'))})" if marker.get("reason") else ""))
    return lines


def _fact_value(record: dict) -> str:
    value = record["value"]
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return one_line(value, 40)


def _facts(case: dict) -> list[Line]:
    facts = shown(case.get("facts") or {})
    lines, unknown = [heading("Facts")], []
    for field in FIELDS:
        record = facts[field]
        if record["source"] is None:
            unknown.append(field)
            continue
        source = record["source"] + (f" {record['by']}" if record["source"] == "admin" else "")
        evidence = f"  「{one_line(record['evidence'], 60)}」" if record.get("evidence") else ""
        lines.append((f"  {field:<20} {pad(_fact_value(record), 26)} ", Painted(pad(source, 10), dim=True), evidence))
    if unknown:
        lines.append((Painted(f"  not known: {', '.join(unknown)}", dim=True),))
    return lines


def _required(a: dict) -> list[tuple[str, bool | None]]:
    """Each duty the assessment decides and whether it is required (None: undetermined)."""
    rows = [(f"report to {a.get('report_to') or 'the PPC'}", a.get("ppc_report_required")),
            ("notice to the persons (本人通知)", a.get("persons_notice_required")),
            ("public notice (公表) in place of that notice", a.get("public_notice_required")),
            ("notice to the client (委託元)", (a.get("client") or {}).get("required"))]
    tracks = (("privacy_mark", (("review body: final report", "final_required"),
                                ("review body: preliminary report", "preliminary_required"))),
              ("my_number", (("My Number report to the PPC", "report_required"),)),
              ("gdpr", (("GDPR: report to the supervisory authority", "report_required"),
                        ("GDPR: notice to the controller", "controller_notice_required"),
                        ("GDPR: notice to the persons (high risk)", "persons_notice_required"))),
              ("sector", (("sector report", "report_required"),)))
    for track, duties in tracks:
        found = a.get(track) or {}
        if found.get("applies"):
            rows += [(label, found.get(key)) for label, key in duties]
    return rows


def _assessment(case: dict, lang: str) -> list[Line]:
    a = case.get("assessment")
    if not a:
        return [heading("Legal assessment"), ("  not assessed yet",)]
    held = [trigger_words(t, lang) for t in a.get("triggers") or []]
    open_ = [trigger_words(t, lang) for t in a.get("triggers_undetermined") or []]
    lines = [heading("Legal assessment"),
             ("  triggers      ", Painted("; ".join(held) or "none", fg="red" if held else None))]
    if open_:
        lines.append(("  undetermined  ", Painted("; ".join(open_), fg="yellow")))
    for key, said in (("not_a_leak", "not a leak (recovered unread, confirmed)"),
                      ("exempt_by_encryption", "exempt: strong encryption, key safe (confirmed)"),
                      ("released_to_client", "released: the client (委託元) was notified")):
        if a.get(key):
            lines.append((f"  {said}",))
    lines.append(("  required",))
    for label, value in _required(a):
        word, fg = SAID[value]
        lines.append((f"    {pad(label, 46)} ", Painted(word, fg=fg)))
    lines.append(("  why",))
    lines += [(Painted(f"    {one_line(reason)}", dim=True),) for reason in a.get("reasons") or []]
    questions = a.get("open_questions") or []
    if questions:
        lines.append(heading("Open questions"))
        lines += [("  ", Painted("?", fg="yellow", bold=True), f" {one_line(q)}") for q in questions]
    return lines


def close_command(case_id: str, phase: str, step: str | None, you: str) -> str:
    where = f"{phase} --step {step}" if step else phase
    return f'leakline phase close {case_id} {where} --note "..." --by {you}'


def _phases(case: dict, tz, you: str) -> list[Line]:
    lines = [heading("Phases")]
    for phase in case.get("phases") or []:
        lines.append((f"  {phase['id']:<15} ", status(phase["status"]), _settled(phase, tz)))
        if not phase["steps"] and phase["status"] == "open":
            command = (f"leakline cases ack {case['id']} --by {you}" if phase["id"] == "report"
                       else close_command(case["id"], phase["id"], None, you))
            lines.append((Painted(f"      {command}", fg="cyan"),))
        waiting = None
        for step in phase["steps"]:
            lines += _step(case["id"], phase["id"], step, tz, you, waiting)
            if phase["id"] in ORDERED and step["status"] in ("open", "pending") and waiting is None:
                waiting = step["id"]
    return lines


def _settled(item: dict, tz) -> str:
    if item["status"] in ("closed", "skipped"):
        note = f": {one_line(item.get('note'), 60)}" if item.get("note") else ""
        return f"  by {item.get('closed_by')} at {when(item.get('closed_at'), tz)}{note}"
    if item.get("reason") and item["status"] != "open":
        return f"  {one_line(item['reason'], 90)}"
    return ""


def _step(case_id: str, phase: str, step: dict, tz, you: str, waiting: str | None) -> list[Line]:
    optional = ", optional" if step.get("optional") and step["status"] == "open" else ""
    lines: list[Line] = [(f"    {step['id']:<24}", status(step["status"]), optional, _settled(step, tz))]
    if step["status"] not in ("open", "pending"):
        return lines
    if waiting:
        lines.append((Painted(f"      after {phase}.{waiting}", dim=True),))
        return lines
    extra = " (or --skip)" if step.get("optional") else ""
    lines.append((Painted(f"      {close_command(case_id, phase, step['id'], you)}", fg="cyan"), extra))
    return lines


def left(days: int) -> str:
    if days < 0:
        return f"overdue by {-days} day{'s' if days < -1 else ''}"
    if days == 0:
        return "due today"
    return f"{days} day{'s' if days > 1 else ''} left"


def _deadlines(case: dict, now: datetime, tz) -> list[Line]:
    lines = [heading("Deadlines")]
    shown_any = False
    for stored in case.get("deadlines") or []:
        current = refreshed(stored, now=now, tz=tz)
        if current["status"] == "not_applicable":
            continue
        shown_any = True
        due = str(current["due"])
        day = due[:10] + (f" {when(due, tz)[11:]}" if "T" in due else "")
        if current["status"] in ("done", "skipped"):
            lines.append((f"  {current['kind']:<24} {day:<21} ", status(current["status"])))
            continue
        n = days_left(current, now=now, tz=tz)
        lines.append((f"  {current['kind']:<24} {day:<21} ",
                      Painted(left(n), fg="red" if n <= 0 else "yellow" if n <= 2 else None),
                      f"  ({current['status']})"))
    if not shown_any:
        lines.append(("  none",))
    return lines


def _notes(case: dict, tz) -> list[Line]:
    lines: list[Line] = []
    if case.get("notes"):
        lines.append(heading("Notes"))
        lines += [(f"  {when(n['at'], tz)}  {n['by']}: {one_line(n['text'])}",) for n in case["notes"]]
    if case.get("drafts"):
        lines.append(heading("Saved drafts"))
        lines += [(f"  {when(d['saved_at'], tz)}  {d['kind']} ({d['stage']}, {d['lang']}) by "
                   f"{d['saved_by']}  sha256 {d['sha256'][:16]}…",) for d in case["drafts"]]
    return lines


def _messages(case: dict, tz, full: bool) -> list[Line]:
    messages = case.get("messages") or []
    lines = [heading(f"Messages ({len(messages)})" + ("" if full else "   (--full shows the bodies)"))]
    for message in messages:
        inbound = message.get("direction", "in") == "in"
        who = message.get("from") if inbound else "to " + ", ".join(message.get("to") or [])
        kind = message.get("kind") or ""
        if not inbound and message.get("status"):
            kind += f" ({message['status']})"
        lines.append((f"  {'in ' if inbound else 'out'}  {when(message.get('received_at'), tz)}  "
                      f"{pad(one_line(who, 34), 34)}  {kind:<20}  {one_line(message.get('subject'), 70)}",))
        if full:
            lines += [(f"      | {line}",) for line in (message.get("text") or "").splitlines()]
            lines += [(f"      attachment: {a.get('filename')} ({a.get('content_type')}, {a.get('size')} bytes)",)
                      for a in message.get("attachments") or []]
            lines += [(f"      forwarded: {f.get('from')} / {one_line(f.get('subject'))}",)
                      for f in message.get("forwarded") or []]
    return lines
