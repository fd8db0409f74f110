"""The :class:`Cluster`: a throwaway PostgreSQL server listening on 127.0.0.1, for tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from _pgcluster import shutdown
from _pgcluster.common import (
    BIND_FAILURE,
    COMMAND_TIMEOUT,
    DATABASE,
    DATABASE_NAME,
    HOST,
    PORT_ATTEMPTS,
    ROLE,
    SERVER_SETTINGS,
    START_TIMEOUT,
    TEMP_PREFIX,
    ClusterError,
    PortTaken,
    ServerUser,
    binary,
    check_traversable,
    environment,
    free_port,
    hba_conf,
    poll,
    process_alive,
    server_user,
    tail,
)


class Cluster:
    """A throwaway PostgreSQL server listening on 127.0.0.1, for tests.

    ``base_dir`` is the directory the cluster's temporary directory is created in (default:
    :func:`tempfile.gettempdir`); ``port`` is the TCP port to listen on (default: a free one);
    ``host`` the only address it listens on (default 127.0.0.1), ``clients`` the network (a
    CIDR) that may connect over TCP (default: ``host`` alone).
    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        base_dir: str | None = None,
        port: int | None = None,
        host: str = HOST,
        clients: str | None = None,
    ) -> None:
        self._base_dir = base_dir
        self.host = host
        self.clients = clients or f"{host}/32"
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
        return f"postgresql://{ROLE}@{self.host}:{self.port}/{DATABASE}"

    def database_url(self, name: str) -> str:
        """Return the SQLAlchemy URL of database ``name`` on this cluster."""
        return f"postgresql+psycopg://{ROLE}@{self.host}:{self.port}/{name}"

    def state(self) -> dict[str, Any]:
        """Return what :meth:`from_state` needs to stop this cluster from another process."""
        return {
            "url": self.url,
            "pid": self.pid,
            "data_dir": str(self.data_dir),
            "port": self.port,
            "host": self.host,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Cluster:
        """Return a handle on the cluster :meth:`state` described, for :meth:`stop` to stop."""
        data_dir = Path(str(state["data_dir"]))
        if data_dir.name != "data" or not data_dir.parent.name.startswith(TEMP_PREFIX):
            raise ClusterError(f"{data_dir} is not the data directory of a cluster of ours")
        cluster = cls(
            base_dir=str(data_dir.parent.parent),
            port=int(state["port"]),
            host=str(state.get("host", HOST)),
        )
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
        user = server_user()
        base_dir = Path(self._base_dir or tempfile.gettempdir()).resolve()
        self._temp_dir = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=base_dir))
        try:
            # The server user must be able to enter the directory, create the data directory and
            # its socket in it; everyone else may look but not touch.
            self._temp_dir.chmod(0o755)
            if user is not None:
                check_traversable(self._temp_dir, user)
                os.chown(self._temp_dir, user.uid, user.gid)
            self._initdb(user)
            self._configure()
            self._launch_until_listening(user)
            self._createdb(DATABASE)
        except BaseException:
            self.stop()
            raise

    def _server_command(
        self, args: list[str], user: ServerUser | None, **kwargs: Any
    ) -> subprocess.Popen[bytes]:
        """Start a server program (``initdb``, ``postgres``) as ``user``, logging to the log."""
        with self.log_path.open("ab") as log:
            return subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.temp_dir,
                env=environment(),
                user=None if user is None else user.uid,
                group=None if user is None else user.gid,
                extra_groups=None if user is None else [],
                **kwargs,
            )

    def _initdb(self, user: ServerUser | None) -> None:
        """Create the data directory with :data:`ROLE` as its superuser."""
        args = [
            binary("initdb"),
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
            raise ClusterError(f"initdb timed out:\n{tail(self.log_path)}") from None
        if code != 0:
            raise ClusterError(f"initdb failed with exit code {code}:\n{tail(self.log_path)}")

    def _configure(self) -> None:
        """Add our settings to postgresql.conf and replace pg_hba.conf.

        The files keep the owner ``initdb`` gave them: they are rewritten, not replaced.
        """
        settings = dict(
            SERVER_SETTINGS,
            listen_addresses=f"'{self.host}'",
            unix_socket_directories=f"'{self.temp_dir}'",
        )
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# Added by tools/pgcluster.py for a throwaway test cluster.\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        (self.data_dir / "pg_hba.conf").write_text(hba_conf(self.clients))

    def _launch_until_listening(self, user: ServerUser | None) -> None:
        """Start the postmaster, trying other free ports while someone else takes ours."""
        attempts = 1 if self._requested_port is not None else PORT_ATTEMPTS
        for attempt in range(attempts):
            self._port = self._requested_port or free_port(self.host)
            try:
                self._launch(user)
            except PortTaken:
                if attempt == attempts - 1:
                    raise
            else:
                return

    def _launch(self, user: ServerUser | None) -> None:
        """Start the postmaster on :attr:`_port` and wait until it accepts connections."""
        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        args = [binary("postgres"), "-D", str(self.data_dir), "-p", str(self._port)]
        # Its own session keeps a Ctrl-C in the test's terminal away from the server: it is
        # stopped by stop(), after the tests that use it have finished.
        process = self._server_command(args, user, start_new_session=True)
        self._process = process
        self._pid = process.pid

        def listening() -> bool:
            if self._accepting_connections():
                return True
            code = process.poll()
            if code is not None:
                log = tail(self.log_path, start=log_start)
                self._process = self._pid = None
                error = PortTaken if BIND_FAILURE.search(log) else ClusterError
                raise error(f"postgres exited with code {code} while starting:\n{log}")
            return False

        if not poll(listening, START_TIMEOUT):
            raise ClusterError(
                f"postgres did not accept connections within {START_TIMEOUT:.0f}s:\n"
                + tail(self.log_path, start=log_start)
            )
        self._pid = shutdown.postmaster_pid(self.data_dir) or process.pid

    def _accepting_connections(self) -> bool:
        """Ask ``pg_isready`` whether the server accepts connections on its TCP port."""
        args = [binary("pg_isready"), "--quiet", "--timeout=2", f"--host={self.host}"]
        args += [f"--port={self._port}", f"--username={ROLE}", "--dbname=postgres"]
        result = subprocess.run(args, env=environment(), check=False, timeout=30)
        return result.returncode == 0

    # -- using ---------------------------------------------------------------------------------

    def create_database(self, name: str) -> str:
        """Create database ``name``, owned by :data:`ROLE`, and return its SQLAlchemy URL."""
        self._createdb(name)
        return self.database_url(name)

    def _createdb(self, name: str) -> None:
        """Run ``createdb`` for database ``name``."""
        if not DATABASE_NAME.fullmatch(name):
            raise ClusterError(f"{name!r} is not a plain database name (letters, digits, _)")
        args = [binary("createdb"), f"--host={self.host}", f"--port={self.port}"]
        args += [f"--username={ROLE}", f"--owner={ROLE}", name]
        result = subprocess.run(
            args,
            env=environment(),
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

    def restart(self) -> None:
        """Restart the server as ``pg_ctl restart -m fast`` would: a fast shutdown (every
        session ends), then a new postmaster on the same data directory and port."""
        if self._temp_dir is None:
            raise ClusterError("the cluster is not started")
        self._stop_server()
        self._launch(server_user())

    def _alive(self, pid: int) -> bool:
        """Return whether the postmaster ``pid`` still runs, reaping it if it is our child."""
        if self._process is not None and self._process.pid == pid:
            return self._process.poll() is None
        return process_alive(pid)

    def _stop_server(self) -> None:
        """Shut the server down, harder and harder, and clean up after a crash."""
        pid = shutdown.postmaster_pid(self.data_dir) or self._pid
        shutdown.stop_server(self.data_dir, pid, self._alive)
        if self._process is not None:
            self._process.poll()
        shutdown.release_shared_memory(self.data_dir)

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
