"""A private Postfix in front of several leakline nodes: mail for incident@example.com relayed by
SMTP to a list of next hops (first listed first, the next on a refused connection or a 4xx), and
an outbound listener whose mail lands in a Maildir instead of going out. Built on
tests/postfix_helpers.py; the configuration is tests/mta_config.py's snippets, nothing else.

    postfix = relay_postfix([node1_port, node2_port])   # the fixture: a started RelayPostfix
    send(postfix.port, raw)                              # inbound, as the MX receives it
    ...the nodes (or stand-in receivers) get it...
    send(postfix.outbound_port, raw, recipients=[...])   # outbound, as leakline's smtp transport
    postfix.delivered()                                  # [bytes]: what reached the Maildir
"""

from __future__ import annotations

import itertools
import os
import pwd
import re
import shutil
import smtplib
import socket
import time
from pathlib import Path

import pytest

import mta_config as cf
from pg_helpers import unavailable
from postfix_helpers import (MAIN_CF, MASTER_CF, SBIN_PATH, Postfix, ensure_user,
                             missing_prerequisite, private_dir)

INCIDENT = "incident@example.com"
SENDER = "taro@sales.example.com"


# What this instance shares with postfix_helpers' one: its own folders, names, loopback only.
SHARED_MAIN = ("compatibility_level", "queue_directory", "data_directory", "mail_owner",
               "setgid_group", "maillog_file", "maillog_file_prefixes", "myhostname", "mydomain",
               "myorigin", "inet_interfaces", "inet_protocols", "mynetworks",
               "smtpd_peername_lookup")


def shared_main(root: Path) -> str:
    lines = [line for line in MAIN_CF.splitlines(keepends=True)
             if line.split(" = ")[0] in SHARED_MAIN]
    assert len(lines) == len(SHARED_MAIN), lines
    return "".join(lines).format(root=root)


def internal_services() -> str:
    """postfix_helpers' master.cf without its listener and its leakline pipe: pickup, qmgr..."""
    lines = MASTER_CF.splitlines(keepends=True)[1:]
    services = "".join(itertools.takewhile(lambda line: not line.startswith("#"), lines))
    assert "\nqmgr " in "\n" + services, services
    return services


# cleanup(8) on a loaded machine: "file system clock is 1 seconds ahead of local clock", then
# "resetting file time stamps - this hurts performance". Not a configuration's fault.
CLOCK_SKEW = r"warning: (file system clock is \d+ seconds? ahead of local clock|resetting file time stamps)"


