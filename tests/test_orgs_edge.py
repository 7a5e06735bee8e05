"""Issue 14 at the edges: the listener's RCPT picks the organisation (550 otherwise, naming none),
`ingest` routes by recipient, and the config of several organisations is checked whole."""

from __future__ import annotations

import smtplib
import tomllib

import pytest
from click.testing import CliRunner

from conftest import RunningServer, wait_for
from leakline.app import App
from leakline.cli import main
from leakline.config import ConfigError, from_dict, load
from orgs_helpers import ACME_IN, GLOBEX_IN, TARO, acme_report, write_config


@pytest.fixture
def served(tmp_path):
    app = App(load(write_config(tmp_path)))
    srv = RunningServer(app)
    yield app, srv
    srv.stop()


def test_rcpt_picks_the_organisation_and_refuses_others_naming_none(served):
    app, srv = served
    assert "2 organisations (incident@acme.example.jp, incident@globex.example.com)" in srv.lines[0]
    with smtplib.SMTP(srv.host, srv.port, timeout=10) as client:
        client.ehlo()
        client.mail(TARO)
        code, text = client.rcpt("incident@other.example")
        assert code == 550 and b"acme" not in text and b"globex" not in text
        assert client.rcpt(ACME_IN)[0] == 250
        assert client.rcpt(GLOBEX_IN.upper())[0] == 250  # addresses in any case
        code, _ = client.data(acme_report(to=[ACME_IN, GLOBEX_IN]))
        assert code == 250
    acme = wait_for(lambda: app.tenant("acme").store.summaries("all"))
    globex = wait_for(lambda: app.tenant("globex").store.summaries("all"))
    assert [r["id"] for r in acme] == ["ACME-2026-0001"] and [r["id"] for r in globex] == ["GLX-2026-0001"]
    envelope = app.tenant("globex").store.get("GLX-2026-0001")["messages"][0]["envelope"]
    assert envelope["rcpt_tos"] == [ACME_IN, GLOBEX_IN.upper()]


def ingest(path, *args, env=None):
    return CliRunner().invoke(main, ["--config", str(path), "ingest", "-", *args],
                              input=acme_report(), env=env or {})


def test_ingest_routes_by_recipient(tmp_path):
    path = write_config(tmp_path)
    assert ingest(path, "--recipient", GLOBEX_IN).exit_code == 0
    assert ingest(path, env={"RECIPIENT": ACME_IN}).exit_code == 0
    app = App(load(path))
    app.prepare()
    app.pipeline.drain()
    assert [r["id"] for r in app.tenant("globex").store.summaries()] == ["GLX-2026-0001"]
    assert [r["id"] for r in app.tenant("acme").store.summaries()] == ["ACME-2026-0001"]


def test_ingest_for_no_organisation_is_refused_as_550_would_be_and_without_a_recipient_retried(tmp_path):
    path = write_config(tmp_path)
    refused = ingest(path, "--recipient", "incident@other.example")
    assert refused.exit_code == 67 and "no organisation has the address" in refused.output
    unknown = ingest(path)  # the MTA did not pass the recipient: fix it, the mail waits
    assert unknown.exit_code == 75 and "recipient" in unknown.output
    assert not App(load(path)).spool.segments()


def orgs_config(**overrides) -> dict:
    org = {"id": "acme", "name": "ACME", "incident_address": "incident@acme.example.jp",
           "domains": ["acme.example.jp"],
           "managers": [{"email": "po@acme.example.jp", "role": "privacy_officer"}]}
    return {"organizations": [{**org, **overrides}]}


def errors_of(raw: dict) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        from_dict(raw)
    return caught.value.errors


def test_one_organisation_in_organizations_form():
    config = from_dict(orgs_config())
    assert config.org_subtrees and config.org.case_prefix == "ACME"
    assert config.organization.name == "ACME" and config.managers[0].email == "po@acme.example.jp"
    hyphen = from_dict(orgs_config(id="acme-east"))
    assert hyphen.org.case_prefix == "ACMEEAST"


def test_every_error_of_the_organisations_at_once():
    raw = orgs_config()
    second = dict(raw["organizations"][0], id="Bad_Id", managers=[], mail_from="incident@acme.example.jp",
                  languag="en")
    del second["domains"]
    raw["organizations"].append(second)
    raw["service"] = {"case_prefix": "INC"}
    raw["organization"] = {"name": "x"}
    errors = errors_of(raw)
    for expected in ("organization: not together with [[organizations]]",
                     "service.case_prefix: set per organisation",
                     "organizations[1].id: 1 to 32 of a-z",
                     "organizations[1].domains: missing",
                     "organizations[1].managers: at least one",
                     "organizations[1].languag: unknown key; did you mean language?",
                     "organizations[1].incident_address: 'incident@acme.example.jp' is organizations[0]'s too",
                     "organizations[1].mail_from: 'incident@acme.example.jp' is the incident address"):
        assert any(e.startswith(expected) for e in errors), (expected, errors)


