"""The service on the PostgreSQL store (issue 15): `db upgrade`, `ingest` (exit 75 while the
database is down, then recovers by itself), intake draining the shared spool, and `db copy`
from the file store to the database and back, verified."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from mailbuilders import iso2022jp_mail

pytestmark = pytest.mark.postgres


def write_config(tmp_path, data_dir, store: dict | None = None):
    path = tmp_path / f"c{len(list(tmp_path.glob('c*.toml')))}.toml"
    text = f'[service]\ndata_dir = "{data_dir}"\n'
    if store:
        text += "[store]\n" + "".join(f'{k} = "{v}"\n' for k, v in store.items())
    path.write_text(text, encoding="utf-8")
    return path


def leakline(config_path, *args, data: bytes = b""):
    return subprocess.run([sys.executable, "-m", "leakline", "--config", str(config_path), *args],
                          input=data, capture_output=True, timeout=120)


def mail(n: int) -> bytes:
    return iso2022jp_mail(f"【至急】誤送信 {n}", f"顧客リスト {n} 件を誤送信しました",
                          message_id=f"<pg{n}@example.com>")


def drain(config_path) -> int:
    from leakline.app import App
    from leakline.config import load

    app = App(load(config_path))
    app.prepare()
    return app.pipeline.drain()


def cases(config_path) -> list[dict]:
    from leakline.app import App
    from leakline.config import load

    return App(load(config_path)).store.summaries("all")


def test_db_upgrade_makes_the_schema_once_and_refuses_a_newer_one(pg_database, tmp_path):
    path = write_config(tmp_path, tmp_path / "data", pg_database.store_config())
    before = leakline(path, "ingest", "-", "--sender", "taro@example.com", data=mail(1))
    assert before.returncode == 75 and b"run `leakline db upgrade`" in before.stderr
    first = leakline(path, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert b"schema upgraded to version 1" in first.stdout
    again = leakline(path, "db", "upgrade")
    assert again.returncode == 0 and b"up to date" in again.stdout
    with pg_database.connect() as conn:
        conn.execute("UPDATE schema_version SET version = 999")
        conn.commit()
    newer = leakline(path, "db", "upgrade")
    assert newer.returncode == 1 and b"newer" in newer.stderr
    listing = leakline(path, "cases", "list")
    assert listing.returncode == 1 and b"newer" in listing.stderr


def test_ingest_exits_75_while_the_database_is_down_and_stores_once_it_is_back(
        pg_migrated, pg_cluster, tmp_path):
    path = write_config(tmp_path, tmp_path / "data", pg_migrated.store_config())
    pg_cluster.stop()
    try:
        down = leakline(path, "ingest", "-", "--sender", "taro@example.com", data=mail(1))
    finally:
        pg_cluster.start()
    assert down.returncode == 75, down.stderr
    assert b"could not store" in down.stderr
    for n in (1, 2):
        ok = leakline(path, "ingest", "-", "--sender", "taro@example.com", data=mail(n))
        assert ok.returncode == 0, ok.stderr
    # The same message again (the MTA's retry to another node): one case.
    assert leakline(path, "ingest", "-", "--sender", "taro@example.com", data=mail(2)).returncode == 0
    assert not list((tmp_path / "data").glob("spool/new/*"))  # in the database, not on this disk
    assert drain(path) == 3
    assert sorted(r["subject"] for r in cases(path)) == ["【至急】誤送信 1", "【至急】誤送信 2"]


def test_db_copy_moves_a_file_store_to_the_database_and_back_verified(
        pg_migrated, tmp_path):
    files = write_config(tmp_path, tmp_path / "data")
    for n in (1, 2, 3):
        assert leakline(files, "ingest", "-", "--sender", "taro@example.com",
                        data=mail(n)).returncode == 0
    assert drain(files) == 3
    assert leakline(files, "ingest", "-", "--sender", "jiro@example.com", data=mail(4)).returncode == 0
    before = cases(files)
    url = pg_migrated.url
    env = pg_migrated.password_env

    there = leakline(files, "db", "copy", "--from", str(tmp_path / "data"), "--to", url,
                     "--password-env", env)
    assert there.returncode == 0, there.stderr
    assert b"copy verified" in there.stdout and b"copied case: 3" in there.stdout
    assert b"copied spool: 1" in there.stdout  # the message not yet processed goes too
    assert re.search(rb"copied outbox: [1-9]", there.stdout)  # the replies, queued
    assert b"audit verify default: " in there.stdout

    on_pg = write_config(tmp_path, tmp_path / "node", pg_migrated.store_config())
    assert cases(on_pg) == before
    verify = leakline(on_pg, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    again = leakline(files, "db", "copy", "--from", str(tmp_path / "data"), "--to", url,
                     "--password-env", env)
    assert again.returncode == 1 and b"already holds data" in again.stderr

    back = leakline(files, "db", "copy", "--from", url, "--to", str(tmp_path / "back"),
                    "--password-env", env)
    assert back.returncode == 0, back.stderr
    assert b"copy verified" in back.stdout
    returned = write_config(tmp_path, tmp_path / "back")
    assert cases(returned) == before
    assert leakline(returned, "audit", "verify").returncode == 0
    assert drain(returned) == 1  # the spooled message, processed where it now lives
    assert len(cases(returned)) == 4
    listed = json.loads(leakline(returned, "outbox", "list", "--json").stdout or b"[]")
    assert isinstance(listed, list)


def test_organisations_on_one_database_stay_apart(pg_migrated, tmp_path):
    from orgs_helpers import ACME_IN, GLOBEX_IN, JANE, TARO
    from orgs_helpers import mail as org_mail
    from orgs_helpers import write_config as orgs_config

    path = orgs_config(tmp_path)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("\n[store]\n" + "".join(f'{k} = "{v}"\n'
                                          for k, v in pg_migrated.store_config().items()))
    for sender, to, n in ((TARO, ACME_IN, 1), (JANE, GLOBEX_IN, 2)):
        raw = org_mail("誤送信の報告", "顧客名簿を誤送信しました", sender=sender, to=[to],
                       message_id=f"<orgs{n}@example.com>")
        result = leakline(path, "ingest", "-", "--sender", sender, "--recipient", to, data=raw)
        assert result.returncode == 0, result.stderr
    assert drain(path) == 2
    for org, prefix in (("acme", "ACME"), ("globex", "GLX")):
        listed = leakline(path, "cases", "list", "--org", org, "--json")
        assert listed.returncode == 0, listed.stderr
        assert [row["id"][:len(prefix)] for row in json.loads(listed.stdout)] == [prefix]
        verify = leakline(path, "audit", "verify", "--org", org)
        assert verify.returncode == 0 and b"intact" in verify.stdout, verify.stderr


def test_a_database_that_cannot_be_reached_is_one_line_naming_it(tmp_path):
    path = write_config(tmp_path, tmp_path / "data", {
        "backend": "postgresql", "url": "postgresql://leakline@127.0.0.1:1/leakline"})
    result = leakline(path, "cases", "list")
    assert result.returncode == 1
    assert result.stderr.decode().startswith(
        "Error: database postgresql://leakline@127.0.0.1:1/leakline unavailable: ")
    assert result.stderr.count(b"\n") == 1 and b"data_dir" not in result.stderr


def test_db_copy_of_several_organisations_there_and_back(pg_migrated, tmp_path):
    from orgs_helpers import ACME_IN, GLOBEX_IN, JANE, TARO
    from orgs_helpers import mail as org_mail
    from orgs_helpers import write_config as orgs_config

    files = orgs_config(tmp_path)
    for sender, to, n in ((TARO, ACME_IN, 1), (JANE, GLOBEX_IN, 2), (TARO, ACME_IN, 3)):
        raw = org_mail(f"誤送信の報告 {n}", "顧客名簿を誤送信しました", sender=sender, to=[to],
                       message_id=f"<copy{n}@example.com>")
        assert leakline(files, "ingest", "-", "--sender", sender, "--recipient", to,
                        data=raw).returncode == 0
    assert drain(files) == 3
    listing = {org: leakline(files, "cases", "list", "--org", org, "--json").stdout
               for org in ("acme", "globex")}
    env = pg_migrated.password_env
    there = leakline(files, "db", "copy", "--from", str(tmp_path / "data"), "--to",
                     pg_migrated.url, "--password-env", env)
    assert there.returncode == 0 and b"copy verified" in there.stdout, there.stdout + there.stderr
    assert b"audit verify acme: " in there.stdout and b"audit verify globex: " in there.stdout
    back = leakline(files, "db", "copy", "--from", pg_migrated.url, "--to",
                    str(tmp_path / "back"), "--password-env", env)
    assert back.returncode == 0 and b"copy verified" in back.stdout, back.stdout + back.stderr
    text = files.read_text(encoding="utf-8").replace(str(tmp_path / "data"), str(tmp_path / "back"))
    returned = tmp_path / "back.toml"
    returned.write_text(text, encoding="utf-8")
    for org in ("acme", "globex"):
        assert leakline(returned, "cases", "list", "--org", org, "--json").stdout == listing[org]
        assert leakline(returned, "audit", "verify", "--org", org).returncode == 0


def test_status_on_the_database_counts_the_work_waiting_there(pg_migrated, tmp_path):
    """`leakline status` on a PostgreSQL store: messages any node committed and no intake took
    yet are work waiting in the database (attention past the backlog), the outbox is the
    database's, and once drained the service has cases and mail queued."""
    path = write_config(tmp_path, tmp_path / "data", pg_migrated.store_config())
    for n in (1, 2):
        result = leakline(path, "ingest", "-", "--sender", "taro@example.com",
                          "--recipient", "incident@example.com", data=mail(n))
        assert result.returncode == 0, result.stderr
    before = leakline(path, "status", "--json")
    assert before.returncode == 1, before.stderr  # nothing listens: a person is needed
    assert before.stdout, before.stderr
    shown = json.loads(before.stdout)
    assert shown["database"]["backend"] == "postgresql" and shown["database"]["waiting"] == 2
    assert drain(path) == 2
    after = json.loads(leakline(path, "status", "--json").stdout)
    assert after["database"]["waiting"] == 0 and after["outbox"]["queued"] >= 2
    assert after["outbox"]["sending"] == 0
    assert {o["org"]: o["open"] for o in after["deadlines"]["orgs"]} == {"default": 2}
