"""A private Postfix for tests: its own config, queue and log in a temp folder, SMTP on a free
loopback port, and mail for incident@example.com piped to `leakline ingest` as an unprivileged
user, the way a production pipe transport runs it. The system's own Postfix is never touched.
How mail reaches the pipe (the transport table, the pipe service, the alias) is the deploy
guide's snippets (tests/mta_config.py), rendered here with the test's folders and command."""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from packaging.requirements import Requirement

import mta_config as cf

PIPE_USER = "leakline-test"
SBIN_PATH = os.pathsep.join(filter(None, [os.environ.get("PATH"), "/usr/sbin", "/sbin"]))
# What `pyproject.toml` packages: the pipe runs this tree's code, not whatever is installed.
PROJECT_MODULES = ("leakline",)

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/postfix-data
mail_owner = postfix
setgid_group = postdrop
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
myhostname = mx.example.com
mydomain = example.com
myorigin = example.com
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
# Nothing leaves this test: other mail (bounces included) fails here instead of going out.
default_transport = error:outbound mail is off in this test
"""

# How mail for incident@example.com reaches leakline: the guide's pipe transport (the domain
# relayed, the transport table naming the pipe), or its alias, which local(8) runs. Each route:
# the guide's main.cf snippets, its tables, and the settings only this test instance needs.
ROUTES = {
    "pipe": ([cf.INBOUND_MAIN], [cf.RECIPIENTS, cf.PIPE_TRANSPORT], """\
mydestination =
alias_maps =
alias_database =
local_transport = error:local delivery is off in this test
"""),
    "alias": ([cf.ALIAS_MAIN], [cf.ALIAS], """\
mydestination = example.com
local_recipient_maps = inline:{{incident=ok}}
"""),
}

# Only the services this instance needs; no chroot, so nothing is copied into the queue folder.
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
flush     unix  n - n 1000? 0 flush
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
local     unix  - n n -  - local
"""


def missing_prerequisite() -> str | None:
    """Why this machine cannot run the Postfix tests, or None."""
    if os.geteuid() != 0:
        return "needs root: Postfix starts as root and pipes to an unprivileged user"
    if not shutil.which("postfix", path=SBIN_PATH):
        return "Postfix is not installed (apt-get install postfix; .ci/run does)"
    return None


