"""A private PostgreSQL cluster for tests: its own data folder, socket and log in a temp folder,
TCP on a free loopback port with password (SCRAM) authentication, run as an unprivileged user
because PostgreSQL refuses root. The system's own cluster, if any, is never touched.

    cluster = PgCluster.create()       # initdb; `start()` runs it as our child
    db = cluster.create_database()     # PgDatabase: url (a DSN without password), password_env
    with db.connect() as conn: ...     # psycopg 3, the password read from os.environ
    cluster.stop(); cluster.start()    # a clean shutdown and restart: the "database down" case
    cluster.kill(); cluster.start()    # SIGKILL to every process of the cluster, crash recovery

The pytest fixtures `pg_cluster` (session) and `pg_database` (per test) are at the end.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from postfix_helpers import ensure_user, private_dir

# Runs the cluster when the tests run as root (PostgreSQL will not); otherwise the current user.
PG_USER = "leakline-pg"
ADMIN_ROLE = "leakline_admin"  # the superuser initdb makes
APP_ROLE = "leakline"          # what a node connects as: owns its database, nothing more
# The name of the environment variable that holds both roles' password, as `[store]
# password_env` names it; the `pg_cluster` fixture sets it for the whole session.
PG_PASSWORD_ENV = "LEAKLINE_TEST_PG_PASSWORD"

# Durable like production (fsync, synchronous_commit), small and quick to start otherwise.
POSTGRESQL_CONF = """\
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
unix_socket_permissions = 0700
fsync = on
synchronous_commit = on
full_page_writes = on
shared_buffers = 16MB
max_connections = 60
huge_pages = off
max_wal_senders = 0
max_replication_slots = 0
lc_messages = 'C'
timezone = 'UTC'
log_destination = 'stderr'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
"""


def bin_dir() -> Path | None:
    """The newest PostgreSQL's programs: Debian's /usr/lib/postgresql/N/bin, else the PATH."""
    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    found = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()]
    if found:
        return max(found, key=version)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing_prerequisite() -> str | None:
    """Why this machine cannot run the PostgreSQL tests, or None."""
    if bin_dir() is None:
        return "PostgreSQL is not installed (apt-get install postgresql; .ci/run does)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install '.[test]')"
    return None


def unavailable(reason: str):
    """Skip, except in CI: there a missing PostgreSQL or Postfix fails instead of skipping."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class PgDatabase:
    """One database of the cluster, owned by APP_ROLE."""

    name: str
    url: str            # postgresql://leakline@127.0.0.1:PORT/NAME, as `[store] url` takes it
    password_env: str   # the environment variable with the password, as `[store] password_env`
    cluster: PgCluster

    def connect(self, **kwargs):
        import psycopg

        return psycopg.connect(self.url, password=os.environ[self.password_env], **kwargs)

    def store_config(self) -> dict:
        """The `[store]` section issue 15 specifies, for `make_config(..., store=...)`."""
        return {"backend": "postgresql", "url": self.url, "password_env": self.password_env}


