"""Throwaway PostgreSQL clusters for tests.

A :class:`Cluster` runs ``initdb`` into a fresh directory under the system temporary directory,
starts ``postgres`` listening on 127.0.0.1 only (plus a Unix socket inside that directory) and
creates a superuser role ``agents`` that owns a database ``agents``. Authentication is ``trust``
for that role on the loopback address and the private socket; nothing else may connect. Stopping
the cluster shuts the server down by its pid and deletes the directory, so every run starts from
an empty server.

PostgreSQL refuses to run as root. When this module runs as root it starts the server programs
(``initdb`` and ``postgres``) as the unprivileged user ``nobody`` instead and hands the
directory to that user. The client programs (``pg_isready``, ``createdb``) only talk to the
server over TCP, so they run as whoever calls us.

The module uses the standard library, psutil (a dependency of the project: processes are looked
up through it, not by reading /proc) and the PostgreSQL binaries. It also works as a command line
tool::

    python tools/pgcluster.py start --state FILE   # start detached, write FILE, print the URL
    python tools/pgcluster.py stop --state FILE    # stop that cluster, remove its directory, FILE
    python tools/pgcluster.py run -- CMD ...       # run CMD with AGENTS_TEST_POSTGRES_URL set

The server binaries are looked up next to the ``postgres`` found on ``PATH`` (following
symbolic links, so Debian's ``/usr/lib/postgresql/N/bin`` is found from ``/usr/local/bin``);
``AGENTS_PG_BINDIR`` overrides that directory.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self

import psutil

ROLE = "agents"
"""The superuser role the cluster is created with; it needs no password."""

DATABASE = "agents"
"""The database created at start, owned by :data:`ROLE`."""

HOST = "127.0.0.1"
"""The only TCP address the server listens on."""

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
HBA_CONF = f"""\
# TYPE  DATABASE  USER      ADDRESS       METHOD
local   all       {ROLE}                  trust
host    all       {ROLE}    {HOST}/32  trust
"""

_DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_POLL_INTERVAL = 0.05
_BIND_FAILURE = re.compile(r"could not (bind|create any TCP/IP sockets)|Address already in use")


class ClusterError(RuntimeError):
    """Raised when a cluster cannot be started, used or stopped."""


class _PortTaken(ClusterError):
    """The server could not listen on its port: another process took it."""


@dataclass(frozen=True)
class _ServerUser:
    """The unprivileged account the server programs run as when we are root."""

    name: str
    uid: int
    gid: int


def _server_user() -> _ServerUser | None:
    """Return the user to run the server programs as, or None to run them as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise ClusterError(
            f"running as root and there is no user {UNPRIVILEGED_USER!r} to run PostgreSQL as"
        ) from None
    return _ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _bindir() -> Path | None:
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


def _binary(name: str) -> str:
    """Return the path of the PostgreSQL program ``name``."""
    bindir = _bindir()
    if bindir is not None:
        candidate = bindir / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise ClusterError(f"PostgreSQL program {name!r} not found (set {BINDIR_ENV})")
    return found


def _environment() -> dict[str, str]:
    """Return our environment without the libpq variables (PGHOST, PGDATA, ...)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _free_port() -> int:
    """Return a TCP port on :data:`HOST` that nothing listens on at the moment."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = LOG_TAIL_LINES, start: int = 0) -> str:
    """Return the last ``lines`` lines of ``path`` from byte offset ``start`` on."""
    try:
        with path.open("rb") as handle:
            handle.seek(start)
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _process_alive(pid: int) -> bool:
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


def _check_traversable(path: Path, user: _ServerUser) -> None:
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


