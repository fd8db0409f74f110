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
import xml.etree.ElementTree as ET
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

    # -- plans --------------------------------------------------------------------------------

    @keyword
    def set_process_environment(self, **variables: str) -> None:
        """Add these variables, as named (``XDG_DATA_HOME=/tmp/x``), to every later call."""
        for name, value in variables.items():
            self._env[name] = str(value)

    @keyword
    def generate_project(self, name: str, files: int = 2000, dirs: int = 30) -> str:
        """Write a project of ``files`` small text files spread over ``dirs`` directories into
        the work dir (``NAME/dNN/fNNNNN.txt``, 1 to 5 lines each); return its path."""
        root = self._dir() / name
        for index in range(int(dirs)):
            (root / f"d{index:02d}").mkdir(parents=True, exist_ok=True)
        for index in range(int(files)):
            path = root / f"d{index % int(dirs):02d}" / f"f{index:05d}.txt"
            path.write_text(f"line of file {index}\n" * (index % 5 + 1), encoding="utf-8")
        return str(root)

    @keyword
    def project_files(self, root: str) -> list[str]:
        """Every file under ``root``, as sorted relative POSIX paths."""
        base = Path(root)
        return sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())

    @keyword
    def write_command_action(self, name: str, script: str, **decompose: str) -> str:
        """Write ``NAME.toml`` in the work dir: an action running ``sh -c SCRIPT sh {files}``;
        named arguments go to ``[action.decompose]`` (``max_files_per_subplan=10``). Returns
        the file's path."""
        command = ["sh", "-c", script, "sh", "{files}"]
        lines = [
            "[action]",
            f"name = {json.dumps(name)}",
            f"command = [{', '.join(json.dumps(part) for part in command)}]",
        ]
        if decompose:
            lines.append("")
            lines.append("[action.decompose]")
            lines.extend(f"{key} = {int(value)}" for key, value in decompose.items())
        path = self._dir() / f"{name}.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        logger.info(f"{path}:\n{path.read_text(encoding='utf-8')}")
        return str(path)

    @keyword
    def plan_status(self, plan_id: str) -> dict[str, Any]:
        """The plan as `agents plan status ID --json` prints it."""
        document: dict[str, Any] = self.agents_json("plan", "status", plan_id, "--json")
        return document

    @keyword
    def leaf_subplans(self, status: dict[str, Any]) -> list[dict[str, Any]]:
        """The leaves (subplans no other subplan names as its parent) of a plan status."""
        parents = {node["parent_id"] for node in status["subplans"]}
        return [node for node in status["subplans"] if node["id"] not in parents]

    @keyword
    def leaves_should_cover_files_once(
        self, status: dict[str, Any], expected: list[str]
    ) -> list[dict[str, Any]]:
        """The leaves' files add up to ``expected`` exactly: none missing, none extra, none in
        two leaves; inner subplans hold no files. Returns the leaves."""
        leaves = self.leaf_subplans(status)
        leaf_ids = {leaf["id"] for leaf in leaves}
        inner_with_files = [
            node["id"]
            for node in status["subplans"]
            if node["id"] not in leaf_ids and node["files"]
        ]
        if inner_with_files:
            raise AssertionError(f"inner subplans list files: {inner_with_files}")
        seen: dict[str, str] = {}
        twice = []
        for leaf in leaves:
            for path in leaf["files"]:
                if path in seen:
                    twice.append(f"{path} in {seen[path]} and {leaf['id']}")
                seen[path] = leaf["id"]
        total = sum(len(leaf["files"]) for leaf in leaves)
        missing = sorted(set(expected) - set(seen))
        extra = sorted(set(seen) - set(expected))
        problems = []
        if twice:
            problems.append(f"{len(twice)} file(s) in two leaves: {twice[:5]}")
        if missing:
            problems.append(f"{len(missing)} file(s) in no leaf: {missing[:5]}")
        if extra:
            problems.append(f"{len(extra)} unexpected file(s): {extra[:5]}")
        if total != len(expected):
            problems.append(f"the leaves hold {total} files, expected {len(expected)}")
        if problems:
            raise AssertionError("; ".join(problems))
        return leaves

    @keyword
    def wait_until_plan_counts(
        self, plan_id: str, timeout: str = "30s", **minimums: str
    ) -> dict[str, Any]:
        """Poll `agents plan status` until every named leaf count is at least its value
        (``running=3``); return the status. Fails at once if the plan ends first."""
        deadline = time.monotonic() + timestr_to_secs(timeout)
        wanted = {name: int(value) for name, value in minimums.items()}
        while True:
            status = self.plan_status(plan_id)
            counts = status["counts"]
            if all(counts[name] >= value for name, value in wanted.items()):
                return status
            if status["phase"] in ("executed", "failed", "cancelled"):
                raise AssertionError(
                    f"plan {plan_id} ended {status['phase']} with {counts}, waiting for {wanted}"
                )
            if time.monotonic() >= deadline:
                raise AssertionError(f"plan {plan_id} counts {counts} after {timeout}: {wanted}")
            _PAUSE.wait(POLL_INTERVAL_S)

    @keyword
    def wait_until_file_has_lines(self, path: str, count: int, timeout: str = "30s") -> list[str]:
        """Poll a file until it holds at least ``count`` lines; return them."""
        deadline = time.monotonic() + timestr_to_secs(timeout)
        while True:
            lines = self.lines_of_file(path)
            if len(lines) >= int(count):
                return lines
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"{path} has {len(lines)} line(s) after {timeout}, expected {count}"
                )
            _PAUSE.wait(LOG_POLL_INTERVAL_S)

    @keyword
    def max_overlap_in_log(self, path: str) -> int:
        """The most commands running at once according to a log of ``start TS PID ...`` and
        ``end TS PID ...`` lines (TS in seconds): a sweep over the intervals, ends first on
        ties. Every start must have its end, once."""
        starts: dict[str, float] = {}
        ends: dict[str, float] = {}
        for line in self.lines_of_file(path):
            kind, stamp, pid, *_ = line.split()
            target = starts if kind == "start" else ends
            if kind not in ("start", "end") or pid in target:
                raise AssertionError(f"unexpected line in {path}: {line!r}")
            target[pid] = float(stamp)
        if set(starts) != set(ends):
            raise AssertionError(f"unmatched starts/ends in {path}: {set(starts) ^ set(ends)}")
        events = sorted(
            [(stamp, 1) for stamp in starts.values()] + [(stamp, -1) for stamp in ends.values()],
            key=lambda event: (event[0], event[1]),
        )
        running = peak = 0
        for _, delta in events:
            running += delta
            peak = max(peak, running)
        logger.info(f"{len(starts)} commands; at most {peak} at once")
        return peak

    @keyword
    def process_groups_should_be_gone(self, pids: list[str], timeout: str = "10s") -> None:
        """Wait until nothing runs in the process group of any of ``pids``. Zombies (killed,
        waiting for a parent that died to be reaped by init) do not count as running."""
        deadline = time.monotonic() + timestr_to_secs(timeout)
        while True:
            alive = []
            for pid in pids:
                try:
                    os.killpg(int(pid), 0)
                except ProcessLookupError:
                    continue
                members = [m for m in self._group_members(int(pid)) if m[2] != "Z"]
                if members:
                    alive.append(f"group {pid}: {members}")
            if not alive:
                return
            if time.monotonic() >= deadline:
                raise AssertionError(f"process groups still running after {timeout}: {alive}")
            _PAUSE.wait(LOG_POLL_INTERVAL_S)

    @staticmethod
    def _group_members(group: int) -> list[tuple[int, str, str]]:
        """(pid, command name, state) of every process in process group ``group``."""
        members = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text(encoding="utf-8")
            except OSError:
                continue
            name = stat.split("(", 1)[1].rsplit(")", 1)[0]
            state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
            if int(pgrp) == group:
                members.append((int(entry.name), name, state))
        return members

    @keyword
    def kill_process_groups(self, *pids: str) -> None:
        """SIGKILL the process group of each pid (cleanup; groups already gone are skipped)."""
        for pid in pids:
            if int(pid) == os.getpgrp():
                raise AssertionError(f"{pid} is the test run's own process group")
            try:
                os.killpg(int(pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                continue
            logger.info(f"killed process group {pid}")

    @keyword
    def processes_of_plan(self, plan_id: str) -> list[int]:
        """The pids of live processes whose environment says ``AGENTS_PLAN_ID=plan_id``: the
        commands of the plan's subplans and anything they started (zombies have none)."""
        marker = f"AGENTS_PLAN_ID={plan_id}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue  # gone meanwhile, or not ours to read
            if marker in environ.split(b"\0"):
                found.append(int(entry.name))
        return found

    @keyword
    def kill_processes_of_plan(self, plan_id: str) -> list[int]:
        """SIGKILL the process group of every process `Processes Of Plan` finds (cleanup)."""
        pids = self.processes_of_plan(plan_id)
        for pid in pids:
            try:
                group = os.getpgid(pid)
                if group == os.getpgrp():
                    raise AssertionError(f"process {pid} is in the test run's own group")
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                continue
            logger.info(f"killed the process group of {pid}")
        return pids

    # -- locks --------------------------------------------------------------------------------

    @keyword
    def acquire_lock_as(
        self, resource_type: str, resource_id: str, owner: str, ttl_s: str
    ) -> dict[str, Any]:
        """Take a lock in the test's database for ``owner`` (any owner id, another host's
        too) with ``LockService.acquire``, for ``ttl_s`` seconds from now; return it as
        `agents locks list --json` shows it.

        Runs in a child interpreter with the test's environment, like every other process
        here: the Robot process itself imports none of the project's code.
        """
        code = (
            "import json, os, sys\n"
            "from cleveragents.domain.clock import utcnow\n"
            "from cleveragents.domain.locks import ResourceType\n"
            "from cleveragents.settings import SQLiteSettings\n"
            "from cleveragents.store.engine import Database\n"
            "from cleveragents.store.locks import LockService\n"
            "from cleveragents.store.migrations import ensure_schema\n"
            "kind, resource, owner, ttl = sys.argv[1:]\n"
            "db = Database(os.environ['AGENTS_DATABASE_URL'], SQLiteSettings())\n"
            "db.open()\n"
            "try:\n"
            "    ensure_schema(db)\n"
            "    lock = LockService(db).acquire(ResourceType(kind), resource, owner,"
            " float(ttl), utcnow())\n"
            "finally:\n"
            "    db.dispose()\n"
            "print(json.dumps(lock.to_json(utcnow())))\n"
        )
        argv = [sys.executable, "-c", code, resource_type, resource_id, owner, str(ttl_s)]
        result = self._run(argv, ["(lock)", resource_type, resource_id, owner, str(ttl_s)], {})
        if result.rc != 0:
            raise AssertionError(f"could not take the lock\n{result}")
        lock: dict[str, Any] = self.parse_json(result.stdout)
        return lock

    @keyword
    def lock_listed_for(self, resource_type: str, resource_id: str) -> dict[str, Any] | None:
        """The lock on a resource as `agents locks list --json` shows it, or ``None``."""
        listed = self.agents_json("locks", "list", "--json")
        found = [
            lock
            for lock in listed
            if lock["resource_type"] == resource_type and lock["resource_id"] == resource_id
        ]
        if len(found) > 1:
            raise AssertionError(f"{len(found)} locks on {resource_type} {resource_id}: {found}")
        return found[0] if found else None

    @keyword
    def wait_until_lock_is_stale(
        self, resource_type: str, resource_id: str, timeout: str = "30s"
    ) -> dict[str, Any]:
        """Poll `agents locks list --json` until the lock on the resource says ``stale``;
        return it. Fails at once if the lock disappears."""
        deadline = time.monotonic() + timestr_to_secs(timeout)
        while True:
            lock = self.lock_listed_for(resource_type, resource_id)
            if lock is None:
                raise AssertionError(f"the lock on {resource_type} {resource_id} is gone")
            if lock["stale"]:
                return lock
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"the lock on {resource_type} {resource_id} is not stale after {timeout}: "
                    f"{lock}"
                )
            _PAUSE.wait(POLL_INTERVAL_S)

    @keyword
    def wait_for_first_process_to_exit(self, *handles: Any, timeout: str = "30s") -> Any:
        """Poll the processes until one of them has exited; return its handle (the first in
        the given order if several have)."""
        process = self._process()
        deadline = time.monotonic() + timestr_to_secs(timeout)
        while True:
            for handle in handles:
                if not process.is_process_running(handle):
                    return handle
            if time.monotonic() >= deadline:
                raise AssertionError(f"none of {list(handles)} exited within {timeout}")
            _PAUSE.wait(LOG_POLL_INTERVAL_S)

    @keyword
    def host_name(self) -> str:
        """This host's name, as the owner ids of its lock holders spell it."""
        return os.uname().nodename

    # -- diagnostics --------------------------------------------------------------------------

    @keyword
    def run_diagnostics(self, *args: str, rc: int | None = None) -> dict[str, Any]:
        """Run ``agents diagnostics --format json ARGS``; return the report.

        Whatever ``rc`` says, the exit code must agree with the report: 1 exactly when its
        status is ``fail`` (0 for ``ok`` and ``warn``); with ``rc``, it must be that too. Each
        check must be named once.
        """
        result = self.run_agents("diagnostics", "--format", "json", *args)
        report: dict[str, Any] = self.parse_json(result.stdout)
        expected = 1 if report["status"] == "fail" else 0
        if result.rc != expected:
            raise AssertionError(
                f"exit {result.rc} for a report with status {report['status']}\n{result}"
            )
        if rc is not None and result.rc != int(rc):
            raise AssertionError(f"expected exit {rc}\n{result}")
        names = [check["name"] for check in report["checks"]]
        if len(set(names)) != len(names):
            raise AssertionError(f"a check is named twice: {names}")
        return report

    @keyword
    def diagnostics_check(self, report: dict[str, Any], name: str) -> dict[str, Any]:
        """The check called ``name`` in a diagnostics report (it must be there)."""
        for check in report["checks"]:
            if check["name"] == name:
                found: dict[str, Any] = check
                return found
        names = [check["name"] for check in report["checks"]]
        raise AssertionError(f"no check {name!r} in the report; checks: {names}")

    @keyword
    def wait_until_diagnostics_check_is(
        self, name: str, status: str, *args: str, timeout: str = "30s"
    ) -> dict[str, Any]:
        """Poll `agents diagnostics --format json ARGS` until the check ``name`` has
        ``status``; return that report."""
        deadline = time.monotonic() + timestr_to_secs(timeout)
        while True:
            report = self.run_diagnostics(*args)
            check = self.diagnostics_check(report, name)
            if check["status"] == status:
                return report
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"check {name} is still {check['status']} after {timeout}, expected "
                    f"{status}: {check}"
                )
            _PAUSE.wait(POLL_INTERVAL_S)

    @keyword
    def parse_junit_report(self, path: str) -> dict[str, Any]:
        """Parse a JUnit XML file as `agents diagnostics --format junit` writes it: one
        <testsuites> holding one <testsuite>, whose ``tests`` and ``failures`` attributes (and
        the root's) count its <testcase> and <failure> elements.

        Returns ``{"tests", "failures", "cases": [{"name", "status", "text"}]}``: a case with
        a <failure> is ``fail``, one with only <system-out> ``warn``, one with neither ``ok``.
        """
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as exc:
            raise AssertionError(f"{path} is not well-formed XML: {exc}") from None
        if root.tag != "testsuites":
            raise AssertionError(f"the root element is <{root.tag}>, expected <testsuites>")
        suites = root.findall("testsuite")
        if len(suites) != 1 or len(root) != 1:
            raise AssertionError(f"expected one <testsuite>, found {[e.tag for e in root]}")
        suite = suites[0]
        cases = []
        for case in suite:
            if case.tag != "testcase":
                raise AssertionError(f"unexpected <{case.tag}> in the testsuite")
            failure = case.find("failure")
            out = case.find("system-out")
            if failure is not None and out is not None:
                raise AssertionError(f"testcase {case.get('name')} has both failure and output")
            if failure is not None:
                status, text = "fail", failure.text or ""
                if not failure.get("message"):
                    raise AssertionError(f"the failure of {case.get('name')} has no message")
            elif out is not None:
                status, text = "warn", out.text or ""
            else:
                status, text = "ok", ""
            cases.append({"name": case.get("name"), "status": status, "text": text})
        failures = sum(1 for case in cases if case["status"] == "fail")
        for element in (root, suite):
            counts = (element.get("tests"), element.get("failures"))
            if counts != (str(len(cases)), str(failures)):
                raise AssertionError(
                    f"<{element.tag}> says tests={counts[0]} failures={counts[1]}, but it "
                    f"holds {len(cases)} testcase(s) with {failures} failure(s)"
                )
        logger.info(f"{path}: {len(cases)} testcase(s), {failures} failure(s)")
        return {"tests": len(cases), "failures": failures, "cases": cases}

    @keyword
    def junit_report_should_match(self, junit: dict[str, Any], report: dict[str, Any]) -> None:
        """A parsed JUnit report (`Parse JUnit Report`) holds the checks of a JSON report:
        one testcase per check, in order, with the same status; the failure or output text
        holds the check's message and, when it has one, its remedy."""
        got = [(case["name"], case["status"]) for case in junit["cases"]]
        want = [(check["name"], check["status"]) for check in report["checks"]]
        if got != want:
            raise AssertionError(f"JUnit testcases {got}\ndo not match the checks {want}")
        for case, check in zip(junit["cases"], report["checks"], strict=True):
            if check["status"] == "ok":
                continue
            if check["message"] not in case["text"]:
                raise AssertionError(f"{case['name']}: {case['text']!r} lacks the message")
            if check["remedy"] and f"remedy: {check['remedy']}" not in case["text"]:
                raise AssertionError(f"{case['name']}: {case['text']!r} lacks the remedy")

    @keyword
    def wait_until_worker_is_listed(self, handle: Any, timeout: str = "30s") -> dict[str, Any]:
        """Poll `agents worker list --json` until it shows the worker process ``handle`` as
        running with a fresh heartbeat; return it."""
        pid = self._process().get_process_id(handle)
        deadline = time.monotonic() + timestr_to_secs(timeout)
        while True:
            workers = self.agents_json("worker", "list", "--json")
            found = [w for w in workers if w["pid"] == pid and w["hostname"] == self.host_name()]
            if found and found[0]["liveness"] == "running":
                worker: dict[str, Any] = found[0]
                return worker
            if not self._process().is_process_running(handle):
                raise AssertionError(f"worker {handle} (pid {pid}) exited before it was listed")
            if time.monotonic() >= deadline:
                raise AssertionError(f"worker pid {pid} not listed as running after {timeout}")
            _PAUSE.wait(POLL_INTERVAL_S)

    @staticmethod
    def _process() -> Any:
        return BuiltIn().get_library_instance("Process")

    # -- listener -----------------------------------------------------------------------------

    def close(self) -> None:
        """Remove the temp directories at the end of the run."""
        for path in self._dirs:
            shutil.rmtree(path, ignore_errors=True)
