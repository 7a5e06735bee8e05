"""Issue 12, the officer's dashboard: `cases show` and `cases list` through the real CLI."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from leakline.listing import mark_updated
from mailbuilders import plain_mail
from leakline.store.spool import SpoolEntry
from test_cli_process import ORGANIZATION, cli, make_env, show

WORKTREE = Path(__file__).resolve().parent.parent
PO = ["--by", "po@example.com"]
JST = timezone(timedelta(hours=9))


@pytest.fixture
def env(tmp_path):
    return make_env(tmp_path)


def take_in(app, raw: bytes, mail_from: str = "taro@example.com", at: datetime | None = None) -> dict:
    """One message through intake and the responders, as the worker does."""
    at = at or datetime.now(timezone.utc)
    spool_id = f"t.{at.timestamp()}"
    result = app.intake.process(SpoolEntry(spool_id, {"spool_id": spool_id, "mail_from": mail_from,
                                                      "peer": "127.0.0.1",
                                                      "received_at": at.isoformat()}, raw))
    app.responder(result)
    return result.case


HEADINGS = ("Facts", "Legal assessment", "Open questions", "Phases", "Deadlines", "Notes")


def sections(text: str) -> list[str]:
    return [line for line in text.splitlines() if line in HEADINGS or line.startswith("Messages (")]


def test_show_puts_what_the_officer_must_know_and_do_first(env):
    path, _, case_id = env
    assert cli(path, "cases", "assess", case_id, "--persons", "1500", "--estimated", "--evidence",
               "社内調査で名簿を確認", *PO).exit_code == 0
    out = cli(path, "cases", "show", case_id, env={"LEAKLINE_USER": "po@example.com"}).output
    # the initial escalation and guidance, and the alert that the PPC report became required
    assert sections(out) == ["Facts", "Legal assessment", "Open questions", "Phases", "Deadlines",
                             "Messages (4)   (--full shows the bodies)"]
    # facts with source and evidence
    assert re.search(r"  persons\s+1500\s+admin po@example.com\s+「社内調査で名簿を確認」", out), out
    assert re.search(r"  category\s+misdirected_email\s+extracted\s+「(matched|model) ", out)
    assert "  not known: occurred_at," in out
    # the triggers in legal words, in the organisation's language (ja), and what is required
    assert "  triggers      規則第7条第4号（1,000人を超える漏えい等）" in out
    assert "規則第7条第1号（要配慮個人情報の漏えい等）" in out  # undetermined
    assert "T4" not in out.split("Legal assessment")[1].split("  why")[0]
    assert re.search(r"    report to 個人情報保護委員会\s+required\n", out)
    assert re.search(r"    notice to the client \(委託元\)\s+undetermined \(treated as due\)\n", out)
    assert "  ? T1 undetermined:" in out
    # each open step with the exact command that closes it
    assert ('      leakline phase close INC-2026-0001 authorities --step ppc_preliminary --note "..." '
            '--by po@example.com\n') in out
    assert '      leakline phase close INC-2026-0001 containment --note "..." --by po@example.com\n' in out
    assert "      leakline cases ack INC-2026-0001 --by po@example.com\n" in out
    assert "      after prevention.facts\n" in out  # cause cannot close before facts
    # deadlines: kind, YYYY-MM-DD, days left (learned 2026-03-05: long past)
    overdue = (datetime.now(JST).date() - date(2026, 3, 9)).days  # Japanese days
    assert re.search(rf"  ppc_preliminary\s+2026-03-09\s+overdue by {overdue} days", out), out
    assert re.search(r"  ppc_final\s+2026-04-03\s+overdue by \d+ days", out)
    assert "gdpr_72h" not in out.split("Deadlines")[1]  # not applicable: not listed
    # messages one line each: direction, time, from/to, kind, subject; bodies only with --full
    messages = out.split("Messages (4)")[1].splitlines()[1:]
    assert len(messages) == 4
    assert re.match(r"  in   2026-03-05 10:00 JST  taro@example.com\s+report\s+メール誤送信の報告$",
                    messages[0]), messages[0]
    assert re.match(r"  out  2026-\d\d-\d\d \d\d:\d\d JST  to taro@example.com\s+guidance \(queued\)\s+"
                    r"\[INC-2026-0001\]", messages[1]), messages[1]
    assert "顧客名簿（約120名分" not in out
    full = cli(path, "cases", "show", case_id, "--full").output
    assert "      | 本日、顧客名簿（約120名分" in full


def test_show_in_english_for_an_english_organisation_and_days_left(tmp_path):
    path, _, case_id = make_env(tmp_path, ORGANIZATION + 'language = "en"\n')
    today = datetime.now(JST).date()
    assert cli(path, "cases", "assess", case_id, "--sensitive", "--discovered-at", today.isoformat(),
               *PO).exit_code == 0
    out = cli(path, "cases", "show", case_id).output
    assert "  triggers      Enforcement Rules Art. 7(1) (sensitive personal information)" in out
    assert re.search(rf"  ppc_preliminary\s+{today + timedelta(days=4)}\s+4 days left", out), out
    assert "--by YOUR_EMAIL" in out  # nobody known: the placeholder


def ansi(text: str) -> bool:
    return "\x1b[" in text


def on_a_terminal(path: Path, args: list[str], extra_env: dict) -> str:
    """Run the CLI with its stdout on a pseudo-terminal; what it printed."""
    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(PYTHONPATH=str(WORKTREE), **extra_env)
    proc = subprocess.Popen([sys.executable, "-m", "leakline", "--config", str(path), *args],
                            stdout=terminal, stderr=subprocess.DEVNULL, env=env)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(60)
    os.close(controller)
    return b"".join(chunks).decode("utf-8", "replace")


def test_colour_only_on_a_terminal_and_never_with_no_color(env):
    path, _, case_id = env
    assert not ansi(cli(path, "cases", "show", case_id).output)  # a pipe: no colour
    assert not ansi(cli(path, "cases", "list").output)
    coloured = on_a_terminal(path, ["cases", "show", case_id], {})
    assert ansi(coloured) and "\x1b[31m" in coloured and "Deadlines" in coloured
    assert ansi(on_a_terminal(path, ["cases", "list"], {}))
    plain = on_a_terminal(path, ["cases", "show", case_id], {"NO_COLOR": "1"})
    assert "Deadlines" in plain and not ansi(plain)


def test_list_shows_ack_reportable_next_due_and_filters(env):
    path, app, first = env
    today = datetime.now(JST).date()
    second = take_in(app, plain_mail("FAX誤送信", "取引先1社分の情報をFAXで誤送信しました。",
                                     message_id="<fax-1@example.com>"))["id"]
    assert cli(path, "cases", "assess", second, "--persons", "1", "--no-sensitive", "--no-financial",
               "--no-entrusted", "--discovered-at", today.isoformat(), *PO).exit_code == 0
    assert cli(path, "cases", "ack", second, *PO).exit_code == 0
    out = cli(path, "cases", "list").output.splitlines()
    assert out[0].split() == ["CASE", "STATUS", "ACK", "PPC", "NEXT", "DUE", "RECEIVED", "REPORTER",
                              "SUBJECT"]
    row2, row1 = out[1], out[2]
    # no PPC report: the next due is the review body's final report, day 30
    assert re.match(rf"{second}\s+open\s+yes\s+no\s+{today + timedelta(days=29)} 29 days left", row2), row2
    assert re.match(rf"{first}\s+open\s+NO\s+\?\s+2026-03-09 overdue by \d+ days", row1), row1

    def ids(*flags):
        return [line.split()[0].rstrip("*") for line in cli(path, "cases", "list", *flags).output
                .splitlines()[1:] if line.startswith("INC-")]
    assert ids("--unacked") == [first]
    assert ids("--reportable") == [first]  # undetermined counts: the duty is treated as due
    assert ids("--overdue") == [first]
    assert ids("--updated") == []
    assert "no matching open cases" in cli(path, "cases", "list", "--updated").output


def test_updated_means_mail_since_an_officer_last_acted(env):
    path, app, case_id = env
    take_in(app, plain_mail(f"Re: [{case_id}] メール誤送信の報告", "追記です。相手先から削除の連絡がありました。",
                            message_id="<follow-1@example.com>"))
    listed = cli(path, "cases", "list", "--updated").output
    assert f"{case_id}*" in listed and "* new mail since an officer last acted" in listed
    assert "updated   new mail since an officer last acted" in cli(path, "cases", "show", case_id).output
    assert cli(path, "cases", "note", case_id, "--text", "read the follow-up", *PO).exit_code == 0
    assert case_id not in cli(path, "cases", "list", "--updated").output
    # the library marker (a follow-up to a closed case sets it), cleared by the next action
    app.store.update(case_id, lambda case: (mark_updated(case, "follow-up on a closed case",
                                                         "2026-12-01T10:00:00+09:00"),
                                            [{"action": "marked_updated", "details": {}}])[1])
    assert case_id in cli(path, "cases", "list", "--updated").output
    assert "(follow-up on a closed case)" in cli(path, "cases", "show", case_id).output
    assert show(path, case_id)["updated"] is True
    assert cli(path, "cases", "ack", case_id, *PO).exit_code == 0
    assert case_id not in cli(path, "cases", "list", "--updated").output
    assert show(path, case_id)["updated"] is False


@pytest.mark.parametrize("typed", ["inc-2026-1", "INC-2026-01", "Inc-2026-0001", " inc-2026-000001 "])
def test_case_ids_are_found_in_any_case_and_without_leading_zeros(env, typed):
    path, _, case_id = env
    result = cli(path, "cases", "show", typed, "--json")
    assert result.exit_code == 0, result.output
    assert show(path, typed)["id"] == case_id
    assert cli(path, "audit", "show", typed).exit_code == 0
    assert cli(path, "report", typed, "--kind", "review_body_final").exit_code == 0


def test_a_missing_case_says_where_the_ids_are(env):
    path, _, _ = env
    for args in (["cases", "show", "inc-2026-2"], ["cases", "ack", "inc-2026-2", *PO],
                 ["phase", "close", "inc-2026-2", "containment", "--note", "x", *PO],
                 ["report", "inc-2026-2", "--kind", "ppc_final"], ["cases", "note", "inc-2026-2",
                                                                   "--text", "x", *PO]):
        result = cli(path, *args)
        assert result.exit_code == 1
        assert result.output == "Error: no such case INC-2026-0002; `leakline cases list` shows the ids\n"


def test_an_index_written_before_the_listing_fields_is_read_from_the_cases(env):
    """Index rows of data stored before issue 12 lack ack, PPC and next due: read from the case."""
    from leakline.store.tinystore import read_tables, write_tables

    path, app, case_id = env
    shard = next(app.data_dir.glob("index/*/*.json"))
    tables = read_tables(shard)
    tables["cases"] = [{k: v for k, v in row.items() if k not in ("acked", "reportable", "next_due",
                                                                  "next_due_kind", "updated")}
                       for row in tables["cases"]]
    write_tables(shard, tables)
    (row,) = json.loads(cli(path, "cases", "list", "--json").output)
    assert row["acked"] is False and row["reportable"] is None and row["next_due"] == "2026-03-09"
    assert row["overdue"] is True
