"""Issue 14 and the data_dirs that exist: a single-organisation config keeps today's layout (its
store at the root of data_dir); moving to [[organizations]] gives that store to one organisation
with `leakline org adopt ID`, ids, audit chain and the Message-ID key unchanged."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from clock import Clock
from conftest import make_config
from leakline.app import App, DataDirError
from leakline.cli import main
from leakline.config import load
from leakline.orgs import SERVICE_NAMES
from test_flow_harness import REPORTER, REPORTER_FROM, Flow, report, reply_to, to_addr

# The store's, at the root (keys.sqlite, with its -wal and -shm while open: issue 13).
TODAY = {"cases", "index", "keys.sqlite", "raw", "seq", "audit", "secret"}
SQLITE_SIDES = {"keys.sqlite-wal", "keys.sqlite-shm"}


def run(path, *args):
    return CliRunner().invoke(main, ["--config", str(path), *args], env={})


def single_org_service(tmp_path):
    """A data_dir as the single-organisation config of today leaves it, with mail sent."""
    config = make_config(tmp_path / "data")
    flow = Flow(config, Clock())
    sent = flow.run(report())
    (guidance,) = to_addr(sent, REPORTER)
    return flow, guidance


def several(tmp_path, data_dir, prefix: str = "INC") -> object:
    """The same service converted to [[organizations]]: the old organisation is `acme`."""
    path = tmp_path / "many.toml"
    path.write_text(f'''
[service]
data_dir = "{data_dir}"

[[organizations]]
id = "acme"
name = "テスト株式会社"
incident_address = "incident@example.com"
domains = ["example.com"]
case_prefix = "{prefix}"
[[organizations.managers]]
email = "privacy@example.com"
role = "privacy_officer"
[[organizations.managers]]
email = "boss@example.com"
role = "supervisor"
covers = ["*@sales.example.com"]

[[organizations]]
id = "globex"
name = "Globex"
incident_address = "incident@globex.example.com"
domains = ["globex.example.com"]
language = "en"
[[organizations.managers]]
email = "dpo@globex.example.com"
role = "privacy_officer"
''', encoding="utf-8")
    return path


def test_a_single_organisation_config_keeps_todays_layout(tmp_path):
    flow, _ = single_org_service(tmp_path)
    root = flow.config.service.data_dir
    assert TODAY <= {p.name for p in root.iterdir()}
    assert not (root / "orgs").exists()
    assert {p.name for p in root.iterdir()} <= \
        TODAY | SERVICE_NAMES | SQLITE_SIDES | {"machine", "quarantine"}
    path = tmp_path / "c.toml"
    path.write_text(f'[service]\ndata_dir = "{root}"\n', encoding="utf-8")
    listed = json.loads(run(path, "cases", "list", "--status", "all", "--json").output)
    assert [(r["id"], r["org"]) for r in listed] == [("INC-2026-0001", "default")]
    assert run(path, "--org", "default", "audit", "verify").exit_code == 0
    assert run(path, "--org", "other", "cases", "list").exit_code == 1


def test_moving_to_organisations_waits_for_adopt_then_everything_carries_on(tmp_path):
    flow, guidance = single_org_service(tmp_path)
    root = flow.config.service.data_dir
    for record in (root / "outbox").rglob("*.json"):  # as queued before organisations existed
        data = json.loads(record.read_text())
        data.pop("org", None)
        record.write_text(json.dumps(data))
    path = several(tmp_path, root)
    refused = run(path, "--org", "acme", "cases", "list")
    assert refused.exit_code == 1 and "leakline org adopt ID" in refused.output
    with pytest.raises(DataDirError):
        App(load(path)).prepare()  # serve and ingest refuse too: the cases would be nobody's

    adopted = run(path, "org", "adopt", "acme", "--by", "admin@example.net")
    assert adopted.exit_code == 0, adopted.output
    assert not (root / "cases").exists() and (root / "orgs" / "acme" / "cases").is_dir()
    listed = json.loads(run(path, "--org", "acme", "cases", "list", "--status", "all", "--json").output)
    assert [(r["id"], r["org"]) for r in listed] == [("INC-2026-0001", "acme")]
    assert json.loads(run(path, "--org", "globex", "cases", "list", "--json").output) == []
    verify = run(path, "--org", "acme", "audit", "verify")
    assert verify.exit_code == 0, verify.output
    # Mail queued before: attributed by its case id's prefix to the organisation that has it.
    sent = json.loads(run(path, "--org", "acme", "outbox", "list", "--sent", "--json").output)
    assert sent and {r["case_id"] for r in sent} == {"INC-2026-0001"}
    assert json.loads(run(path, "--org", "globex", "outbox", "list", "--sent", "--json").output) == []
    log = json.loads(run(path, "org", "log", "--json").output)
    assert [(e["action"], e["org"]) for e in log] == [("org_adopted", "acme")]
    assert run(path, "org", "adopt", "globex").exit_code == 1  # nothing left to adopt

    # The reporter answers the guidance sent before the move: the Message-ID key moved with the
    # store, so the reply is still ours, lands on its case, and its facts are taken.
    app = App(load(path), now=flow.clock)
    app.prepare()
    app.spool.write([(reply_to(guidance, "人数: 約40名\n", sender=REPORTER_FROM,
                               message_id="<after-adopt@sales.example.com>"),
                      {"mail_from": REPORTER, "rcpt_tos": ["incident@example.com"], "peer": "127.0.0.1",
                       "received_at": flow.clock().isoformat()})])
    app.pipeline.drain()
    case = app.tenant("acme").store.get("INC-2026-0001")
    assert case["facts"]["persons"]["value"] == 40 and case["facts"]["persons"]["source"] == "reply"
    assert app.tenant("acme").store.summaries("all")[0]["id"] == "INC-2026-0001"


def test_adopt_refuses_an_organisation_that_has_data(tmp_path):
    flow, _ = single_org_service(tmp_path)
    root = flow.config.service.data_dir
    path = several(tmp_path, root)
    (root / "orgs" / "globex" / "cases").mkdir(parents=True)
    result = run(path, "org", "adopt", "globex")
    assert result.exit_code == 1 and "has data already" in result.output
    assert (root / "cases").is_dir()  # nothing moved


def test_purge_of_the_only_organisation_empties_the_root_store_and_keeps_the_service(tmp_path):
    flow, _ = single_org_service(tmp_path)
    root = flow.config.service.data_dir
    path = tmp_path / "c.toml"
    path.write_text(f'[service]\ndata_dir = "{root}"\n', encoding="utf-8")
    result = run(path, "org", "purge", "default", "--confirm", "default")
    assert result.exit_code == 0, result.output
    assert not (TODAY & {p.name for p in root.iterdir()})
    assert (root / "spool").is_dir() and (root / "service-log.jsonl").exists()
    assert not list((root / "mail-out" / "new").iterdir())
    assert json.loads(run(path, "cases", "list", "--json").output) == []
    assert [e["action"] for e in json.loads(run(path, "org", "log", "--json").output)] == ["org_purged"]