class PgCluster:
    """One private cluster under `root`; `start()` runs the postmaster as our child, in a
    process group of its own so that `kill()` reaches every backend at once."""

    def __init__(self, root: Path, port: int, bin_path: Path, owner: pwd.struct_passwd,
                 password: str):
        self.root = root
        self.data = root / "data"
        self.port = port
        self.bin = bin_path
        self.owner = owner
        self.password = password
        self.proc: subprocess.Popen | None = None
        self._counter = 0

    @classmethod
    def create(cls, port: int, password: str | None = None) -> PgCluster:
        """initdb a new cluster in a temp folder the running user owns (0700)."""
        owner = ensure_user(PG_USER) if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        root = private_dir("leakline-pg-", 0o700)
        os.chown(root, owner.pw_uid, owner.pw_gid)
        cluster = cls(root, port, bin_dir(), owner, password or secrets.token_urlsafe(18))
        cluster._initdb()
        return cluster

    @classmethod
    def started(cls, port: int) -> PgCluster:
        """A new cluster, running, with the application role, its password in PG_PASSWORD_ENV
        (removed again if it does not start). The caller destroys it."""
        cluster = cls.create(port)
        os.environ[PG_PASSWORD_ENV] = cluster.password
        try:
            cluster.start()
            cluster.create_app_role()
        except BaseException:
            cluster.destroy()
            raise
        return cluster

    def _as_owner(self) -> dict:
        if os.geteuid() != 0:
            return {}
        return {"user": self.owner.pw_uid, "group": self.owner.pw_gid, "extra_groups": []}

    def _initdb(self) -> None:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        os.chown(pwfile, self.owner.pw_uid, self.owner.pw_gid)
        socket_dir = self.root / "socket"
        socket_dir.mkdir(mode=0o700)
        os.chown(socket_dir, self.owner.pw_uid, self.owner.pw_gid)
        # --no-sync only skips initdb's final flush of the template files; the server itself
        # runs with fsync on. C.UTF-8: byte-order collation, Unicode-aware upper()/lower().
        done = subprocess.run(
            [str(self.bin / "initdb"), "-D", str(self.data), "-U", ADMIN_ROLE,
             f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=scram-sha-256",
             "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"],
            cwd=self.root, capture_output=True, text=True, timeout=120, check=False,
            **self._as_owner())
        pwfile.unlink()
        assert done.returncode == 0, f"initdb failed:\n{done.stdout}\n{done.stderr}"
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(POSTGRESQL_CONF.format(port=self.port, socket_dir=socket_dir))

    # --- running -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 60.0) -> None:
        """Start the postmaster and wait until it accepts connections (crash recovery first)."""
        assert not self.running, "the cluster is running already"
        log = open(self.root / "postgres.log", "ab")
        with log:
            self.proc = subprocess.Popen(
                [str(self.bin / "postgres"), "-D", str(self.data)], cwd=self.root,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                **self._as_owner())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "postgres exited:\n" + self.log()
            if self._ready():
                return
            time.sleep(0.05)
        raise AssertionError(f"PostgreSQL did not get ready on {self.port}:\n{self.log()}")

    def _ready(self) -> bool:
        # What `pg_ctl -w` reads: postmaster.pid's status line says "ready" once connections
        # are accepted, and its first line is our child's pid (not a stale file's).
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[0] == str(self.proc.pid) and lines[7].strip() == "ready"

    def stop(self, mode: str = "fast", timeout: float = 60.0) -> None:
        """Shut down: "fast" (SIGINT, aborts open transactions, as `pg_ctl stop` does), "smart"
        (waits for clients to leave) or "immediate" (no checkpoint: recovery on next start)."""
        if not self.running:
            return
        sig = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._wait_group_gone()

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend together, as a crash or the OOM killer does.
        Committed transactions survive (fsync); the next `start()` runs crash recovery."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(30)
        self._wait_group_gone()

    def _wait_group_gone(self, timeout: float = 30.0) -> None:
        # Backends outlive the postmaster for a moment; a new one must not meet them.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)
        os.killpg(self.proc.pid, signal.SIGKILL)

    def ensure_running(self) -> None:
        if not self.running:
            self.start()

    def destroy(self) -> None:
        # "immediate" rather than kill(): the postmaster still removes its SysV shared memory
        # segment, which a SIGKILL leaves behind until the next start in the same folder.
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "postgres.log"
        return path.read_text(errors="replace") if path.exists() else "(no log)"

    # --- databases -----------------------------------------------------------------------

    def url(self, database: str, role: str = APP_ROLE) -> str:
        return f"postgresql://{role}@127.0.0.1:{self.port}/{database}"

    def admin(self, database: str = "postgres"):
        """An autocommit superuser connection (CREATE DATABASE cannot run in a transaction)."""
        import psycopg

        return psycopg.connect(self.url(database, ADMIN_ROLE), password=self.password,
                               autocommit=True)

    def create_app_role(self) -> None:
        with self.admin() as conn:
            conn.execute(f"CREATE ROLE {quote_ident(APP_ROLE)} LOGIN PASSWORD "
                         f"{_literal(self.password)}")

    def create_database(self, name: str | None = None, template: str = "template0") -> PgDatabase:
        """A new database owned by APP_ROLE, copied from `template` (another test database that
        nobody is connected to works too: e.g. one with the schema migrated once)."""
        if name is None:
            self._counter += 1
            name = f"test_{os.getpid()}_{self._counter}"
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {quote_ident(name)} OWNER {quote_ident(APP_ROLE)} "
                         f"TEMPLATE {quote_ident(template)}")
        return PgDatabase(name, self.url(name), PG_PASSWORD_ENV, self)

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@pytest.fixture(scope="session")
def pg_cluster():
    """A running private cluster for the whole session; PG_PASSWORD_ENV holds its password."""
    reason = missing_prerequisite()
    if reason:
        unavailable(reason)
    from conftest import free_port

    old = os.environ.get(PG_PASSWORD_ENV)
    cluster = None
    try:
        cluster = PgCluster.started(free_port())
        yield cluster
    finally:
        if cluster is not None:
            cluster.destroy()
        if old is None:
            os.environ.pop(PG_PASSWORD_ENV, None)
        else:
            os.environ[PG_PASSWORD_ENV] = old


@pytest.fixture
def pg_database(pg_cluster):
    """A fresh, empty database for one test (the cluster restarted first if a test left it down).
    Dropped afterwards, whoever is still connected."""
    pg_cluster.ensure_running()
    db = pg_cluster.create_database()
    yield db
    pg_cluster.ensure_running()
    pg_cluster.drop_database(db.name)