def ensure_user(name: str = PIPE_USER) -> pwd.struct_passwd:
    """The unprivileged user the pipe runs as (Postfix refuses root); created once, kept."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    # A parallel run may create it between our look-up and useradd; look again either way.
    subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                    "--shell", "/usr/sbin/nologin", name], capture_output=True, check=False)
    return pwd.getpwnam(name)


def private_dir(prefix: str, mode: int = 0o711) -> Path:
    """A temp folder other users can pass through (pytest's tmp_path is root-only)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(mode)
    return path


def requirement_closure(name: str) -> list[importlib.metadata.Distribution]:
    """The installed distributions `name` needs at run time (extras excluded)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = list(importlib.metadata.requires(name) or [])
    while todo:
        req = Requirement(todo.pop())
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        dist = importlib.metadata.distribution(req.name)
        if dist.metadata["Name"].lower() not in found:
            found[dist.metadata["Name"].lower()] = dist
            todo.extend(dist.requires or [])
    return list(found.values())


def copy_runtime(site: Path) -> None:
    """This tree's modules and leakline's requirements, copied into one import folder."""
    for name in PROJECT_MODULES:
        spec = importlib.util.find_spec(name)
        origin = Path(spec.origin)
        if spec.submodule_search_locations:
            shutil.copytree(origin.parent, site / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, site / origin.name)
    for dist in requirement_closure("leakline"):
        for file in dist.files or []:
            if ".." in file.parts or "__pycache__" in file.parts:
                continue  # console scripts outside site-packages, byte code
            (site / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(dist.locate_file(file), site / file)
    for path in [site, *site.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def pipe_command(site: Path, user: pwd.struct_passwd) -> list[str]:
    """The command line that runs leakline's code in `site` as `user`, or [] if none can.

    The running interpreter may sit where that user cannot reach (pyenv under /root, mode 0700):
    then the system's Python runs the copied code, once a probe shows that it imports it.
    """
    version = "python%d.%d" % sys.version_info[:2]
    candidates = [sys.executable] + [shutil.which(name, path="/usr/local/bin:/usr/bin:/bin")
                                     for name in (version, "python3")]
    for python in dict.fromkeys(filter(None, candidates)):
        command = [shutil.which("env"), f"PYTHONPATH={site}", python]
        probe = subprocess.run([*command, "-c", "import leakline.app, leakline.cli"], cwd="/",
                               user=user.pw_uid, group=user.pw_gid, extra_groups=[],
                               capture_output=True, check=False)
        if probe.returncode == 0:
            return command
    return []


class Postfix:
    """One private instance under `root`; `start()` runs it in the foreground as our child."""

    def __init__(self, root: Path, port: int, user: pwd.struct_passwd, command: list[str],
                 config: Path, route: str = "pipe"):
        self.root = root
        self.conf = root / "conf"
        self.port = port
        self.bin = Path(shutil.which("postfix", path=SBIN_PATH)).parent
        self.proc: subprocess.Popen | None = None
        folders = {self.conf: 0o755, root / "queue": 0o755, root / "postfix-data": 0o700}
        for path, mode in folders.items():
            path.mkdir()
            path.chmod(mode)  # whatever umask this process has (App.prepare sets 077)
        shutil.chown(root / "postfix-data", "postfix")
        values = {"root": str(root), "conf": str(self.conf), "domain": "example.com",
                  "incident": "incident@example.com", "user": user.pw_name,
                  "leakline": " ".join(command) + " -m leakline", "config": str(config),
                  "system_aliases": str(root / "aliases")}
        main, tables, own = ROUTES[route]
        files = {"main.cf": MAIN_CF.format(root=root) + "".join(s.render(**values) for s in main)
                 + own.format(root=root),
                 "master.cf": MASTER_CF.format(port=port) + cf.PIPE_MASTER.render(**values)
                 + (cf.TEST_SERVICES.render() if route == "pipe" else "")}
        for table in tables:
            files[Path(table.where(**values)).name] = table.render(**values)
        # Postfix rereads a config file until it is 2 s old (it may be mid-edit): age ours.
        past = time.time() - 60
        for name, text in files.items():
            (self.conf / name).write_text(text)
            os.utime(self.conf / name, (past, past))
        if route == "alias":
            (root / "aliases").write_text("")  # the system's aliases: none here
            self.run("postalias", str(root / "aliases"))
            aliases = Path(cf.ALIAS.where(**values))
            self.run("postalias", str(aliases))
            for path in (aliases, aliases.with_name(aliases.name + ".db")):
                # local(8) runs an alias's command as the owner of the alias database.
                shutil.chown(path, user.pw_uid, user.pw_gid)

    def run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        # Postfix creates its queue folders with the caller's umask; ours may be 077.
        return subprocess.run([str(self.bin / program), "-c", str(self.conf), *args],
                              capture_output=True, text=True, timeout=60, check=check,
                              umask=0o022)

    def start(self, timeout: float = 20.0) -> None:
        checked = self.run("postfix", "check", check=False)
        assert checked.returncode == 0 and not checked.stderr, checked.stderr + self.log()
        self.proc = subprocess.Popen([str(self.bin / "postfix"), "-c", str(self.conf), "start-fg"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     umask=0o022)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "postfix start-fg exited:\n" + self.log()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"Postfix did not listen on {self.port}:\n{self.log()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.run("postfix", "stop", check=False)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            # The master leads a session of its own: end it by its pid, then our child.
            with contextlib.suppress(OSError, ValueError, IndexError):
                pid = (self.root / "queue" / "pid" / "master.pid").read_text().split()[0]
                os.kill(int(pid), signal.SIGKILL)
            self.proc.kill()
            self.proc.wait(10)

    def queue(self) -> list[dict]:
        """The queue as `postqueue -j` reports it, one dict per message."""
        listing = self.run("postqueue", "-j").stdout
        return [json.loads(line) for line in listing.splitlines() if line.strip()]

    def flush(self) -> None:
        """Retry deferred mail now, as an operator does once the cause is fixed."""
        self.run("postqueue", "-f")

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else "(no maillog)"
