"""Leaves' output kept per attempt (``subplan_logs``): reading it back, and capturing it.

- ``PlanLogs``: ``agents plan logs PLAN`` of a plan of 10,000 leaves (each with a few lines of
  stored output) as a real process: the time until the first line arrives on its stdout, and
  until it has printed everything; beside it the same for a plan of one leaf (what the CLI costs
  whatever the plan's size) and, as the floor, ``python -c pass`` run to its exit. The plan is
  built in ``setup_cache`` directly through the store (``PlanStore.create``, then
  ``PlanStore.record`` of each leaf's completion with its ``LogChunk``, as the plan's journal
  writes them), not by executing 10,000 commands. Its stdout is a pipe, as for ``| less``:
  Python buffers it (8 KiB), so the first line arrives with the first 8 KiB (about 140 lines of
  the big plan) or, for the one-leaf plan, when the process ends.
- ``Capture``: throughput of ``plans/capture.py`` over a 100 MB file of 100-byte log lines:
  ``AttemptLog`` reading a finished file uncapped (to a sink that only counts, and through a
  real ``PlanJournal`` into SQLite, compressed as the run stores it) and at the default cap
  (``logs.max_bytes``, 4 MiB: the rest is counted, not read); and ``LogPump`` following a child
  process while it writes the 100 MB, beside that writer alone (its output to a file in TMPDIR).
  MB/s of wall time (decimal MB: 100 MB is 100,000,000 bytes).

Nothing here asserts a figure. Knob: ``AGENTS_BENCH_LOG_BYTES`` (default 100,000,000), the size
of the captured file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleveragents.domain.clock import utcnow
from cleveragents.domain.ids import new_id, new_ids
from cleveragents.domain.plans import Plan, PlanPhase, Subplan, SubplanState
from cleveragents.domain.profile import resolve_profile
from cleveragents.plans.capture import DEFAULT_MAX_BYTES, AttemptLog, LogPump
from cleveragents.plans.creation import PLAN_SOURCE
from cleveragents.plans.journal import PlanJournal
from cleveragents.store.logs import LogChunk
from cleveragents.store.plans import PlanStore, SubplanUpdate
from cleveragents.store.projects import ProjectStore

try:
    from cleveragents.plans.action_files import load_action_file  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # before action files moved out of plans/actions.py
    from cleveragents.plans.actions import load_action_file  # type: ignore[attr-defined,no-redef,unused-ignore]

from ._db import checkpoint, open_db
from ._plans import BIG_PLAN_LEAVES, TRUE_ARGV, write_leaf_action
from ._processes import PYCACHE, agents_argv, worker_env
from ._support import env_int, temp_dir

Cache = dict[str, Any]
LOG_LINES = 3  # lines of output stored per leaf of the 10,000-leaf plan
RECORD_BATCH = 1000  # leaves per PlanStore.record() transaction while building it
CAPTURE_BYTES = env_int("AGENTS_BENCH_LOG_BYTES", 100_000_000)
LINE_BYTES = 100
LINES_PER_BLOCK = 10_000  # one write of the generator: 1 MB
CLI_TIMEOUT_S = 120.0

# A child that prints CAPTURE_BYTES of 100-byte lines (a counter, then text), 1 MB per write: one
# block of 10,000 distinct lines made once and written over and over, so that the child costs
# little CPU and its writes go as fast as the file takes them. The same program writes the
# fixture file, so the file and a live run hold the same bytes.
WRITER = (
    "import sys\n"
    "total = int(sys.argv[1])\n"
    "out = open(sys.argv[2], 'wb') if len(sys.argv) > 2 else sys.stdout.buffer\n"
    "pad = ('lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor '"
    f" * 2)[:{LINE_BYTES - 11}]\n"
    f"block = ''.join(f'{{i:09d}} {{pad}}\\n' for i in range({LINES_PER_BLOCK})).encode()\n"
    "for _ in range(total // len(block)):\n"
    "    out.write(block)\n"
    "out.write(block[: total % len(block)])\n"
    "out.flush()\n"
)


def writer_argv(total: int, path: str | None = None) -> list[str]:
    """A Python child writing ``total`` bytes of 100-byte lines to ``path`` (or its stdout)."""
    return [sys.executable, "-c", WRITER, str(total), *([path] if path else [])]


# -- the stored plan ------------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedPlan:
    """A plan whose ``leaves`` completed (attempt 1), each with ``LOG_LINES`` of stored output."""

    db_path: str
    plan_id: str
    leaf_ids: tuple[str, ...]
    leaves: int


def leaf_output(index: int) -> str:
    """The few lines leaf ``index`` printed."""
    return "".join(
        f"f{index:05d}.txt: step {n} of {LOG_LINES}: ok ({index * 7 % 1000} ms)\n"
        for n in range(1, LOG_LINES + 1)
    )


def build_logged_plan(directory: Path, leaves: int) -> LoggedPlan:
    """Under ``directory``: a database (``logs.db``, checkpointed) holding a project and an
    executed plan of ``leaves`` leaves that ran ``true``, each completed with its output stored.

    Written through the store API, as a run writes it: ``PlanStore.create`` (the plan and its
    tree, a root and one leaf per file), ``begin_execution``, ``PlanStore.record`` (each leaf's
    completion and its ``LogChunk``, in batches, as the journal does) and ``finish``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "project").mkdir(exist_ok=True)
    action = load_action_file(write_leaf_action(directory / "leaf.toml", command=list(TRUE_ARGV)))
    db_path = directory / "logs.db"
    db = open_db(db_path)
    try:
        now = utcnow()
        project = ProjectStore(db).add(f"bench-logs-{leaves}", str(directory / "project"), now)
        plan_id = new_id()
        ids = new_ids(leaves + 1)
        root = Subplan(
            id=ids[0],
            plan_id=plan_id,
            parent_id=None,
            depth=0,
            position=0,
            label=".",
            is_leaf=False,
            file_count=leaves,
        )
        nodes = [root] + [
            Subplan(
                id=ids[i + 1],
                plan_id=plan_id,
                parent_id=root.id,
                depth=1,
                position=i + 1,
                label=f"f{i:05d}.txt",
                is_leaf=True,
                files=[f"f{i:05d}.txt"],
                file_count=1,
            )
            for i in range(leaves)
        ]
        plan = Plan(
            id=plan_id,
            project_id=project.id,
            project_name=project.name,
            action_name=action.name,
            action=action.snapshot(),
            profile=resolve_profile([(PLAN_SOURCE, {}), action.profile_layer()], {}),
            created_at=now,
        )
        store = PlanStore(db)
        store.create(plan, nodes)
        owner = new_id()
        store.begin_execution(plan_id, owner, now, discard_changes_of=SubplanState.PENDING)
        leaf_ids = ids[1:]
        for start in range(0, leaves, RECORD_BATCH):
            batch = range(start, min(start + RECORD_BATCH, leaves))
            store.record(
                plan_id,
                [
                    SubplanUpdate(
                        leaf_ids[i],
                        SubplanState.COMPLETED,
                        at=now,
                        attempts=1,
                        data={"exit_code": 0},
                        exit_code=0,
                        output_tail=leaf_output(i),
                        started_at=now,
                        finished_at=now,
                    )
                    for i in batch
                ],
                [LogChunk(leaf_ids[i], 1, leaf_output(i)) for i in batch],
            )
        store.finish(plan_id, PlanPhase.EXECUTED, utcnow(), owner=owner)
    finally:
        db.dispose()
    checkpoint(db_path)
    return LoggedPlan(str(db_path), plan_id, tuple(leaf_ids), leaves)