class RelayPostfix(Postfix):
    """One private instance under `root`: `port` is the inbound (MX) listener, `outbound_port`
    the one for the nodes' replies. `mechanism` "list" routes to every node in one transport
    entry; "fallback_relay" names the first and gives the others as smtp_fallback_relay."""

    def __init__(self, root: Path, port: int, outbound_port: int, node_ports: list[int],
                 mailbox_owner: pwd.struct_passwd, mechanism: str = "list"):
        # Postfix.__init__ writes the pipe instance's files: this one sets up its own.
        self.root = root
        self.conf = root / "conf"
        self.port = port
        self.outbound_port = outbound_port
        self.node_ports = list(node_ports)
        self.mechanism = mechanism
        self.bin = Path(shutil.which("postfix", path=SBIN_PATH)).parent
        self.proc = None
        self.mailbox = root / "mailbox"
        for path, mode in {self.conf: 0o755, root / "queue": 0o755,
                           root / "postfix-data": 0o700, self.mailbox: 0o700}.items():
            path.mkdir()
            path.chmod(mode)
        shutil.chown(root / "postfix-data", "postfix")
        shutil.chown(self.mailbox, mailbox_owner.pw_uid, mailbox_owner.pw_gid)
        self.values = self._values(mailbox_owner)
        self._write_config()

    def _values(self, owner: pwd.struct_passwd) -> dict:
        hops = [f"[127.0.0.1]:{port}" for port in self.node_ports]
        return {"root": str(self.root), "conf": str(self.conf), "domain": "example.com",
                "incident": INCIDENT, "nexthops": ", ".join(hops), "primary": hops[0],
                "fallback": ",".join(hops[1:]), "inbound_listen": f"127.0.0.1:{self.port}",
                "outbound_listen": f"127.0.0.1:{self.outbound_port}",
                "node_networks": "127.0.0.1/32", "uid": str(owner.pw_uid),
                "gid": str(owner.pw_gid)}

    def _write_config(self) -> None:
        listed = self.mechanism == "list"
        if not listed and self.mechanism != "fallback_relay":
            raise ValueError(f"mechanism: 'list' or 'fallback_relay', not {self.mechanism!r}")
        main = [cf.TEST_MAIN, cf.INBOUND_MAIN, cf.FAST_RETRY_MAIN]
        nodes = cf.NODES_MASTER if listed else cf.FALLBACK_MASTER
        master = [cf.TEST_LISTENER, None, cf.TEST_SERVICES, nodes,
                  cf.OUTBOUND_MASTER, cf.TRAP_OPTION, cf.TRAP_MASTER]
        files = {"main.cf": shared_main(self.root)
                 + "".join(s.render(**self.values) for s in main),
                 "master.cf": "".join(s.render(**self.values) if s else internal_services()
                                      for s in master)}
        for table in (cf.RECIPIENTS, cf.TRANSPORT if listed else cf.FALLBACK_TRANSPORT):
            files[Path(table.where(**self.values)).name] = table.render(**self.values)
        past = time.time() - 60  # Postfix rereads a file younger than 2 s (it may be mid-edit)
        for name, text in files.items():
            (self.conf / name).write_text(text)
            os.utime(self.conf / name, (past, past))

    def start(self, timeout: float = 20.0) -> None:
        super().start(timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.outbound_port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "no outbound listener:\n" + self.log()
                time.sleep(0.05)

    def warnings(self) -> list[str]:
        """The log's warning, error and fatal lines: a sound configuration has none. Not counted:
        cleanup's note that the file system's clock runs a second ahead of the local one (and its
        resetting of time stamps), which a loaded machine gives whatever the configuration."""
        return [line for line in self.log().splitlines()
                if re.search(r"\]: (warning|error|fatal|panic):", line)
                and not re.search(CLOCK_SKEW, line)]

    def delivered(self) -> list[bytes]:
        """What the outbound listener passed on, one file per recipient, oldest first."""
        new = self.mailbox / "new"
        files = sorted(new.iterdir(), key=lambda p: (p.stat().st_mtime, p.name)) \
            if new.exists() else []
        return [path.read_bytes() for path in files]


def send(port: int, raw: bytes, *, sender: str = SENDER, recipients=(INCIDENT,),
         source: str = "127.0.0.1", **options) -> None:
    """One SMTP transaction; any refusal raises (smtplib's exceptions)."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10, source_address=(source, 0)) as client:
        refused = client.sendmail(sender, list(recipients), raw, **options)
        assert refused == {}, refused


@pytest.fixture
def relay_postfix():
    """A factory: `relay_postfix(node_ports, mechanism="list")` starts a RelayPostfix in front of
    nodes on 127.0.0.1 at those ports; all are stopped and removed after the test."""
    reason = missing_prerequisite()
    if reason:
        unavailable(reason)
    from conftest import free_port

    owner = ensure_user()
    started: list[RelayPostfix] = []

    def start(node_ports: list[int], mechanism: str = "list") -> RelayPostfix:
        postfix = RelayPostfix(private_dir("leakline-relay-"), free_port(), free_port(),
                               node_ports, owner, mechanism)
        started.append(postfix)
        postfix.start()
        return postfix

    yield start
    for postfix in started:
        postfix.stop()
    try:
        for postfix in started:
            assert postfix.warnings() == [], postfix.log()
    finally:
        for postfix in started:
            shutil.rmtree(postfix.root, ignore_errors=True)
