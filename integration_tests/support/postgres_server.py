"""A throwaway PostgreSQL server on loopback, for the tests and the tools (PyAirbyte's Postgres cache).

Used by integration_tests/test_postgres_destination.py and `make postgres` (tools/postgres_demo.py); it lives in
integration_tests/support/ because tests may not import tools/, while tools may import this package. Standard
library only (Python 3.10+). Uses Debian's PostgreSQL binaries (/usr/lib/postgresql/<major>/bin) and installs them
with apt-get when they are missing and this process is root (else PostgresUnavailable says what to run):

    from integration_tests.support.postgres_server import running_postgres, describe

    with running_postgres(Path(".tmp/pg")) as pg:        # initdb + start on 127.0.0.1:<free port> + CREATE DATABASE
        print(describe(pg))                              # a psql command line for humans
        PostgresCache(host=pg.host, port=pg.port, username=pg.user, password=pg.password, database=pg.database)
    # stopped (pg_ctl stop -m fast) and its data directory removed

initdb refuses to run as root, so as root every server command runs as Debian's `postgres` user (created by the
package) through `runuser -u postgres --`; as any other user it runs as that user. The cluster is UTF8 with the
C locale, its timezone UTC, durability off (fsync, full_page_writes, synchronous_commit) since it is thrown away,
and it listens on 127.0.0.1 only, its Unix socket in a private folder, never on 5432 or /var/run/postgresql, so
the distribution's own `main` cluster (if the package created and started one) neither matters nor is used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import pwd
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional

PG_ROOT = Path("/usr/lib/postgresql")
SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
SERVICE_USER = "postgres"  # made by Debian's postgresql-common package
INSTALL_HINT = "sudo apt-get install -y --no-install-recommends postgresql"
DEFAULT_INSTALL_LOG = Path(tempfile.gettempdir()) / "postgres-install.log"
INSTALL_TIMEOUT_SECONDS = 15 * 60
MAX_SOCKET_DIR_LENGTH = 90  # sun_path holds 107 bytes; the socket is <dir>/.s.PGSQL.<port>(.lock)

# Settings for a disposable test server: fast, loopback only, UTC.
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "1GB",
    "checkpoint_timeout": "30min",
    "timezone": "UTC",
    "log_timezone": "UTC",
    "logging_collector": "off",
}


class PostgresError(RuntimeError):
    """Base class of this module's errors."""


class PostgresUnavailable(PostgresError):
    """The PostgreSQL server binaries are missing and could not be installed; the message says what to run."""


class PostgresStartError(PostgresError):
    """The server could not be initialised, started or reached; the message holds the tail of its log."""


@dataclasses.dataclass(frozen=True)
class PostgresInfo:
    """How to reach a running server. `password` is the login role's; the role is a superuser."""

    host: str
    port: int
    database: str
    user: str
    password: str = dataclasses.field(repr=False)
    bin_dir: Path
    data_dir: Path
    socket_dir: Path
    log_file: Path

    @property
    def url(self) -> str:
        """A libpq / SQLAlchemy URL, password included: postgresql://user:password@127.0.0.1:port/database."""
        from urllib.parse import quote  # noqa: PLC0415

        user, password, database = (quote(part, safe="") for part in (self.user, self.password, self.database))
        return f"postgresql://{user}:{password}@{self.host}:{self.port}/{database}"

    def env(self) -> Dict[str, str]:
        """PGHOST, PGPORT, PGDATABASE, PGUSER and PGPASSWORD for psql and other libpq clients."""
        return {"PGHOST": self.host, "PGPORT": str(self.port), "PGDATABASE": self.database, "PGUSER": self.user,
                "PGPASSWORD": self.password}


def describe(info: PostgresInfo) -> str:
    """A psql command line for humans; the password is not shown, it goes in PGPASSWORD (info.password)."""
    psql = info.bin_dir / "psql"
    return (f"PGPASSWORD=<password> {shlex.quote(str(psql if psql.exists() else 'psql'))} -h {info.host} "
            f"-p {info.port} -U {shlex.quote(info.user)} -d {shlex.quote(info.database)}")