def logs_argv(plan: LoggedPlan) -> list[str]:
    """``agents plan logs PLAN`` as this interpreter runs it."""
    return agents_argv("plan", "logs", plan.plan_id)


def start_logs(plan: LoggedPlan, cwd: str) -> subprocess.Popen[bytes]:
    """``agents plan logs PLAN`` started, its stdout a pipe."""
    return subprocess.Popen(
        logs_argv(plan),
        env=worker_env(plan.db_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
    )


def first_line(proc: subprocess.Popen[bytes]) -> bytes:
    """The first line ``proc`` prints; raises if it prints none."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        raise RuntimeError(f"`agents plan logs` printed nothing (exit {proc.returncode})")
    return line


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End a ``plan logs`` that was only read up to its first line."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    if proc.stdout is not None:
        proc.stdout.close()
    proc.wait(CLI_TIMEOUT_S)


def logs_all(plan: LoggedPlan, cwd: str) -> int:
    """Run ``agents plan logs PLAN`` to its exit; the lines it printed."""
    done = subprocess.run(
        logs_argv(plan),
        env=worker_env(plan.db_path),
        capture_output=True,
        cwd=cwd,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"`agents plan logs` exited {done.returncode}: {done.stderr[-500:]!r}")
    return done.stdout.count(b"\n")


class PlanLogs:
    """``agents plan logs PLAN``: 10,000 leaves of ``LOG_LINES`` lines each, and 1 leaf."""

    number = 1  # one process per sample
    repeat = (3, 10, 20.0)
    warmup_time = 0.0
    timeout = 180.0

    def setup_cache(self) -> Cache:
        here = Path(os.getcwd())  # asv's temp dir for this run, shared by the benchmarks
        big = build_logged_plan(here / "logs-big", BIG_PLAN_LEAVES)
        one = build_logged_plan(here / "logs-one", 1)
        lines = logs_all(big, str(here))  # fills the bytecode cache (PYCACHE) too
        expected = BIG_PLAN_LEAVES * LOG_LINES
        if lines != expected:
            raise RuntimeError(f"`plan logs` printed {lines} lines, not {expected}")
        return {"big": big.__dict__, "one": one.__dict__, "cwd": str(here)}

    setup_cache.timeout = 300.0  # type: ignore[attr-defined]

    def setup(self, cache: Cache) -> None:
        self.big = LoggedPlan(**cache["big"])
        self.one = LoggedPlan(**cache["one"])
        self.cwd = cache["cwd"]
        self.proc: subprocess.Popen[bytes] | None = None

    def teardown(self, cache: Cache) -> None:
        if self.proc is not None:
            stop(self.proc)  # untimed: the output after the first line is not waited for
            self.proc = None

    def time_plan_logs_10000_leaves_first_line(self, cache: Cache) -> None:
        """Start ``agents plan logs PLAN`` -> its first line read from its stdout."""
        self.proc = start_logs(self.big, self.cwd)
        first_line(self.proc)

    def time_plan_logs_1_leaf_first_line(self, cache: Cache) -> None:
        """The same for a plan of one leaf: what the CLI costs whatever the plan's size."""
        self.proc = start_logs(self.one, self.cwd)
        first_line(self.proc)

    def time_plan_logs_10000_leaves_all(self, cache: Cache) -> None:
        """``agents plan logs PLAN`` run to its exit (30,000 lines into a pipe)."""
        logs_all(self.big, self.cwd)

    def time_python_floor(self, cache: Cache) -> None:
        """The floor: ``python -c pass`` started and exited (this interpreter)."""
        subprocess.run(
            [sys.executable, "-c", "pass"],
            env={**os.environ, "PYTHONPYCACHEPREFIX": str(PYCACHE)},
            check=True,
        )


# -- capture --------------------------------------------------------------------------------


def write_capture_file(path: Path, total: int = CAPTURE_BYTES) -> Path:
    """``total`` bytes of 100-byte lines at ``path`` (by the same program a live run uses)."""
    subprocess.run(writer_argv(total, str(path)), check=True)
    return path


class CountingSink:
    """A sink that keeps nothing: what the capture itself costs."""

    def __init__(self) -> None:
        self.chars = 0
        self.chunks = 0

    def __call__(self, chunk: LogChunk) -> None:
        self.chars += len(chunk.text)
        self.chunks += 1


def attempt_log_seconds(path: str, max_bytes: int, sink: Any) -> tuple[float, AttemptLog]:
    """Seconds for an ``AttemptLog`` to take in the whole of a finished file (attach, detach,
    close: everything read, passed on in chunks, the marker if cut)."""
    with open(path, "rb") as output:
        log = AttemptLog("bench-subplan", 1, sink, max_bytes)
        started = time.perf_counter()
        log.attach(output)
        log.detach()
        log.close()
        return time.perf_counter() - started, log


def stored_capture_seconds(path: str, directory: Path) -> float:
    """Seconds for an uncapped ``AttemptLog`` to pass the whole file through a ``PlanJournal``
    into a fresh SQLite database (one completed leaf's plan), until the journal has written it
    all (``close``): chunks redacted, compressed and inserted, as a run stores them."""
    plan = build_logged_plan(directory, 1)
    db = open_db(plan.db_path)
    try:
        journal = PlanJournal(PlanStore(db), plan.plan_id)
        with open(path, "rb") as output:
            log = AttemptLog(plan.leaf_ids[0], 2, journal.submit_log, os.path.getsize(path) + 1)
            started = time.perf_counter()
            log.attach(output)
            log.detach()
            log.close()
            journal.close()
            seconds = time.perf_counter() - started
    finally:
        db.dispose()
    if log.kept != os.path.getsize(path):
        raise RuntimeError(f"kept {log.kept} bytes of {os.path.getsize(path)}")
    return seconds


def pump_live_seconds(total: int, max_bytes: int) -> tuple[float, AttemptLog]:
    """A child writes ``total`` bytes into an output file (as a leaf's command does) while a
    ``LogPump`` polls it at its default interval; seconds from the child's start until the pump
    has passed everything on (``finish``)."""
    sink = CountingSink()
    pump = LogPump(sink, max_bytes)
    try:
        with tempfile.TemporaryFile(prefix="agents-bench-output-") as output:
            started = time.perf_counter()
            log = pump.open("bench-subplan", 1)
            log.attach(output)
            subprocess.run(writer_argv(total), stdout=output, check=True)
            log.detach()
            pump.finish(log)
            return time.perf_counter() - started, log
    finally:
        pump.close()


def writer_alone_seconds(total: int) -> float:
    """The floor: the same child writing ``total`` bytes to a file in TMPDIR, nothing reading."""
    with tempfile.TemporaryFile(prefix="agents-bench-output-") as output:
        started = time.perf_counter()
        subprocess.run(writer_argv(total), stdout=output, check=True)
        return time.perf_counter() - started


def _mb_per_s(count: int, seconds: float) -> float:
    return count / 1e6 / seconds


class Capture:
    """``plans/capture.py`` over ``CAPTURE_BYTES`` (100 MB) of 100-byte lines."""

    timeout = 300.0
    repeat = (2, 5, 60.0)
    warmup_time = 0.0

    def setup_cache(self) -> Cache:
        path = write_capture_file(Path("capture-100mb.log").resolve())
        return {"path": str(path), "size": path.stat().st_size}

    setup_cache.timeout = 300.0  # type: ignore[attr-defined]

    def track_attempt_log_uncapped_mb_per_s(self, cache: Cache) -> float:
        """AttemptLog, no cap (max_bytes above the size): read, decoded, redacted, chunked,
        to a sink that only counts. MB of file per wall second."""
        seconds, log = attempt_log_seconds(cache["path"], cache["size"] + 1, CountingSink())
        if log.kept != cache["size"]:
            raise RuntimeError(f"kept {log.kept} bytes of {cache['size']}")
        return _mb_per_s(cache["size"], seconds)

    track_attempt_log_uncapped_mb_per_s.unit = "MB/s"  # type: ignore[attr-defined]

    def track_attempt_log_uncapped_stored_mb_per_s(self, cache: Cache) -> float:
        """The same through a PlanJournal into SQLite (zlib, one insert per chunk): MB/s."""
        with temp_dir("agents-bench-logs-") as tmp:
            return _mb_per_s(cache["size"], stored_capture_seconds(cache["path"], tmp))

    track_attempt_log_uncapped_stored_mb_per_s.unit = "MB/s"  # type: ignore[attr-defined]

    def track_attempt_log_default_cap_mb_per_s(self, cache: Cache) -> float:
        """AttemptLog at the default cap (4 MiB kept, the rest counted): MB of file per s."""
        seconds, log = attempt_log_seconds(cache["path"], DEFAULT_MAX_BYTES, CountingSink())
        if log.kept != DEFAULT_MAX_BYTES or log.kept + log.dropped != cache["size"]:
            raise RuntimeError(f"kept {log.kept}, dropped {log.dropped} of {cache['size']}")
        return _mb_per_s(cache["size"], seconds)

    track_attempt_log_default_cap_mb_per_s.unit = "MB/s"  # type: ignore[attr-defined]

    def track_log_pump_live_uncapped_mb_per_s(self, cache: Cache) -> float:
        """LogPump following a child writing 100 MB, no cap: child start -> all passed on."""
        seconds, log = pump_live_seconds(cache["size"], cache["size"] + 1)
        if log.kept != cache["size"]:
            raise RuntimeError(f"kept {log.kept} bytes of {cache['size']}")
        return _mb_per_s(cache["size"], seconds)

    track_log_pump_live_uncapped_mb_per_s.unit = "MB/s"  # type: ignore[attr-defined]

    def track_log_pump_live_default_cap_mb_per_s(self, cache: Cache) -> float:
        """The same at the default cap (4 MiB)."""
        seconds, _ = pump_live_seconds(cache["size"], DEFAULT_MAX_BYTES)
        return _mb_per_s(cache["size"], seconds)

    track_log_pump_live_default_cap_mb_per_s.unit = "MB/s"  # type: ignore[attr-defined]

    def track_writer_alone_mb_per_s(self, cache: Cache) -> float:
        """The floor: the writing child alone, its output to a file in TMPDIR."""
        return _mb_per_s(cache["size"], writer_alone_seconds(cache["size"]))

    track_writer_alone_mb_per_s.unit = "MB/s"  # type: ignore[attr-defined]
