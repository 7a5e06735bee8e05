"""Issue 14 from the command line: --org (or $LEAKLINE_ORG) scopes every case command to one
organisation, which sees nothing of the other; `org list|export|purge|log` are the service's."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from clock import Clock
from leakline.casecheck import check_cases
from leakline.cli import main
from orgs_helpers import (
    ACME_IN, GLOBEX_IN, JANE, TARO, OrgFlow, acme_report, copy_tree_text, globex_report, leaks,
    org_of_mail, readable, write_config,
)
from leakline.store.cases import Store

PO = {"acme": "privacy@acme.example.jp", "globex": "dpo@globex.example.com"}


def run(path, *args, env=None):
    return CliRunner().invoke(main, ["--config", str(path), *args], env=env or {})


def _service(tmp_path) -> OrgFlow:
    """Both organisations with one case each, their mail delivered."""
    flow = OrgFlow(write_config(tmp_path), Clock())
    flow.receive(acme_report(), [ACME_IN], TARO)
    flow.receive(globex_report(), [GLOBEX_IN], JANE)
    flow.run()
    return flow


@pytest.fixture
def service(tmp_path) -> OrgFlow:
    return _service(tmp_path)


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> OrgFlow:
    """The same, for the tests that only read."""
    return _service(tmp_path_factory.mktemp("orgs"))


def test_with_two_organisations_a_case_command_needs_one(shared):
    result = run(shared.path, "cases", "list")
    assert result.exit_code == 1
    assert "2 organisations are configured (acme, globex)" in result.output and "--org" in result.output
    unknown = run(shared.path, "--org", "acm", "cases", "list")
    assert unknown.exit_code == 1 and "no organisation 'acm'; did you mean acme?" in unknown.output
    for args in (["deadlines"], ["outbox", "list"], ["audit", "verify"], ["purge", "--dry-run"],
                 ["report", "ACME-2026-0001", "--kind", "ppc_preliminary"]):
        assert run(shared.path, *args).exit_code == 1, args


@pytest.mark.parametrize("how", ["before", "after", "env"])
def test_org_before_or_after_the_subcommand_or_from_the_environment(shared, how):
    args = {"before": ["--org", "globex", "cases", "list", "--json"],
            "after": ["cases", "list", "--json", "--org", "globex"],
            "env": ["cases", "list", "--json"]}[how]
    result = run(shared.path, *args, env={"LEAKLINE_ORG": "globex"} if how == "env" else None)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["id"], r["org"]) for r in rows] == [("GLX-2026-0001", "globex")]
    # The option after the subcommand wins over the environment.
    override = run(shared.path, "cases", "list", "--json", "--org", "acme", env={"LEAKLINE_ORG": "globex"})
    assert [r["id"] for r in json.loads(override.output)] == ["ACME-2026-0001"]


@pytest.mark.parametrize("args", [
    ["cases", "show", "{other}"], ["cases", "show", "{other}", "--json"], ["audit", "show", "{other}"],
    ["cases", "ack", "{other}", "--by", "{po}"], ["cases", "note", "{other}", "--text", "x", "--by", "{po}"],
    ["report", "{other}", "--kind", "ppc_preliminary"], ["phase", "close", "{other}", "containment",
                                                          "--note", "x", "--by", "{po}"],
    ["cases", "merge", "{mine}", "{other}", "--by", "{po}"], ["cases", "merge", "{other}", "{mine}", "--by", "{po}"],
    ["audit", "export", "{other}", "--out", "{tmp}"],
])
def test_the_other_organisations_case_id_is_no_such_case(shared, args, tmp_path):
    for org, other in (("acme", "GLX-2026-0001"), ("globex", "ACME-2026-0001")):
        mine = {"acme": "ACME-2026-0001", "globex": "GLX-2026-0001"}[org]
        filled = [a.format(other=other, mine=mine, po=PO[org], tmp=tmp_path / "out") for a in args]
        result = run(shared.path, "--org", org, *filled)
        assert result.exit_code == 1
        assert f"no such case {other}" in result.output, result.output


def test_every_output_of_one_organisation_is_free_of_the_other(shared):
    for org, case_id in (("acme", "ACME-2026-0001"), ("globex", "GLX-2026-0001")):
        outputs = []
        for args in (["cases", "list"], ["cases", "list", "--json"], ["cases", "show", case_id],
                     ["cases", "show", case_id, "--full"], ["cases", "show", case_id, "--json"],
                     ["deadlines"], ["deadlines", "--json"], ["outbox", "list", "--sent", "--json"],
                     ["audit", "show", case_id], ["audit", "verify"], ["cases", "list", "--machine"]):
            result = run(shared.path, "--org", org, *args)
            assert result.exit_code == 0, (args, result.output)
            outputs.append(result.output)
        shown = json.loads(run(shared.path, "--org", org, "cases", "show", case_id, "--json").output)
        assert shown["org"] == org and shown["id"] == case_id
        sent = json.loads(run(shared.path, "--org", org, "outbox", "list", "--sent", "--json").output)
        assert sent and {r["org"] for r in sent} == {org} and {r["case_id"] for r in sent} == {case_id}
        assert not leaks("\n".join(outputs), org), org


def test_report_drafts_carry_their_own_organisation(shared):
    acme = run(shared.path, "--org", "acme", "report", "ACME-2026-0001", "--kind", "ppc_preliminary")
    assert acme.exit_code == 0 and "株式会社アクメ" in acme.output and "丸の内" in acme.output
    assert not leaks(acme.output, "acme")
    globex = run(shared.path, "--org", "globex", "report", "GLX-2026-0001", "--kind", "ppc_preliminary",
                 "--lang", "en")
    assert globex.exit_code == 0 and "Globex Trading K.K." in globex.output
    assert not leaks(globex.output, "globex")
    review = run(shared.path, "--org", "globex", "report", "GLX-2026-0001", "--kind", "review_body")
    assert review.exit_code == 1 and "does not apply" in review.output  # no Privacy Mark
    assert run(shared.path, "--org", "acme", "report", "ACME-2026-0001", "--kind",
               "review_body").exit_code == 0


def test_org_list(shared):
    rows = json.loads(run(shared.path, "org", "list", "--json").output)
    assert [(r["id"], r["case_prefix"], r["language"], r["privacy_mark"], r["has_data"])
            for r in rows] == [("acme", "ACME", "ja", True, True), ("globex", "GLX", "en", False, True)]
    assert rows[1]["templates_dir"].endswith("globex-templates") and rows[1]["schema"] == 1
    text = run(shared.path, "org", "list").output
    assert "incident@acme.example.jp" in text and "Globex Trading K.K." in text


def test_service_commands_need_no_org(shared):
    assert run(shared.path, "spool", "list").exit_code == 0
    check = run(shared.path, "store", "check")
    assert check.exit_code == 0, check.output
    assert "acme: store is sound" in check.output and "globex: store is sound" in check.output
    assert run(shared.path, "store", "check", "--org", "globex").output.startswith("globex: store is sound")


def test_a_cli_action_mails_only_its_organisation(service):
    result = run(service.path, "--org", "globex", "phase", "skip", "GLX-2026-0001", "authorities",
                 "--step", "ppc_preliminary", "--reason", "the client reports it", "--by", PO["globex"])
    assert result.exit_code == 0, result.output
    service.clock.t = datetime.now(timezone.utc)  # the CLI queued it at the real time
    asyncio.run(service.app.sender.run_once())
    (alert,) = service.new_mail()
    assert org_of_mail(alert) == "globex" and alert.to == [PO["globex"]]
    assert not leaks(readable(alert), "globex")
    assert run(service.path, "--org", "acme", "cases", "ack", "ACME-2026-0001",
               "--by", PO["acme"]).exit_code == 0
    assert run(service.path, "--org", "acme", "cases", "ack", "ACME-2026-0001",
               "--by", PO["globex"]).exit_code == 1  # not a manager of this organisation


def test_export_is_everything_of_one_organisation_and_nothing_of_the_other(service, tmp_path):
    out = tmp_path / "acme-export"
    result = run(service.path, "org", "export", "acme", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "verified" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["org"] == "acme" and manifest["audit"]["ok"] and manifest["audit"]["cases"] == 1
    for rel, entry in manifest["files"].items():
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == entry["sha256"], rel
    assert not (out / "data" / "secret").exists()  # the Message-ID key stays with the service
    assert not leaks(copy_tree_text(out), "acme")
    assert "顧客名簿" in copy_tree_text(out / "data" / "raw")
    # The copy is a store leakline can open: its audit chain and case files verify there.
    copy = Store(out / "data", "ACME")
    assert copy.audit.verify().ok and [r["id"] for r in copy.summaries()] == ["ACME-2026-0001"]
    assert check_cases(copy.data_dir, copy.audit.events()).ok
    assert {r["org"] for r in json.loads((out / "outbox.json").read_text())} == {"acme"}
    assert run(service.path, "org", "export", "acme", "--out", str(out)).exit_code == 1  # not empty


def test_purge_of_one_leaves_the_other_whole_and_verifiable(service):
    before = [s for s in service.delivered() if org_of_mail(s) == "acme"]
    refused = run(service.path, "org", "purge", "globex", "--confirm", "acme")
    assert refused.exit_code == 1 and (service.data_dir / "orgs" / "globex").is_dir()
    result = run(service.path, "org", "purge", "globex", "--confirm", "globex", "--by", "admin@example.net")
    assert result.exit_code == 0, result.output
    assert not (service.data_dir / "orgs" / "globex").exists()
    assert [org_of_mail(s) for s in service.delivered()] == ["acme"] * len(before)
    assert all(r.get("org") == "acme" for r in service.app.outbox.list_sent())
    verify = run(service.path, "--org", "acme", "audit", "verify")
    assert verify.exit_code == 0 and "case files agree" in verify.output
    assert [r["id"] for r in json.loads(run(service.path, "--org", "acme", "cases", "list",
                                             "--json").output)] == ["ACME-2026-0001"]
    log = json.loads(run(service.path, "org", "log", "--json").output)
    assert [(e["action"], e["org"], e["actor"]) for e in log] == [("org_purged", "globex", "admin@example.net")]
    assert log[0]["details"]["audit_events"] > 0 and len(log[0]["details"]["audit_head"]) == 64
    assert "still configured" in result.output


def test_purge_and_adopt_refuse_while_serve_runs(service):
    from leakline.servelock import ServeLock

    lock = ServeLock(service.data_dir)
    lock.acquire()
    try:
        result = run(service.path, "org", "purge", "globex", "--confirm", "globex")
        assert result.exit_code == 1 and "already running" in result.output
    finally:
        lock.release()
    assert (service.data_dir / "orgs" / "globex").is_dir()


def test_init_orgs_writes_the_two_organisation_sample(tmp_path):
    from leakline.config import load

    target = tmp_path / "many.toml"
    assert CliRunner().invoke(main, ["init", "--orgs", str(target)]).exit_code == 0
    config = load(target)
    assert config.organizations.ids() == ["acme", "globex"] and config.org_subtrees
    single = tmp_path / "one.toml"
    assert CliRunner().invoke(main, ["init", str(single)]).exit_code == 0
    assert not load(single).org_subtrees and load(single).organizations.ids() == ["default"]


def test_an_alert_of_a_newly_required_report_goes_to_its_own_organisation(service):
    from orgs_helpers import mail

    service.receive(mail("Wrong recipient", "I sent one customer's name to a colleague by mistake.",
                         sender=f"Jane Doe <{JANE}>", to=[GLOBEX_IN], message_id="<g-3@globex.example.com>"),
                    [GLOBEX_IN], JANE)
    service.run()
    assert run(service.path, "--org", "globex", "cases", "assess", "GLX-2026-0002", "--sensitive",
               "--evidence", "a medical note was attached", "--by", PO["globex"]).exit_code == 0
    service.clock.t = datetime.now(timezone.utc)
    asyncio.run(service.app.sender.run_once())
    alerts = [s for s in service.new_mail() if "now required" in s.subject]
    assert alerts and {(org_of_mail(a), tuple(a.to)) for a in alerts} == {("globex", (PO["globex"],))}
    assert not any(leaks(readable(a), "globex") for a in alerts)


def test_a_templates_dir_overrides_report_drafts_by_name_for_its_organisation_only(service):
    from leakline.templates import TEMPLATE_DIR

    target = service.path.parent / "globex-templates" / "en" / "report.txt.j2"
    target.write_text("GLOBEX DRAFT HEADER\n" + (TEMPLATE_DIR / "en" / "report.txt.j2").read_text(
        encoding="utf-8"), encoding="utf-8")
    globex = run(service.path, "--org", "globex", "report", "GLX-2026-0001", "--kind", "ppc_preliminary",
                 "--lang", "en")
    assert globex.exit_code == 0 and globex.output.startswith("GLOBEX DRAFT HEADER")
    acme = run(service.path, "--org", "acme", "report", "ACME-2026-0001", "--kind", "ppc_preliminary",
               "--lang", "en")
    assert acme.exit_code == 0 and "GLOBEX DRAFT HEADER" not in acme.output
