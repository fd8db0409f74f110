"""Settings of a throwaway cluster, its errors, and the helpers that find PostgreSQL's programs,
look at processes and poll against a deadline."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

ROLE = "agents"
"""The superuser role the cluster is created with; it needs no password."""

DATABASE = "agents"
"""The database created at start, owned by :data:`ROLE`."""

HOST = "127.0.0.1"
"""The only TCP address the server listens on, unless a cluster is given another one (the
multi-host harness's bridge address, tools/multihost.py)."""

URL_ENV = "AGENTS_TEST_POSTGRES_URL"
"""The environment variable ``run`` passes the cluster's URL to its command in."""

BINDIR_ENV = "AGENTS_PG_BINDIR"
"""An environment variable naming the directory to take the PostgreSQL binaries from."""

TEMP_PREFIX = "agents-pg-"
"""The prefix of the temporary directory a cluster lives in."""

UNPRIVILEGED_USER = "nobody"
"""The user the server runs as when we are root."""

START_TIMEOUT = 60.0
"""Seconds the server gets to accept connections (generous: CI machines are slow and busy)."""

STOP_TIMEOUT = 15.0
"""Seconds a fast shutdown gets before the server is shut down immediately."""

QUIT_TIMEOUT = 5.0
"""Seconds an immediate shutdown, and then SIGKILL, get to end the server's processes."""

COMMAND_TIMEOUT = 120.0
"""Seconds ``initdb`` and ``createdb`` get to finish."""

PORT_ATTEMPTS = 5
"""How often a freshly picked port is tried when another process takes it first."""

LOG_TAIL_LINES = 40
"""How many lines of the server log an error message quotes."""

POLL_INTERVAL = 0.05
"""Seconds :func:`poll` pauses between two checks."""

# Settings for a small, fast, disposable server on a 2-core CI machine. fsync, synchronous_commit
# and full_page_writes off trade crash safety for speed, which is fine here: a cluster that
# crashes is thrown away and never recovered. max_connections leaves room for several test
# workers that each hold a connection pool.
SERVER_SETTINGS: dict[str, str] = {
    "listen_addresses": f"'{HOST}'",
    "max_connections": "200",
    "shared_buffers": "'64MB'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_wal_senders": "0",
    "wal_level": "minimal",
    "log_min_messages": "warning",
    "log_line_prefix": "'%m [%p] '",
}

# Only the agents role may connect, over the private socket or the loopback address.
HBA_TEMPLATE = """\
# TYPE  DATABASE  USER      ADDRESS       METHOD
local   all       {role}                  trust
host    all       {role}    {clients}  trust
"""


def hba_conf(clients: str) -> str:
    """pg_hba.conf: the role, over the private socket and from ``clients`` (a CIDR) only."""
    return HBA_TEMPLATE.format(role=ROLE, clients=clients)


DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
"""What ``createdb`` is given: a plain name, nothing to quote."""

BIND_FAILURE = re.compile(r"could not (bind|create any TCP/IP sockets)|Address already in use")
"""What the server log says when another process took the port."""


class ClusterError(RuntimeError):
    """Raised when a cluster cannot be started, used or stopped."""


class PortTaken(ClusterError):
    """The server could not listen on its port: another process took it."""


@dataclass(frozen=True)
class ServerUser:
    """The unprivileged account the server programs run as when we are root."""

    name: str
    uid: int
    gid: int


def poll(done: Callable[[], bool], timeout: float) -> bool:
    """The one poll-until-deadline loop of the tool: check ``done`` every :data:`POLL_INTERVAL`
    seconds until it holds (True) or ``timeout`` seconds have passed (False). What ``done``
    raises ends the wait."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_INTERVAL)
    return True


def server_user() -> ServerUser | None:
    """Return the user to run the server programs as, or None to run them as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise ClusterError(
            f"running as root and there is no user {UNPRIVILEGED_USER!r} to run PostgreSQL as"
        ) from None
    return ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid)


def bindir() -> Path | None:
    """Return the directory holding the PostgreSQL binaries, if one can be found."""
    override = os.environ.get(BINDIR_ENV)
    if override:
        return Path(override)
    found = shutil.which("postgres")
    if found:
        return Path(found).resolve().parent
    versions = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()]
    if versions:
        return max(versions, key=lambda p: int(p.parent.name))
    return None


def binary(name: str) -> str:
    """Return the path of the PostgreSQL program ``name``."""
    directory = bindir()
    if directory is not None:
        candidate = directory / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise ClusterError(f"PostgreSQL program {name!r} not found (set {BINDIR_ENV})")
    return found


def environment() -> dict[str, str]:
    """Return our environment without the libpq variables (PGHOST, PGDATA, ...)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def free_port(host: str = HOST) -> int:
    """Return a TCP port on ``host`` that nothing listens on at the moment."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def tail(path: Path, lines: int = LOG_TAIL_LINES, start: int = 0) -> str:
    """Return the last ``lines`` lines of ``path`` from byte offset ``start`` on."""
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def process_alive(pid: int) -> bool:
    """Return whether ``pid`` names a process that has not exited (zombies count as exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True


def check_traversable(path: Path, user: ServerUser) -> None:
    """Raise unless ``user`` may enter every directory from the root down to ``path``."""
    for directory in [path, *path.parents]:
        info = directory.stat()
        if info.st_uid == user.uid:
            allowed = info.st_mode & 0o100
        elif info.st_gid == user.gid:
            allowed = info.st_mode & 0o010
        else:
            allowed = info.st_mode & 0o001
        if not allowed:
            raise ClusterError(f"{user.name} cannot enter {directory}; use another base_dir")
