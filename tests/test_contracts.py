"""docs/CONTRACTS.md says which keys each JSON command prints: checked against the real output,
with instants in the service's zone and a schema version in every object."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest

from leakline.errorlog import ErrorFile
from leakline.delivery.mailer import record_delivery
from test_cli_process import cli, make_env

DOC = Path(__file__).resolve().parent.parent / "docs" / "CONTRACTS.md"
LINE = re.compile(r"^    ([a-z][a-z -]*?(?:ID )?[a-z -]*--json[a-z -]*) \| (\S+) \| (.+)$")
INSTANT_KEYS = {"received_at", "closed_at", "at", "saved_at", "sent_at", "failed_at", "created_at",
                "next_attempt_at", "officer_at"}


def documented() -> list[tuple[str, str, set[str], set[str]]]:
    """(command, path, required keys, optional keys) for each keys line of the contract."""
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = LINE.match(line)
        if match:
            keys = [k.strip() for k in match.group(3).split(",")]
            rows.append((match.group(1), match.group(2), {k for k in keys if not k.endswith("?")},
                         {k.rstrip("?") for k in keys if k.endswith("?")}))
    return rows


def test_the_contract_lists_every_json_command():
    commands = {command for command, _, _, _ in documented()}
    assert commands == {"cases list --json", "cases show ID --json", "deadlines --json",
                        "outbox list --json", "outbox list --failed --json", "outbox list --sent --json",
                        "audit show ID --json", "org list --json", "status --json"}


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    """One case with every kind of record: messages in and out (one failed), facts, an ack, a
    closed step, a note, a saved draft; the outbox with queued, sent and failed messages."""
    tmp = tmp_path_factory.mktemp("contracts")
    path, app, case_id = make_env(tmp)
    po = ["--by", "po@example.com"]
    for args in (["cases", "assess", case_id, "--sensitive", "--persons", "1500", *po],
                 ["cases", "ack", case_id, *po], ["phase", "close", case_id, "containment", "--note", "done", *po],
                 ["cases", "note", case_id, "--text", "called", *po],
                 ["report", case_id, "--kind", "ppc_preliminary", "--save", *po]):
        assert cli(path, *args).exit_code == 0, args
    queued = app.outbox.list()
    app.outbox.mark_sent(queued[0]["id"])
    app.outbox.mark_failed(queued[1]["id"], "550 5.1.1 no such user")
    record_delivery(app.store, case_id, queued[1]["id"], "failed", "550 5.1.1 no such user")
    # What a serve process logged (status shows the last error; tests/test_status.py makes one
    # through a real serve).
    ErrorFile(app.data_dir, "intake").emit(logging.LogRecord(
        "leakline.pipeline", logging.ERROR, __file__, 1, "shunted %s", ("s.0",), None))
    return path, case_id


def objects(value, path: str) -> list[dict]:
    """The objects at `path` (".", "[]", ".messages[]", ".facts.*", ".phases[].steps[]")."""
    found = [value]
    for part in re.findall(r"\[\]|\.\*|\.[a-z_]+", path if path != "." else ""):
        if part == "[]":
            found = [item for f in found for item in f]
        elif part == ".*":
            found = [item for f in found for item in f.values()]
        else:
            found = [f[part[1:]] for f in found]
    flat = []
    for item in found:
        flat += item if isinstance(item, list) else [item]
    return flat


@pytest.mark.parametrize("command, path, required, optional", documented(),
                         ids=[f"{c} {p}" for c, p, _, _ in documented()])
def test_documented_keys_match_the_real_output(populated, command, path, required, optional):
    config, case_id = populated
    result = cli(config, *command.replace("ID", case_id).split())
    # status exits 1 here: no serve listens (and the case's deadlines are past).
    assert result.exit_code == (1 if command.startswith("status") else 0), result.output
    found = objects(json.loads(result.output), path)
    assert found, f"{command} {path}: nothing to check"
    seen = set()
    for obj in found:
        keys = set(obj)
        seen |= keys
        assert required <= keys, f"{command} {path}: missing {sorted(required - keys)}"
        assert keys <= required | optional, f"{command} {path}: undocumented {sorted(keys - required - optional)}"
    assert optional <= seen, f"{command} {path}: documented but never seen {sorted(optional - seen)}"


def instants(value, key=None):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from instants(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from instants(v, key)
    elif key in INSTANT_KEYS and isinstance(value, str) and "T" in value:
        yield key, value


@pytest.mark.parametrize("command", ["cases list --json", "cases show ID --json", "deadlines --json",
                                     "outbox list --json", "outbox list --failed --json",
                                     "outbox list --sent --json"])
def test_instants_are_in_the_service_zone_and_every_object_has_a_schema(populated, command):
    config, case_id = populated
    printed = json.loads(cli(config, *command.replace("ID", case_id).split()).output)
    for key, value in instants(printed):
        assert value.endswith("+09:00"), (key, value)  # stored in UTC or JST alike
    for obj in printed if isinstance(printed, list) else [printed]:
        assert obj["schema"] == 1
    fact = json.loads(cli(config, "cases", "show", case_id, "--json").output)["facts"]["discovered_at"]
    assert fact["value"] == "2026-03-05T10:00:00+09:00"


def test_audit_events_are_printed_as_chained(populated):
    """Their hash covers every key: adding `schema` or converting `at` would break it."""
    from leakline.store.audit import event_hash

    config, case_id = populated
    events = json.loads(cli(config, "audit", "show", case_id, "--json").output)
    assert events and all(event_hash(e) == e["hash"] for e in events)