class Cluster:
    """A throwaway PostgreSQL server listening on 127.0.0.1, for tests.

    ``base_dir`` is the directory the cluster's temporary directory is created in (default:
    :func:`tempfile.gettempdir`); ``port`` is the TCP port to listen on (default: a free one).
    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, base_dir: str | None = None, port: int | None = None) -> None:
        self._base_dir = base_dir
        self._requested_port = port
        self._temp_dir: Path | None = None
        self._port: int | None = None
        self._pid: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    # -- state ---------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """Whether :meth:`start` has run and :meth:`stop` has not."""
        return self._temp_dir is not None and self._pid is not None

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._port is None or not self.started:
            raise ClusterError("the cluster is not running")
        return self._port

    @property
    def pid(self) -> int:
        """The process id of the postmaster."""
        if self._pid is None:
            raise ClusterError("the cluster is not running")
        return self._pid

    @property
    def temp_dir(self) -> Path:
        """The temporary directory holding the data directory, the log and the socket."""
        if self._temp_dir is None:
            raise ClusterError("the cluster is not running")
        return self._temp_dir

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.temp_dir / "data"

    @property
    def log_path(self) -> Path:
        """The file the server (and ``initdb``) log to."""
        return self.temp_dir / "postgres.log"

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the ``agents`` database."""
        return self.database_url(DATABASE)

    @property
    def dsn(self) -> str:
        """The libpq connection URI of the ``agents`` database (for psql or psycopg)."""
        return f"postgresql://{ROLE}@{HOST}:{self.port}/{DATABASE}"

    def database_url(self, name: str) -> str:
        """Return the SQLAlchemy URL of database ``name`` on this cluster."""
        return f"postgresql+psycopg://{ROLE}@{HOST}:{self.port}/{name}"

    def state(self) -> dict[str, Any]:
        """Return what :meth:`from_state` needs to stop this cluster from another process."""
        return {"url": self.url, "pid": self.pid, "data_dir": str(self.data_dir), "port": self.port}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Cluster:
        """Return a handle on the cluster :meth:`state` described, for :meth:`stop` to stop."""
        data_dir = Path(str(state["data_dir"]))
        if data_dir.name != "data" or not data_dir.parent.name.startswith(TEMP_PREFIX):
            raise ClusterError(f"{data_dir} is not the data directory of a cluster of ours")
        cluster = cls(base_dir=str(data_dir.parent.parent), port=int(state["port"]))
        cluster._temp_dir = data_dir.parent
        cluster._port = int(state["port"])
        cluster._pid = int(state["pid"])
        return cluster

    # -- starting ------------------------------------------------------------------------------

    def start(self) -> None:
        """Create, start and wait for the server, then create the ``agents`` database.

        On failure everything started so far is stopped and removed again, and the error
        quotes the end of the server log.
        """
        if self._temp_dir is not None:
            raise ClusterError("the cluster is already started")
        user = _server_user()
        base_dir = Path(self._base_dir or tempfile.gettempdir()).resolve()
        self._temp_dir = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=base_dir))
        try:
            # The server user must be able to enter the directory, create the data directory and
            # its socket in it; everyone else may look but not touch.
            self._temp_dir.chmod(0o755)
            if user is not None:
                _check_traversable(self._temp_dir, user)
                os.chown(self._temp_dir, user.uid, user.gid)
            self._initdb(user)
            self._configure()
            self._launch_until_listening(user)
            self._createdb(DATABASE)
        except BaseException:
            self.stop()
            raise

    def _server_command(
        self, args: list[str], user: _ServerUser | None, **kwargs: Any
    ) -> subprocess.Popen[bytes]:
        """Start a server program (``initdb``, ``postgres``) as ``user``, logging to the log."""
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.temp_dir,
                env=_environment(),
                user=None if user is None else user.uid,
                group=None if user is None else user.gid,
                extra_groups=None if user is None else [],
                **kwargs,
            )

    def _initdb(self, user: _ServerUser | None) -> None:
        """Create the data directory with :data:`ROLE` as its superuser."""
        args = [
            _binary("initdb"),
            f"--pgdata={self.data_dir}",
            f"--username={ROLE}",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ]
        process = self._server_command(args, user)
        try:
            code = process.wait(timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise ClusterError(f"initdb timed out:\n{_tail(self.log_path)}") from None
        if code != 0:
            raise ClusterError(f"initdb failed with exit code {code}:\n{_tail(self.log_path)}")

    def _configure(self) -> None:
        """Add our settings to postgresql.conf and replace pg_hba.conf.

        The files keep the owner ``initdb`` gave them: they are rewritten, not replaced.
        """
        settings = dict(SERVER_SETTINGS, unix_socket_directories=f"'{self.temp_dir}'")
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# Added by tools/pgcluster.py for a throwaway test cluster.\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        (self.data_dir / "pg_hba.conf").write_text(HBA_CONF)

    def _launch_until_listening(self, user: _ServerUser | None) -> None:
        """Start the postmaster, trying other free ports while someone else takes ours."""
        attempts = 1 if self._requested_port is not None else PORT_ATTEMPTS
        for attempt in range(attempts):
            self._port = self._requested_port or _free_port()
            try:
                self._launch(user)
            except _PortTaken:
                if attempt == attempts - 1:
                    raise
            else:
                return

    def _launch(self, user: _ServerUser | None) -> None:
        """Start the postmaster on :attr:`_port` and wait until it accepts connections."""
        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        args = [_binary("postgres"), "-D", str(self.data_dir), "-p", str(self._port)]
        # Its own session keeps a Ctrl-C in the test's terminal away from the server: it is
        # stopped by stop(), after the tests that use it have finished.
        process = self._server_command(args, user, start_new_session=True)
        self._process = process
        self._pid = process.pid
        deadline = time.monotonic() + START_TIMEOUT
        while not self._accepting_connections():
            code = process.poll()
            if code is not None:
                log = _tail(self.log_path, start=log_start)
                self._process = self._pid = None
                error = _PortTaken if _BIND_FAILURE.search(log) else ClusterError
                raise error(f"postgres exited with code {code} while starting:\n{log}")
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"postgres did not accept connections within {START_TIMEOUT:.0f}s:\n"
                    + _tail(self.log_path, start=log_start)
                )
            time.sleep(_POLL_INTERVAL)
        self._pid = self._postmaster_pid() or process.pid

    def _accepting_connections(self) -> bool:
        """Ask ``pg_isready`` whether the server accepts connections on its TCP port."""
        args = [_binary("pg_isready"), "--quiet", "--timeout=2", f"--host={HOST}"]
        args += [f"--port={self._port}", f"--username={ROLE}", "--dbname=postgres"]
        result = subprocess.run(args, env=_environment(), check=False, timeout=30)
        return result.returncode == 0

    # -- using ---------------------------------------------------------------------------------

    def create_database(self, name: str) -> str:
        """Create database ``name``, owned by :data:`ROLE`, and return its SQLAlchemy URL."""
        self._createdb(name)
        return self.database_url(name)

    def _createdb(self, name: str) -> None:
        """Run ``createdb`` for database ``name``."""
        if not _DATABASE_NAME.fullmatch(name):
            raise ClusterError(f"{name!r} is not a plain database name (letters, digits, _)")
        args = [_binary("createdb"), f"--host={HOST}", f"--port={self.port}"]
        args += [f"--username={ROLE}", f"--owner={ROLE}", name]
        result = subprocess.run(
            args,
            env=_environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            timeout=COMMAND_TIMEOUT,
        )
        if result.returncode != 0:
            raise ClusterError(f"createdb {name} failed: {result.stderr.strip()}")

    # -- stopping ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the server if it runs and remove the cluster's directory.

        Asks for a fast shutdown (SIGINT, what ``pg_ctl stop -m fast`` sends), then an
        immediate one (SIGQUIT), then kills whatever server process is left. Works when the
        server has crashed or never started, and does nothing when called again.
        """
        temp_dir = self._temp_dir
        if temp_dir is None:
            return
        try:
            self._stop_server()
        finally:
            if temp_dir.exists():
                shutil.rmtree(temp_dir)
            self._temp_dir = self._port = self._pid = self._process = None

    def _postmaster_pid(self) -> int | None:
        """Return the pid in postmaster.pid, or None when the file is missing or unreadable."""
        lines = self._postmaster_pid_lines()
        return int(lines[0]) if lines and lines[0].strip().isdigit() else None

    def _postmaster_pid_lines(self) -> list[str]:
        """Return the lines of postmaster.pid (pid, data dir, ..., shared memory key and id)."""
        try:
            return (self.data_dir / "postmaster.pid").read_text().splitlines()
        except (OSError, UnicodeDecodeError):
            return []

    def _alive(self, pid: int) -> bool:
        """Return whether the postmaster ``pid`` still runs, reaping it if it is our child."""
        if self._process is not None and self._process.pid == pid:
            return self._process.poll() is None
        return _process_alive(pid)

    def _is_our_postmaster(self, pid: int) -> bool:
        """Return whether ``pid`` runs postgres on our data directory (and not a reused pid)."""
        try:
            args = psutil.Process(pid).cmdline()
        except psutil.NoSuchProcess:  # gone, or a zombie: not a running postmaster
            return False
        except psutil.Error:
            return True
        return str(self.data_dir) in args

    def _server_processes(self) -> list[int]:
        """Return the processes working in our data directory: the postmaster and its children.

        Every PostgreSQL process changes into its data directory. Backends call ``setsid()``, so
        they are not in the postmaster's process group, and when the postmaster dies they are
        re-parented: their working directory is what still identifies them.
        """
        target = str(self.data_dir)
        found = []
        for process in psutil.process_iter(["pid", "cwd"]):
            pid = process.info["pid"]
            if process.info["cwd"] == target and _process_alive(pid):
                found.append(pid)
        return found

    def _wait_gone(self, pids: Sequence[int], timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for all ``pids`` to exit; return whether they did."""
        deadline = time.monotonic() + timeout
        while any(self._alive(pid) for pid in pids):
            if time.monotonic() > deadline:
                return False
            time.sleep(_POLL_INTERVAL)
        return True

    def _stop_server(self) -> None:
        """Shut the server down, harder and harder, and clean up after a crash."""
        pid = self._postmaster_pid() or self._pid
        if pid is not None and self._alive(pid) and self._is_our_postmaster(pid):
            # Fast shutdown (what pg_ctl stop -m fast sends), then immediate shutdown.
            for how, timeout in ((signal.SIGINT, STOP_TIMEOUT), (signal.SIGQUIT, QUIT_TIMEOUT)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, how)
                if self._wait_gone([pid], timeout):
                    break
        # Whatever is left (a hung postmaster, or backends of one that crashed) is killed.
        leftovers = self._server_processes()
        for leftover in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(leftover, signal.SIGKILL)
        if not self._wait_gone(leftovers, QUIT_TIMEOUT):
            raise ClusterError(f"postgres processes {leftovers} survived SIGKILL")
        if self._process is not None:
            self._process.poll()
        self._release_shared_memory()

    def _release_shared_memory(self) -> None:
        """Remove the System V segment of a postmaster that died without cleaning up.

        A clean exit removes postmaster.pid and the segment; a crash leaves both behind, and
        the (small) segment would stay until the machine restarts.
        """
        lines = self._postmaster_pid_lines()
        ipcrm = shutil.which("ipcrm")
        if len(lines) < 7 or ipcrm is None:
            return
        fields = lines[6].split()
        if len(fields) == 2 and fields[1].isdigit():
            subprocess.run([ipcrm, "-m", fields[1]], capture_output=True, check=False)

    # -- context manager -----------------------------------------------------------------------

    def __enter__(self) -> Self:
        """Start the cluster."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the cluster."""
        self.stop()


