"""Keywords for driving the real `agents` command from Robot Framework: the test's work dir and
environment, one-shot `agents` calls and their output, files, and a gate jobs can wait on.

Every scenario gets a fresh temp directory with its own SQLite database and config file; the
variables that point `agents` at them are *added* to the inherited environment of every process
started for the test (never a replacement environment: coverage of subprocesses relies on
variables such as COVERAGE_PROCESS_CONFIG and COVERAGE_FILE reaching them).

The other libraries of this directory (processes, jobs and locks, plans, diagnostics) work in the
same work dir with the same environment: they reach this library through
``_robot_support.agents_library()``.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from robot.api import logger
from robot.api.deco import keyword, library

from cleveragents.domain.owners import this_host

RUN_TIMEOUT_S = 120.0  # a single CLI call never legitimately takes this long


@dataclass
class AgentsResult:
    """How one `agents` call ended."""

    rc: int
    stdout: str
    stderr: str
    args: list[str]

    def __str__(self) -> str:
        return (
            f"agents {' '.join(self.args)}\nrc: {self.rc}\n"
            f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        )


@library(scope="GLOBAL", auto_keywords=False)
class AgentsLibrary:
    """Fresh databases, `agents` calls and their output, files and gates."""

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self) -> None:
        self.ROBOT_LIBRARY_LISTENER = self
        self._env: dict[str, str] = {}
        self._workdir: Path | None = None
        self._dirs: list[Path] = []
        self._gates: list[IO[bytes]] = []

    # -- environment --------------------------------------------------------------------------

    @keyword
    def agents_executable(self) -> str:
        """The `agents` console script of the running interpreter's environment."""
        path = Path(sys.executable).parent / "agents"
        if not path.exists():
            raise AssertionError(f"no `agents` console script next to {sys.executable}")
        return str(path)

    @keyword
    def use_fresh_database(self, **settings: str) -> str:
        """Make a new temp directory with an empty database and config file; return its path.

        Named arguments become environment variables of every later `agents` call and process:
        ``ASYNC__HEARTBEAT_INTERVAL=0.2`` sets ``AGENTS_ASYNC__HEARTBEAT_INTERVAL=0.2``.
        """
        workdir = Path(tempfile.mkdtemp(prefix="agents-robot-"))
        self._dirs.append(workdir)
        self._workdir = workdir
        self._env = {
            "AGENTS_DATABASE_URL": f"sqlite:///{workdir / 'agents.db'}",
            "AGENTS_CONFIG": str(workdir / "config.toml"),
        }
        self.set_agents_environment(**settings)
        logger.info(f"work dir {workdir}; environment added: {self._env}")
        return str(workdir)

    @keyword
    def set_agents_environment(self, **settings: str) -> None:
        """Add ``AGENTS_<NAME>=value`` for every later call (``ASYNC__STALE_AFTER=1.5``)."""
        for name, value in settings.items():
            self._env[f"AGENTS_{name.upper()}"] = str(value)

    @keyword
    def set_process_environment(self, **variables: str) -> None:
        """Add these variables, as named (``XDG_DATA_HOME=/tmp/x``), to every later call."""
        for name, value in variables.items():
            self._env[name] = str(value)

    @property
    def environment(self) -> dict[str, str]:
        """The variables added for this test's processes (a copy)."""
        return dict(self._env)

    def work_dir(self) -> Path:
        """The test's work dir (`Use Fresh Database` made it)."""
        if self._workdir is None:
            raise AssertionError("call `Use Fresh Database` first")
        return self._workdir

    # -- one-shot calls -----------------------------------------------------------------------

    @keyword
    def run_agents(self, *args: str) -> AgentsResult:
        """Run ``agents ARGS`` to completion; return its rc, stdout and stderr."""
        return self.run_argv([self.agents_executable(), *args], list(args), {})

    @keyword
    def run_agents_with_environment(self, env: dict[str, str], *args: str) -> AgentsResult:
        """Like `Run Agents`, with the variables of ``env`` added for this call only."""
        return self.run_argv([self.agents_executable(), *args], list(args), dict(env))

    @keyword
    def run_python_module(self, *args: str) -> AgentsResult:
        """Run ``python -m cleveragents ARGS`` with the interpreter running Robot."""
        return self.run_argv([sys.executable, "-m", "cleveragents", *args], ["(-m)", *args], {})

    @keyword
    def run_in_bash(self, script: str, home: str) -> AgentsResult:
        """Run ``script`` in a real non-interactive ``bash`` with this test's environment, HOME
        set to ``home`` and the `agents` console script first on PATH."""
        scripts = str(Path(self.agents_executable()).parent)
        extra = {"HOME": home, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}
        return self.run_argv(["bash", "--norc", "-c", script], ["(bash)", script], extra)

    def run_argv(self, argv: list[str], shown: list[str], extra: dict[str, str]) -> AgentsResult:
        env = {**os.environ, **self._env, **extra}
        started = time.monotonic()
        completed = subprocess.run(
            argv,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        result = AgentsResult(completed.returncode, completed.stdout, completed.stderr, shown)
        logger.info(f"{result}\n({time.monotonic() - started:.2f} s)")
        return result

    @keyword
    def agents_should_succeed(self, *args: str) -> str:
        """Run ``agents ARGS``, fail unless it exits 0, return its stdout."""
        result = self.run_agents(*args)
        if result.rc != 0:
            raise AssertionError(f"expected exit 0\n{result}")
        return result.stdout

    @keyword
    def agents_json(self, *args: str) -> Any:
        """Run ``agents ARGS`` (which must include --json), exit 0, return the parsed document."""
        return self.parse_json(self.agents_should_succeed(*args))

    @keyword
    def parse_json(self, text: str) -> Any:
        """Parse exactly one JSON document (anything else around it fails)."""
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"not one JSON document ({exc}):\n{text}") from None

    # -- files ----------------------------------------------------------------------------------

    @keyword
    def lines_of_file(self, path: str) -> list[str]:
        """The lines of a text file (empty list when it does not exist)."""
        file = Path(path)
        return file.read_text(encoding="utf-8").splitlines() if file.exists() else []

    @keyword
    def file_bytes(self, path: str) -> bytes:
        """The exact content of a file, for before/after comparisons."""
        return Path(path).read_bytes()

    @keyword
    def write_garbage_file(self, name: str, size: int = 4096) -> str:
        """Write ``size`` bytes that are not an SQLite database into the work dir; return path."""
        path = self.work_dir() / name
        pattern = b"this is not an SQLite database\n"
        path.write_bytes((pattern * (int(size) // len(pattern) + 1))[: int(size)])
        return str(path)

    # -- a gate jobs can wait on ------------------------------------------------------------

    @keyword
    def close_gate(self, name: str = "gate.lock") -> str:
        """Hold an exclusive lock on a file in the work dir; return its path.

        Jobs that run `Gate Command` block until `Open Gate`: a way to hold them running until the
        test says so, without sleeping on either side.
        """
        path = self.work_dir() / name
        path.touch()
        handle = path.open("rb")
        fcntl.flock(handle, fcntl.LOCK_EX)
        self._gates.append(handle)
        return str(path)

    @keyword
    def gate_command(self, path: str) -> list[str]:
        """An argv that blocks until the gate at ``path`` is open, then exits 0."""
        code = "import fcntl, sys; fcntl.flock(open(sys.argv[1], 'rb'), fcntl.LOCK_SH)"
        return [sys.executable, "-c", code, path]

    @keyword
    def open_gate(self) -> None:
        """Release every gate `Close Gate` holds (safe to call twice)."""
        for handle in self._gates:
            handle.close()  # closing the file releases its lock
        self._gates = []

    @keyword
    def host_name(self) -> str:
        """This host's name, as workers register it."""
        return socket.gethostname()

    @keyword
    def owner_host(self) -> str:
        """This host as owner ids (workers', plan runs', lock holders') spell it."""
        return this_host()

    # -- listener -----------------------------------------------------------------------------

    def close(self) -> None:
        """Remove the temp directories at the end of the run."""
        for path in self._dirs:
            shutil.rmtree(path, ignore_errors=True)