def test_service_defaults_and_per_organisation_keys():
    raw = orgs_config(retention_days=365)
    beta = {k: v for k, v in raw["organizations"][0].items() if k != "retention_days"}
    raw["organizations"].append(dict(beta, id="beta", incident_address="i@beta.example",
                                     case_prefix="BETA", ack_within_minutes=15))
    raw["service"] = {"retention_days": 3650}
    raw["escalation"] = {"ack_within_minutes": 45}
    config = from_dict(raw)
    acme, beta = config.for_org("acme"), config.for_org("beta")
    assert (acme.service.retention_days, acme.escalation.ack_within_minutes) == (365, 45)
    assert (beta.service.retention_days, beta.escalation.ack_within_minutes) == (3650, 15)
    assert beta.service.case_prefix == "BETA" and beta.from_address == "i@beta.example"
    assert config.own_addresses == {"incident@acme.example.jp", "i@beta.example"}


def test_the_two_organisation_sample_loads_and_each_is_sealed(tmp_path):
    from leakline.config import OrgScopeError, sample_text

    config = from_dict(tomllib.loads(sample_text("sample_orgs.toml")))
    with pytest.raises(OrgScopeError):
        config.managers_with("privacy_officer")  # several: nobody's managers by default
    globex = config.for_org("globex")
    assert [m.email for m in globex.managers_with("privacy_officer")] == ["dpo@globex.example.com"]
    assert not globex.organization.is_internal("taro@acme.example.jp")
    assert globex.organization.privacy_mark is False and config.for_org("acme").organization.privacy_mark


def test_a_missing_templates_dir_is_a_config_error(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[organization]\ntemplates_dir = "nowhere"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="organization.templates_dir: no such folder"):
        load(path)


def test_serve_of_two_organisations_says_so_and_takes_mail_for_each(tmp_path):
    from test_cli_running import start_serve, stop

    path = write_config(tmp_path)
    proc, first = start_serve(path, cwd=tmp_path)
    try:
        assert "listening" in first and "2 organisations" in first, first
        port = int(first.split("127.0.0.1:")[1].split(" ")[0])
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail(TARO, [ACME_IN, GLOBEX_IN], acme_report(to=[ACME_IN, GLOBEX_IN]))
        app = App(load(path))
        wait_for(lambda: app.tenant("globex").store.summaries("all"), timeout=30)
        wait_for(lambda: app.tenant("acme").store.summaries("all"), timeout=30)
    finally:
        out, err = stop(proc)
    assert "organisation: acme <incident@acme.example.jp> ACME, ja, 3 manager(s)" in out
    assert "organisation: globex <incident@globex.example.com> GLX, en, 2 manager(s)" in out
    assert "Traceback" not in err


def test_the_readme_sample_of_many_organisations_loads_as_it_says(tmp_path):
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Many organisations"):]
    toml = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    (tmp_path / "templates" / "globex" / "en").mkdir(parents=True)
    path = tmp_path / "leakline.toml"
    path.write_text(toml, encoding="utf-8")
    config = load(path)
    assert config.organizations.ids() == ["acme", "globex"]
    acme, globex = config.for_org("acme"), config.for_org("globex")
    assert (acme.service.case_prefix, acme.escalation.ack_within_minutes, acme.service.retention_days) \
        == ("ACME", 30, 1825)
    assert globex.from_address == "privacy-desk@globex.example.com"
    assert globex.organization.templates_dir == tmp_path / "templates" / "globex"
    assert config.own_addresses >= {"incident@acme.example.jp", "privacy-desk@globex.example.com"}


def test_serve_warns_of_a_domain_of_several_organisations_and_of_data_of_none(tmp_path):
    from leakline.startup import startup_warnings

    raw = orgs_config()
    raw["organizations"].append(dict(raw["organizations"][0], id="beta", case_prefix="BETA",
                                     incident_address="incident@beta.example"))
    raw["service"] = {"data_dir": str(tmp_path / "data")}
    (tmp_path / "data" / "orgs" / "gone").mkdir(parents=True)
    warnings = startup_warnings(from_dict(raw))
    assert any("acme.example.jp is in the domains of acme, beta" in w for w in warnings)
    assert any("orgs/gone holds the data of no configured organisation" in w for w in warnings)