# -- command line ------------------------------------------------------------------------------


def _write_state(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` as JSON, all at once."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(state, indent=2) + "\n")
    partial.replace(path)


def _start(state_file: Path, base_dir: str | None, port: int | None) -> int:
    """Start a cluster that outlives this process and describe it in ``state_file``."""
    if state_file.exists():
        raise ClusterError(f"{state_file} exists: stop that cluster first")
    cluster = Cluster(base_dir=base_dir, port=port)
    cluster.start()
    try:
        _write_state(state_file, cluster.state())
    except BaseException:
        cluster.stop()
        raise
    print(cluster.url)
    return 0


def _stop(state_file: Path) -> int:
    """Stop the cluster ``state_file`` describes and remove the file."""
    try:
        state = json.loads(state_file.read_text())
    except FileNotFoundError:
        print(f"{state_file} does not exist: nothing to stop", file=sys.stderr)
        return 0
    Cluster.from_state(state).stop()
    state_file.unlink(missing_ok=True)
    return 0


@contextlib.contextmanager
def _forwarding_signals(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """Pass SIGTERM and SIGHUP on to ``process`` and ignore SIGINT while it runs.

    A Ctrl-C in the terminal reaches the command directly; we wait for it to finish and then
    stop the cluster.
    """

    def forward(signum: int, frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)

    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, forward),
        signal.SIGHUP: signal.signal(signal.SIGHUP, forward),
        signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run(command: list[str], base_dir: str | None, port: int | None) -> int:
    """Run ``command`` against a fresh cluster; return its exit code (128 + N for signal N)."""
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise ClusterError("run needs a command: pgcluster.py run -- CMD ...")
    with Cluster(base_dir=base_dir, port=port) as cluster:
        env = dict(os.environ, **{URL_ENV: cluster.url})
        try:
            process = subprocess.Popen(command, env=env)
        except OSError as error:
            raise ClusterError(f"cannot run {command[0]}: {error}") from None
        with _forwarding_signals(process):
            code = process.wait()
    return code if code >= 0 else 128 - code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line tool; return its exit code."""
    parser = argparse.ArgumentParser(
        prog="pgcluster.py", description="Throwaway PostgreSQL clusters for tests."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start a cluster in the background")
    stop = commands.add_parser("stop", help="stop a cluster started with start")
    run = commands.add_parser("run", help=f"run a command with {URL_ENV} set, then stop")
    for sub in (start, stop):
        sub.add_argument("--state", required=True, type=Path, help="JSON file describing it")
    for sub in (start, run):
        sub.add_argument("--base-dir", help="where to create the cluster's temporary directory")
        sub.add_argument("--port", type=int, help="TCP port (default: a free one)")
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            return _start(args.state, args.base_dir, args.port)
        if args.command == "stop":
            return _stop(args.state)
        return _run(args.cmd, args.base_dir, args.port)
    except ClusterError as error:
        print(f"pgcluster: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
