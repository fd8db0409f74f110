"""Keywords for driving the real `agents` command from Robot Framework.

Every scenario gets a fresh temp directory with its own SQLite database and config file; the
variables that point `agents` at them are *added* to the inherited environment of every process
this library starts (never a replacement environment: coverage of subprocesses relies on variables
such as COVERAGE_PROCESS_CONFIG and COVERAGE_FILE reaching them).

Waiting is always polling against a deadline, never a fixed sleep.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from robot.api import logger
from robot.api.deco import keyword, library
from robot.libraries.BuiltIn import BuiltIn
from robot.utils import timestr_to_secs

_PAUSE = threading.Event()  # never set: waiting on it is a pause that is not a sleep-to-sync
RUN_TIMEOUT_S = 120.0  # a single CLI call never legitimately takes this long
POLL_INTERVAL_S = 0.1  # pause between two polls of a condition (each poll is a real CLI call)
LOG_POLL_INTERVAL_S = 0.01  # pause between two reads of a worker's log file
STOP_TIMEOUT_S = 20.0  # how long a worker gets to exit after SIGTERM in a teardown


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
    """Fresh databases, `agents` calls, worker processes and poll-until-deadline helpers."""

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self) -> None:
        self.ROBOT_LIBRARY_LISTENER = self
        self._env: dict[str, str] = {}
        self._workdir: Path | None = None
        self._dirs: list[Path] = []
        self._handles: list[Any] = []
        self._stderr: dict[str, Path] = {}
        self._counter = 0
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

    def _dir(self) -> Path:
        if self._workdir is None:
            raise AssertionError("call `Use Fresh Database` first")
        return self._workdir

    # -- one-shot calls -----------------------------------------------------------------------

    @keyword
    def run_agents(self, *args: str) -> AgentsResult:
        """Run ``agents ARGS`` to completion; return its rc, stdout and stderr."""
        return self._run([self.agents_executable(), *args], list(args), {})

    @keyword
    def run_agents_with_environment(self, env: dict[str, str], *args: str) -> AgentsResult:
        """Like `Run Agents`, with the variables of ``env`` added for this call only."""
        return self._run([self.agents_executable(), *args], list(args), dict(env))

    @keyword
    def run_python_module(self, *args: str) -> AgentsResult:
        """Run ``python -m cleveragents ARGS`` with the interpreter running Robot."""
        return self._run([sys.executable, "-m", "cleveragents", *args], ["(-m)", *args], {})

    def _run(self, argv: list[str], shown: list[str], extra: dict[str, str]) -> AgentsResult:
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

    # -- jobs ---------------------------------------------------------------------------------

    @keyword
    def get_job(self, job_id: str) -> dict[str, Any]:
        """The job as `agents jobs show ID --json` prints it."""
        job: dict[str, Any] = self.agents_json("jobs", "show", job_id, "--json")
        return job

    @keyword
    def list_jobs(self, *args: str) -> list[dict[str, Any]]:
        """Every job (up to 100,000) as `agents jobs list --json` prints them; ARGS filter."""
        jobs: list[dict[str, Any]] = self.agents_json(
            "jobs", "list", "--json", "--limit", "100000", *args
        )
        return jobs

    @keyword
    def select_jobs(
        self, jobs: list[dict[str, Any]], field: str, values: list[Any]
    ) -> list[dict[str, Any]]:
        """The jobs whose ``field`` has one of ``values``."""
        wanted = set(values)
        return [job for job in jobs if job[field] in wanted]

    @keyword
    def jobs_should_all_have(self, jobs: list[dict[str, Any]], **expected: str) -> None:
        """Every job has these field values, compared as strings (``result.exit_code=0``
        looks inside ``result``); the message lists the jobs that do not."""
        wrong = []
        for job in jobs:
            for path, value in expected.items():
                actual: Any = job
                for part in path.split("."):
                    actual = actual.get(part) if isinstance(actual, dict) else None
                if str(actual) != str(value):
                    wrong.append(f"{job['id']}: {path} is {actual!r}, expected {value}")
        if wrong:
            raise AssertionError(f"{len(wrong)} mismatch(es):\n" + "\n".join(wrong[:20]))

    @keyword
    def wait_until_job_status_is(
        self, job_id: str, status: str, timeout: str = "30s"
    ) -> dict[str, Any]:
        """Poll `agents jobs show` until the job has ``status``; return the job.

        Fails at once if the job reaches a terminal status other than the expected one.
        """
        deadline = time.monotonic() + timestr_to_secs(timeout)
        terminal = {"succeeded", "failed", "cancelled"}
        while True:
            job = self.get_job(job_id)
            if job["status"] == status:
                return job
            if job["status"] in terminal:
                raise AssertionError(
                    f"job {job_id} ended {job['status']} while waiting for {status}: {job}"
                )
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"job {job_id} still {job['status']} after {timeout}, expected {status}"
                )
            _PAUSE.wait(POLL_INTERVAL_S)

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
        path = self._dir() / name
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
        path = self._dir() / name
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

    # -- long-running processes ---------------------------------------------------------------

    @keyword
    def start_agents(self, *args: str, alias: str | None = None) -> Any:
        """Start ``agents ARGS`` in the background with the Process library; return its handle.

        Its stdout and stderr go to files in the work dir, so it can never block on a full pipe.
        """
        self._counter += 1
        name = alias or f"agents-{self._counter}"
        out = self._dir() / f"{name}.stdout"
        err = self._dir() / f"{name}.stderr"
        extra = {f"env:{key}": value for key, value in self._env.items()}
        handle = self._process().start_process(
            self.agents_executable(),
            *args,
            stdout=str(out),
            stderr=str(err),
            alias=alias,
            **extra,
        )
        self._handles.append(handle)
        self._stderr[str(handle)] = err
        pid = self._process().get_process_id(handle)
        logger.info(f"started agents {' '.join(args)} (pid {pid})")
        return handle

    @keyword
    def wait_until_process_logs(self, handle: Any, pattern: str, timeout: str = "30s") -> str:
        """Poll the stderr of a process `Start Agents` started until a line matches ``pattern``
        (a regular expression); return that line.

        Reading a log file costs next to nothing, so this sees an event within milliseconds,
        where a poll through another `agents` call takes a whole interpreter start-up.
        """
        path = self._stderr[str(handle)]
        regex = re.compile(pattern)
        deadline = time.monotonic() + timestr_to_secs(timeout)
        while True:
            exited = not self._process().is_process_running(handle)
            text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
            for line in text.splitlines():
                if regex.search(line):
                    return line
            if exited or time.monotonic() >= deadline:
                why = "exited" if exited else f"still runs after {timeout}"
                raise AssertionError(f"{handle} {why} without logging {pattern!r}:\n{text}")
            _PAUSE.wait(LOG_POLL_INTERVAL_S)

    @keyword
    def stop_agents_processes(self) -> None:
        """Stop every process `Start Agents` started that still runs: SIGTERM, then kill.

        A graceful stop lets each process write its coverage data. Logs their output.
        """
        process = self._process()
        for handle in self._handles:
            try:
                running = process.is_process_running(handle)
            except RuntimeError:
                continue  # already forgotten by the Process library
            if running:
                process.send_signal_to_process(signal.SIGTERM, handle)
                result = process.wait_for_process(
                    handle, timeout=timedelta(seconds=STOP_TIMEOUT_S), on_timeout="kill"
                )
            else:
                result = process.wait_for_process(handle)
            logger.info(
                f"process {handle} exited {result.rc}\nstdout:\n{result.stdout}\n"
                f"stderr:\n{result.stderr}"
            )
        self._handles = []

    @staticmethod
    def _process() -> Any:
        return BuiltIn().get_library_instance("Process")

    # -- listener -----------------------------------------------------------------------------

    def close(self) -> None:
        """Remove the temp directories at the end of the run."""
        for path in self._dirs:
            shutil.rmtree(path, ignore_errors=True)