# -- installing ---------------------------------------------------------------------------------------------------

def find_postgres_bin_dir() -> Optional[Path]:
    """The bin folder of the newest PostgreSQL under /usr/lib/postgresql that has initdb, pg_ctl and postgres."""
    candidates = []
    for bin_dir in PG_ROOT.glob("*/bin"):
        if all(os.access(bin_dir / name, os.X_OK) for name in SERVER_BINARIES):
            major = bin_dir.parent.name
            candidates.append((int(major) if major.isdigit() else -1, bin_dir))
    return max(candidates)[1] if candidates else None


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def ensure_postgres_installed(log_file: Optional[Path] = None) -> Path:
    """Returns the PostgreSQL bin folder, installing Debian's `postgresql` package first when it is missing.

    Installing needs root and apt-get: `apt-get install -y --no-install-recommends postgresql`, and only if that
    fails, `apt-get update` and the install again. Output goes to `log_file` (default
    $TMPDIR/postgres-install.log). Raises PostgresUnavailable, saying what to run, when that cannot be done.
    """
    found = find_postgres_bin_dir()
    if found:
        return found
    missing = f"PostgreSQL server binaries ({', '.join(SERVER_BINARIES)}) not found under {PG_ROOT}/<major>/bin"
    if os.geteuid() != 0:
        raise PostgresUnavailable(f"{missing}, and this process is not root, so it cannot install them. "
                                  f"Install them with: {INSTALL_HINT}")
    apt_get = shutil.which("apt-get")
    if not apt_get or not Path("/etc/debian_version").exists():
        raise PostgresUnavailable(f"{missing}, and this is not a Debian-like system with apt-get, so they cannot be "
                                  f"installed here. On Debian or Ubuntu run: {INSTALL_HINT}")
    log_path = Path(log_file) if log_file else DEFAULT_INSTALL_LOG
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_MODE": "a"}
    quiet = ["-y", "-q", "-o", "DPkg::Lock::Timeout=300",
             "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]
    install = [apt_get, *quiet, "install", "--no-install-recommends", "postgresql"]
    update = [apt_get, "-q", "-o", "DPkg::Lock::Timeout=300", "update"]

    def run(command: List[str], log) -> int:
        log.write(f"$ {shlex.join(command)}\n")
        log.flush()
        try:
            return subprocess.run(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                  timeout=INSTALL_TIMEOUT_SECONDS).returncode
        except subprocess.TimeoutExpired:
            log.write(f"timed out after {INSTALL_TIMEOUT_SECONDS}s\n")
            return -1

    # Another process of this machine may be installing it right now: one at a time, then look again.
    with open(Path(tempfile.gettempdir()) / "postgres-install.lock", "w") as lock, open(log_path, "a") as log:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = find_postgres_bin_dir()
        if found:
            return found
        if run(install, log) != 0 and (run(update, log) != 0 or run(install, log) != 0):
            log.flush()
            raise PostgresUnavailable(f"{missing}, and installing them failed (log: {log_path}; its last lines below). "
                                      f"Install them with: {INSTALL_HINT}\n{_tail(log_path)}")
    found = find_postgres_bin_dir()
    if not found:
        raise PostgresUnavailable(f"`{shlex.join(install)}` succeeded but {missing} (log: {log_path}). "
                                  f"Install them with: {INSTALL_HINT}")
    return found


# -- running ------------------------------------------------------------------------------------------------------

class _Runner:
    """Runs server commands as the unprivileged owner of the cluster: `postgres` when root, else oneself."""

    def __init__(self, home: Path):
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                entry = pwd.getpwnam(SERVICE_USER)
            except KeyError:
                raise PostgresUnavailable(f"running as root, but there is no `{SERVICE_USER}` user to run PostgreSQL "
                                          f"as (initdb refuses root). It comes with the package: {INSTALL_HINT}")
            self.uid, self.gid = entry.pw_uid, entry.pw_gid
        else:
            self.uid, self.gid = os.geteuid(), os.getegid()
        # A clean environment: no PG* variables of the caller, C locale messages, a HOME the user can read.
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LC_ALL": "C", "LANG": "C"}
        self.cwd = home

    def chown(self, path: Path) -> None:
        if self.as_root:
            os.chown(path, self.uid, self.gid)

    def command(self, argv: List[str]) -> List[str]:
        if not self.as_root:
            return argv
        if shutil.which("runuser"):
            return ["runuser", "-u", SERVICE_USER, "--", *argv]
        return ["su", SERVICE_USER, "-s", "/bin/sh", "-c", shlex.join(argv)]

    def run(self, argv: List[str], timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(argv), cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _private_dir(parent: Path, prefix: str, runner: _Runner) -> Path:
    """A new 0700 folder under `parent` owned by the server's user, or under /tmp if that user cannot reach it."""
    for where in (parent, Path("/tmp")):
        where.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=where))
        runner.chown(path)
        if not runner.as_root or runner.run(["test", "-w", str(path), "-a", "-x", str(path)]).returncode == 0:
            return path
        shutil.rmtree(path, ignore_errors=True)  # a folder on the way is closed to that user: use /tmp
    raise PostgresStartError(f"no folder under {parent} or /tmp is writable by the `{SERVICE_USER}` user")


