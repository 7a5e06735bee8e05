"""Shared fixtures: real servers on free localhost ports, configs in temp folders."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from clock import Clock
from leakline.app import App
from leakline.cli import main
from leakline.config import Config, from_dict, load
from leakline.store.files import DataLock
from leakline.store.outbox import Outbox

# When the outbox tests' clock starts.
OUTBOX_T0 = datetime(2026, 11, 26, 18, 3, tzinfo=timezone(timedelta(hours=9)))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def make_config(data_dir: Path, port: int = 0, **sections) -> Config:
    raw = {
        "service": {"data_dir": str(data_dir), "listen": f"127.0.0.1:{port or free_port()}"},
        "organization": {"name": "テスト株式会社", "incident_address": "incident@example.com",
                         "domains": ["example.com"]},
        "managers": [
            {"name": "個人情報保護管理者", "email": "privacy@example.com", "role": "privacy_officer"},
            {"name": "営業部長", "email": "boss@example.com", "role": "supervisor",
             "covers": ["*@sales.example.com"]},
            {"name": "役員", "email": "exec@example.com", "role": "executive"},
        ],
    }
    for name, values in sections.items():
        if isinstance(values, dict):
            raw.setdefault(name, {}).update(values)
        else:
            raw[name] = values
    return from_dict(raw)


class RunningServer:
    """`server.serve` on its own event loop in a thread, stopped by setting its event."""

    def __init__(self, app: App):
        from leakline import server
        self.app = app
        self.host = app.config.service.host
        self.port = app.config.service.port
        self.lines: list[str] = []
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()

        def announce(line: str) -> None:
            self.lines.append(line)
            self._ready.set()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(server.serve(app, stop=self._stop, announce=announce))
            finally:
                self._ready.set()
                self._loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "server did not start"
        assert self._thread.is_alive(), "server stopped at once"

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(30)


@pytest.fixture
def config(tmp_path) -> Config:
    return make_config(tmp_path / "data")


@pytest.fixture
def app(config) -> App:
    app = App(config)
    app.prepare()
    return app


@pytest.fixture
def running(app):
    srv = RunningServer(app)
    yield srv
    srv.stop()


@pytest.fixture
def cli_app(tmp_path) -> App:
    """An App on a config file, for tests that run the CLI on it with `cli(app, ...)`."""
    path = tmp_path / "c.toml"
    path.write_text(f'[service]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    app = App(load(path))
    app.prepare()
    app.config_path = str(path)
    return app


def cli(app: App, *args, env=None):
    return CliRunner().invoke(main, ["--config", app.config_path, *args], env=env,
                              catch_exceptions=False)


@pytest.fixture
def clock() -> Clock:
    return Clock(OUTBOX_T0)


@pytest.fixture
def fsyncs(monkeypatch) -> list[int]:
    """How many fsync(2) calls the test makes from here on: fsyncs[0]."""
    import os

    calls = [0]
    real = os.fsync

    def fsync(fd):
        calls[0] += 1
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


@pytest.fixture
def box(tmp_path, clock) -> Outbox:
    return Outbox(tmp_path, DataLock(tmp_path / ".lock"), clock)


# PostgreSQL (issue 15): `pg_cluster` for the session, `pg_database` fresh for each test.
from pg_helpers import pg_cluster, pg_database  # noqa: E402,F401
# Postfix in front of several nodes (issue 15): `relay_postfix(node_ports)` starts one.
from mta_helpers import relay_postfix  # noqa: E402,F401
# The store suite on both backends (issue 15): `backend` runs a test on TinyDB and on PostgreSQL.
from store_backends import backend, close_databases, pg_migrated, pg_template  # noqa: E402,F401