def _conf_value(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _failed(what: str, result: Optional[subprocess.CompletedProcess], log_file: Optional[Path]) -> PostgresStartError:
    output = ((result.stdout or "") + (result.stderr or "")).strip() if result is not None else ""
    parts = [what]
    if output:
        parts.append(f"--- output\n{output[-3000:]}")
    if log_file is not None:
        parts.append(f"--- last lines of the server log (deleted with the cluster)\n{_tail(log_file)}")
    return PostgresStartError("\n".join(parts))


@contextlib.contextmanager
def running_postgres(
    base_dir: Path,
    *,
    database: str = "periskope",
    user: str = "airbyte",
    password: Optional[str] = None,
    start_timeout: float = 60.0,
    settings: Optional[Dict[str, str]] = None,
    bin_dir: Optional[Path] = None,
    keep: bool = False,
) -> Iterator[PostgresInfo]:
    """A fresh PostgreSQL server on 127.0.0.1:<free port> with `database` owned by the login role `user`.

    The cluster lives in a new folder under `base_dir` (or under /tmp when the server's user cannot reach
    `base_dir`), is UTF8, and is stopped with `pg_ctl stop -m fast` and deleted on exit. `password` defaults to a
    random one (info.password). `settings` adds or overrides postgresql.conf settings. With `keep`, a with-block
    that ends without an exception leaves the server running and its folder in place (stop_command(info) says how
    to stop and delete it later); an exception still stops and deletes it.
    """
    bin_dir = Path(bin_dir) if bin_dir else ensure_postgres_installed()
    password = password or secrets.token_urlsafe(18)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", user) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", database):
        raise ValueError("user and database must be plain identifiers (letters, digits, _ ; the database also -)")
    base_dir = Path(base_dir).absolute()
    runner = _Runner(Path("/"))
    run_dir = _private_dir(base_dir, "postgres-", runner)
    runner.cwd = run_dir  # pg_ctl fails if it cannot read its working folder
    runner.env["HOME"] = str(run_dir)
    extra_dirs = []
    kept = False
    socket_dir = run_dir / "socket"
    data_dir, log_file = run_dir / "data", run_dir / "server.log"
    try:
        if len(str(socket_dir)) > MAX_SOCKET_DIR_LENGTH:  # a deep base_dir: the socket path would be too long
            socket_dir = _private_dir(Path("/tmp"), "pgsock-", runner)
            extra_dirs.append(socket_dir)
        else:
            socket_dir.mkdir(mode=0o700)
            runner.chown(socket_dir)
        pwfile = run_dir / "pwfile"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        runner.chown(pwfile)
        result = runner.run([str(bin_dir / "initdb"), "-D", str(data_dir), "-U", user, f"--pwfile={pwfile}",
                             "--auth-host=scram-sha-256", "--auth-local=trust", "--encoding=UTF8", "--locale=C",
                             "--no-sync"])
        pwfile.unlink()
        if result.returncode != 0:
            raise _failed(f"initdb exited {result.returncode}", result, None)
        conf = {**SETTINGS, "unix_socket_directories": str(socket_dir), **(settings or {})}
        with open(data_dir / "postgresql.conf", "a") as handle:  # appended: the last value of a setting wins
            handle.write("\n# integration_tests/support/postgres_server.py\n")
            handle.writelines(f"{key} = {_conf_value(value)}\n" for key, value in conf.items())

        for _attempt in range(5):  # the free port may be taken between choosing it and binding it: choose again
            port = _free_port()
            result = runner.run([str(bin_dir / "pg_ctl"), "start", "-D", str(data_dir), "-l", str(log_file), "-w",
                                 "-t", str(int(start_timeout)), "-o", f"-p {port}"], timeout=start_timeout + 30)
            if result.returncode == 0:
                break
            if "Address already in use" not in _tail(log_file, 10):
                raise _failed(f"pg_ctl start exited {result.returncode}", result, log_file)
        else:
            raise _failed("pg_ctl start: no free port after 5 tries", result, log_file)

        deadline = time.monotonic() + start_timeout
        ready = [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", "postgres"]
        while True:  # pg_ctl -w waits for the postmaster; this checks that TCP on loopback answers too
            result = runner.run(ready, timeout=10) if (bin_dir / "pg_isready").exists() else None
            if result is None:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            elif result.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise _failed(f"the server did not accept connections on 127.0.0.1:{port} within {start_timeout}s",
                              result, log_file)
            time.sleep(0.2)

        if database != "postgres":
            result = runner.run([str(bin_dir / "createdb"), "-h", str(socket_dir), "-p", str(port), "-U", user,
                                 "-O", user, "-E", "UTF8", database])
            if result.returncode != 0:
                raise _failed(f"createdb {database} exited {result.returncode}", result, log_file)
        yield PostgresInfo(host="127.0.0.1", port=port, database=database, user=user, password=password,
                           bin_dir=bin_dir, data_dir=data_dir, socket_dir=socket_dir, log_file=log_file)
        kept = keep
    finally:
        if not kept and (data_dir / "postmaster.pid").exists():  # started, even if start-up then failed or timed out
            stop = [str(bin_dir / "pg_ctl"), "stop", "-D", str(data_dir), "-m", "fast", "-w", "-t", "30"]
            try:
                if runner.run(stop, timeout=60).returncode != 0:
                    runner.run(stop[:5] + ["immediate", "-w", "-t", "30"], timeout=60)
            except subprocess.TimeoutExpired:
                runner.run(stop[:5] + ["immediate", "-w", "-t", "30"], timeout=60)
        if not kept:
            for path in (run_dir, *extra_dirs):
                shutil.rmtree(path, ignore_errors=True)


def stop_command(info: PostgresInfo) -> str:
    """A shell command that stops a server left running by running_postgres(keep=True) and deletes its folders."""
    pg_ctl = shlex.join([str(info.bin_dir / "pg_ctl"), "stop", "-D", str(info.data_dir), "-m", "fast"])
    if os.geteuid() == 0:
        pg_ctl = f"runuser -u {SERVICE_USER} -- {pg_ctl}"
    folders = [info.data_dir.parent] + ([info.socket_dir] if info.socket_dir.parent != info.data_dir.parent else [])
    return f"{pg_ctl} && rm -rf {' '.join(shlex.quote(str(folder)) for folder in folders)}"
