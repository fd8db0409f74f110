"""Measurement helpers shared by the asv benchmarks and ``benchmarks/compare_huey.py``.

Every measurement runs on a fresh temporary SQLite file with the project's default settings
(WAL, ``synchronous=normal``; ``AsyncSettings()`` defaults: 4 threads, 1 s poll interval).
Nothing here asserts a time: figures are returned to the caller, which reports them.

Knobs (environment; the nox ``benchmark`` session passes ``AGENTS_BENCH_*`` through):

- ``AGENTS_BENCH_PROBES``: latency probes per run (default 200, as the peers' anchors use).
- ``AGENTS_BENCH_IDLE_S``: seconds the idle worker's CPU time is sampled over (default 5).
- ``AGENTS_BENCH_FINISHED``: finished rows in the big claim database (default 1,000,000).

Plans (``benchmarks/plans.py``, ``benchmarks/compare_parallel.py``): a fixture project of N empty
files, an action file whose ``flat`` decomposition gives exactly N one-file leaves, and a stored
plan; each run executes a fresh copy of the fixture's database.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cleveragents.domain.clock import utcnow
from cleveragents.domain.jobs import JobStatus
from cleveragents.domain.plans import PlanPhase
from cleveragents.plans.actions import load_action_file
from cleveragents.plans.creation import create_plan
from cleveragents.plans.executor import PlanExecutor, PlanRunReport
from cleveragents.settings import AsyncSettings, SQLiteSettings
from cleveragents.store.engine import Database
from cleveragents.store.jobs import JobStore
from cleveragents.store.migrations import ensure_schema
from cleveragents.store.projects import ProjectStore
from cleveragents.worker.queue import JobQueue
from cleveragents.worker.worker import AsyncWorker

DRAIN_JOBS = 5000
ENQUEUE_ONE_CALLS = 2000  # the huey anchor times 2,000 single enqueues too
ENQUEUE_MANY_JOBS = 10_000
LATENCY_GAP_S = (0.0, 0.2)  # as the anchors: a random gap before each probe, worker idle


def env_int(name: str, default: int) -> int:
    """An integer knob from the environment."""
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    """A float knob from the environment."""
    return float(os.environ.get(name, default))


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile, the same definition as the anchors' ``_common.percentile``."""
    vals = sorted(values)
    k = max(0, min(len(vals) - 1, round(pct / 100.0 * len(vals) + 0.5) - 1))
    return vals[k]


# -- databases ------------------------------------------------------------------------------


def db_url(path: Path | str) -> str:
    """The SQLAlchemy URL of an SQLite file."""
    return f"sqlite:///{path}"


def open_db(path: Path | str) -> Database:
    """Open (and migrate to head) the database at ``path`` with the default SQLite settings."""
    db = Database(db_url(path), SQLiteSettings())
    db.open()
    ensure_schema(db)
    return db


@contextmanager
def temp_dir(prefix: str = "agents-bench-") -> Iterator[Path]:
    """A temporary directory, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def enqueue_noops(db: Database, count: int) -> list[str]:
    """``count`` queued ``noop`` jobs in one transaction (the bulk API)."""
    queue = JobQueue(db)
    return queue.enqueue_many(queue.build("noop", {}) for _ in range(count))


_ROW_COLUMNS = (
    "id, kind, plan_id, phase, status, priority, payload_json, attempts, max_attempts, "
    "run_after, worker_id, last_heartbeat, cancel_requested, created_at, started_at, "
    "finished_at, error_message, result_json"
)


def _finished_row(i: int) -> tuple[Any, ...]:
    # Ids sort before any ULID minted today ("01F" < "01K"), like jobs that finished long ago;
    # timestamps in SQLAlchemy's SQLite format, one every half second from 2026-10-01.
    sec = i // 2
    stamp = (
        f"2026-10-{1 + sec // 86_400:02d} {sec // 3600 % 24:02d}:{sec // 60 % 60:02d}:"
        f"{sec % 60:02d}.{(i % 2) * 500_000:06d}"
    )
    return (
        f"01F{i:023d}",
        "noop",
        None,
        None,
        "succeeded",
        0,
        '{"schema_version": 1}',
        1,
        3,
        stamp,
        "bench-old-worker",
        stamp,
        0,
        stamp,
        stamp,
        stamp,
        None,
        None,
    )


def build_claim_db(path: Path, finished: int, queued: int) -> Path:
    """A migrated database holding ``finished`` succeeded jobs and ``queued`` queued ``noop`` jobs.

    The finished rows are bulk-inserted with the stdlib driver (secondary indexes dropped during
    the load and recreated from the schema's own ``CREATE INDEX`` statements); the queued jobs
    go through ``JobQueue.enqueue_many``. No ``ANALYZE`` is run: a real database has no
    ``sqlite_stat1`` either, and statistics would change SQLite's query plans.
    """
    open_db(path).dispose()
    if finished:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous=OFF")  # only while building the fixture
            indexes = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'async_jobs' AND sql IS NOT NULL"
            ).fetchall()
            for name, _ in indexes:
                conn.execute(f"DROP INDEX {name}")
            insert = f"INSERT INTO async_jobs ({_ROW_COLUMNS}) VALUES ({', '.join('?' * 18)})"
            batch = 100_000
            for start in range(0, finished, batch):
                conn.execute("BEGIN")
                conn.executemany(
                    insert, (_finished_row(i) for i in range(start, min(start + batch, finished)))
                )
                conn.execute("COMMIT")
            for _, sql in indexes:
                conn.execute(sql)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    if queued:
        db = open_db(path)
        try:
            enqueue_noops(db, queued)
        finally:
            db.dispose()
    return path


def requeue_running(db: Database) -> None:
    """Put every running job back to queued (resets a claim benchmark between calls)."""
    with db.write() as conn:
        conn.exec_driver_sql(
            "UPDATE async_jobs SET status = 'queued', worker_id = NULL, started_at = NULL, "
            "last_heartbeat = NULL, attempts = 0 WHERE status = 'running'"
        )


# -- end to end -----------------------------------------------------------------------------


@dataclass
class DrainResult:
    """One drain of ``jobs`` queued noops by an in-process worker."""

    jobs: int
    seconds: float  # AsyncWorker.run(burst=True): worker start -> every outcome recorded, stopped
    steady_seconds: float  # first job started -> last job finished (from the rows)

    @property
    def rate(self) -> float:
        """Jobs per second, from worker start."""
        return self.jobs / self.seconds

    @property
    def steady_rate(self) -> float:
        """Jobs per second, first start to last finish (the anchors' "steady" figure)."""
        return self.jobs / self.steady_seconds


def drain(jobs: int = DRAIN_JOBS, max_workers: int = 4, profile: Any = None) -> DrainResult:
    """Enqueue ``jobs`` noops (untimed), then time ``AsyncWorker.run(burst=True)`` draining them.

    The worker gets its own ``Database`` (its own engine and connections), as a worker process
    would. Raises if any job did not succeed: a fast wrong answer is not a figure.
    """
    with temp_dir() as tmp:
        path = tmp / "agents.db"
        producer = open_db(path)
        enqueue_noops(producer, jobs)
        producer.dispose()
        db = open_db(path)
        worker = AsyncWorker(db, AsyncSettings(max_workers=max_workers))
        if profile is not None:
            profile.enable()
        started = time.perf_counter()
        worker.run(burst=True)
        seconds = time.perf_counter() - started
        if profile is not None:
            profile.disable()
        first, last, done = succeeded_span(db)
        db.dispose()
    if done != jobs or worker.counters["jobs_succeeded"] != jobs:
        raise RuntimeError(f"drain finished {done} of {jobs} jobs: {worker.counters}")
    steady = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()
    return DrainResult(jobs=jobs, seconds=seconds, steady_seconds=steady)


def succeeded_span(db: Database) -> tuple[str, str, int]:
    """First start, last finish (as stored) and count of the succeeded jobs."""
    with db.read() as conn:
        first, last, done = conn.exec_driver_sql(
            "SELECT MIN(started_at), MAX(finished_at), COUNT(*) FROM async_jobs "
            "WHERE status = 'succeeded'"
        ).one()
    return first, last, done


def drain_process(jobs: int = DRAIN_JOBS) -> DrainResult:
    """Like :func:`drain`, but a real ``agents worker run --burst`` process at default settings.

    Timed from the spawn (interpreter start-up and imports included) until the process exited
    after recording every outcome: the counterpart of the anchors' "from consumer spawn".
    """
    with temp_dir() as tmp:
        path = tmp / "agents.db"
        producer = open_db(path)
        enqueue_noops(producer, jobs)
        producer.dispose()
        log_path = tmp / "worker.log"
        with log_path.open("wb") as log:
            started = time.perf_counter()
            code = subprocess.call(
                [sys.executable, "-m", "cleveragents", "worker", "run", "--burst"],
                env=worker_env(path),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=tmp,
            )
            seconds = time.perf_counter() - started
        db = open_db(path)
        first, last, done = succeeded_span(db)
        db.dispose()
        if code != 0 or done != jobs:
            raise RuntimeError(
                f"worker exited {code}, {done} of {jobs} succeeded:\n{log_path.read_text()}"
            )
    steady = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()
    return DrainResult(jobs=jobs, seconds=seconds, steady_seconds=steady)


# -- a real worker process ------------------------------------------------------------------


# Worker processes get a bytecode cache of their own in the temp dir. An environment with
# PYTHONDONTWRITEBYTECODE=1 and a virtualenv installed without .pyc files (uv's default) would
# otherwise recompile ~400 modules at every `agents` start (~0.8 s here), which is not what an
# installed tool costs; the peers' virtualenvs (pip) have their .pyc files.
PYCACHE = Path(tempfile.gettempdir()) / "agents-bench-pycache"


def worker_env(path: Path) -> dict[str, str]:
    """The environment of a worker at default settings on ``path``: no AGENTS_* but the URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTS_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env["AGENTS_DATABASE_URL"] = db_url(path)
    env["AGENTS_CONFIG"] = str(path.parent / "no-config.toml")  # does not exist: defaults
    return env


def warm_worker_bytecode() -> None:
    """Run ``agents worker run --burst`` once on an empty database, filling :data:`PYCACHE`."""
    with temp_dir() as tmp:
        subprocess.run(
            [sys.executable, "-m", "cleveragents", "worker", "run", "--burst"],
            env=worker_env(tmp / "agents.db"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
            cwd=tmp,
        )


@dataclass
class WorkerProcess:
    """``python -m cleveragents worker run`` (what ``agents worker run`` runs) on a database."""

    path: Path
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Spawn the worker and wait until its ``workers`` row says it is running."""
        self.log_path = self.path.parent / "worker.log"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cleveragents", "worker", "run"],
                env=worker_env(self.path),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.path.parent,
            )
        db = open_db(self.path)
        try:
            deadline = time.monotonic() + timeout
            while not self._registered(db):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker did not start; log:\n{self.log()}")
                time.sleep(0.05)
        finally:
            db.dispose()

    def _registered(self, db: Database) -> bool:
        assert self.proc is not None
        with db.read() as conn:
            row = conn.exec_driver_sql(
                "SELECT COUNT(*) FROM workers WHERE pid = ? AND status = 'running'",
                (self.proc.pid,),
            ).one()
        return bool(row[0])

    def cpu_seconds(self) -> float:
        """utime + stime of the worker process so far (all its threads), from /proc."""
        assert self.proc is not None
        with open(f"/proc/{self.proc.pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (graceful stop), then wait; SIGKILL if it hangs. Returns the exit code.

        If it hangs, :attr:`hang_report` says what each of its threads was blocked in.
        """
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.hang_report = self._threads()
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    hang_report: str = ""

    def _threads(self) -> str:
        """Each thread's name, state, kernel wait channel and syscall line, from /proc."""
        assert self.proc is not None
        lines = []
        for task in sorted(Path(f"/proc/{self.proc.pid}/task").iterdir()):

            def read(name: str, task: Path = task) -> str:
                try:
                    return (task / name).read_text().strip()
                except OSError as error:
                    return f"? ({error.strerror})"

            state = read("stat").rsplit(")", 1)[-1].split()[0]
            lines.append(
                f"tid {task.name} {read('comm')!r} state {state} wchan {read('wchan')!r} "
                f"syscall {read('syscall')!r}"
            )
        return "\n".join(lines)

    def log(self) -> str:
        """The worker's output so far."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")


@dataclass
class LatencyResult:
    """Pickup latencies of probes sent to an idle worker process, and its idle CPU use."""

    latencies_s: list[float] = field(default_factory=list)
    enqueue_s: list[float] = field(default_factory=list)
    idle_cpu_fraction: float = float("nan")
    idle_window_s: float = 0.0
    worker_failure: str = ""  # set (with strict=False) when the worker did not stop cleanly

    @property
    def p50_ms(self) -> float:
        """Median pickup latency, ms."""
        return percentile(self.latencies_s, 50) * 1000

    @property
    def p99_ms(self) -> float:
        """99th percentile pickup latency, ms."""
        return percentile(self.latencies_s, 99) * 1000

    @property
    def max_ms(self) -> float:
        """Worst pickup latency, ms."""
        return max(self.latencies_s) * 1000

    @property
    def idle_cpu_percent(self) -> float:
        """CPU time of the idle worker as a percentage of one core."""
        return self.idle_cpu_fraction * 100


def pickup_latency(
    probes: int | None = None,
    idle_s: float | None = None,
    seed: int = 0,
    strict: bool = True,
) -> LatencyResult:
    """Run a real worker process at default settings; sample its idle CPU, then its latency.

    Idle CPU: after the worker registered and settled for 1 s, its utime+stime from
    /proc/PID/stat over ``idle_s`` seconds of wall time, with nothing queued.

    Latency, as the anchors measure it: ``probes`` times, sleep a random 0-0.2 s gap (so the
    worker is idle and its poll phase is random), take ``t_enq = time.time()``, enqueue one
    ``diagnostics.probe`` job with ``JobQueue.enqueue`` from this process (another process and
    connection than the worker's), wait for it to finish. The probe handler records
    ``ctx.clock()`` as the first thing it does (``result.ran_at``), on the pool thread that runs
    it. Latency = ran_at - t_enq, so it includes the enqueue call itself (an INSERT + COMMIT), the
    worker noticing the commit, the claim transaction and the hand-off to a pool thread.

    The worker is then stopped with SIGTERM; if it does not exit cleanly within 30 s, this
    raises (``strict``) or records the failure in ``worker_failure``.
    """
    probes = probes if probes is not None else env_int("AGENTS_BENCH_PROBES", 200)
    idle_s = idle_s if idle_s is not None else env_float("AGENTS_BENCH_IDLE_S", 5.0)
    result = LatencyResult()
    with temp_dir() as tmp:
        path = tmp / "agents.db"
        open_db(path).dispose()
        worker = WorkerProcess(path)
        db = open_db(path)
        try:
            worker.start()
            time.sleep(1.0)  # let start-up work (recovery, prune, first heartbeat wait) settle
            cpu0, wall0 = worker.cpu_seconds(), time.monotonic()
            time.sleep(idle_s)
            cpu1, wall1 = worker.cpu_seconds(), time.monotonic()
            result.idle_window_s = wall1 - wall0
            result.idle_cpu_fraction = (cpu1 - cpu0) / (wall1 - wall0)

            queue = JobQueue(db)
            rng = random.Random(seed)
            _probe(queue)  # warm-up: connections, statement caches on both sides
            for _ in range(probes):
                time.sleep(rng.uniform(*LATENCY_GAP_S))
                latency, cost = _probe(queue)
                result.latencies_s.append(latency)
                result.enqueue_s.append(cost)
        finally:
            db.dispose()
            code = worker.stop()
        errors = [ln for ln in worker.log().splitlines() if "ERROR" in ln or "Traceback" in ln]
        if code != 0 or errors:
            result.worker_failure = (
                f"worker exited with {code} after SIGTERM; threads when it hung:\n"
                f"{worker.hang_report or '-'}\nlog:\n{worker.log()}"
            )
            if strict:
                raise RuntimeError(result.worker_failure)
    return result


def _probe(queue: JobQueue) -> tuple[float, float]:
    t_enq = time.time()
    job = queue.enqueue("diagnostics.probe", {})
    cost = time.time() - t_enq
    done = queue.wait(job.id, timeout=30)
    if done.status != JobStatus.SUCCEEDED:
        raise RuntimeError(f"probe {job.id} ended {done.status}: {done.error_message}")
    ran_at = datetime.fromisoformat(done.result["ran_at"]).timestamp()
    return ran_at - t_enq, cost


# -- enqueue --------------------------------------------------------------------------------


def enqueue_one_rate(calls: int = ENQUEUE_ONE_CALLS) -> float:
    """Jobs/s of ``calls`` consecutive ``JobQueue.enqueue("noop", {})`` calls (each one commit)."""
    with temp_dir() as tmp:
        db = open_db(tmp / "agents.db")
        queue = JobQueue(db)
        queue.enqueue("noop", {})  # connection and statement cache outside the timing
        started = time.perf_counter()
        for _ in range(calls):
            queue.enqueue("noop", {})
        seconds = time.perf_counter() - started
        db.dispose()
    return calls / seconds


def enqueue_many_rate(jobs: int = ENQUEUE_MANY_JOBS, include_build: bool = False) -> float:
    """Jobs/s of one ``JobQueue.enqueue_many`` of ``jobs`` noops (optionally with ``build``)."""
    with temp_dir() as tmp:
        db = open_db(tmp / "agents.db")
        queue = JobQueue(db)
        queue.enqueue("noop", {})
        built = None if include_build else [queue.build("noop", {}) for _ in range(jobs)]
        started = time.perf_counter()
        if built is None:
            queue.enqueue_many(queue.build("noop", {}) for _ in range(jobs))
        else:
            queue.enqueue_many(built)
        seconds = time.perf_counter() - started
        counts = JobStore(db).count_by_status()
        db.dispose()
    if counts[JobStatus.QUEUED] != jobs + 1:
        raise RuntimeError(f"enqueue_many stored {counts[JobStatus.QUEUED] - 1} of {jobs} jobs")
    return jobs / seconds


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


# -- plans ----------------------------------------------------------------------------------

PLAN_LEAVES = 1000  # the in-process and external-command plans
BIG_PLAN_LEAVES = 10_000  # the memory figure
INPROCESS_PARALLEL = 32
EXTERNAL_PARALLEL = 8
TRUE_ARGV = ("true",)
BENCH_DIR = Path(__file__).resolve().parent.parent  # holds the ``benchmarks`` package


@dataclass(frozen=True)
class PlanFixture:
    """A stored, not yet executed plan of ``leaves`` one-file leaves (see :func:`build_plan`).

    Plain strings and ints, so that asv can pickle it from ``setup_cache`` (:meth:`as_dict`).
    """

    db_path: str
    plan_id: str
    project_id: str
    action_path: str
    leaves: int
    max_parallel: int

    def as_dict(self) -> dict[str, Any]:
        """The fixture as a dict of plain values (``PlanFixture(**d)`` reads it back)."""
        return dict(self.__dict__)


def write_leaf_action(path: Path, *, builtin: str | None = None, command: Any = None) -> Path:
    """An action file running ``builtin`` (a name) or ``command`` (an argv) on one file per leaf,
    in place: the dispatcher's overhead against a bare thread pool, which has no sandbox either.

    ``strategy = "flat"`` with at most and at least one file per subplan: N files make exactly
    N leaves under the root (``Decomposer._chunks`` cuts ``max(ceil(N / 1), 2)`` chunks of 1).
    """
    if (builtin is None) == (command is None):
        raise ValueError("give exactly one of builtin or command")
    runs = f"builtin = {json.dumps(builtin)}" if builtin else f"command = {json.dumps(command)}"
    path.write_text(
        f'[action]\ndescription = "benchmark leaf"\n{runs}\nisolation = "in-place"\n\n'
        "[action.decompose]\n"
        'strategy = "flat"\nmax_files_per_subplan = 1\nmin_files_per_subplan = 1\n',
        encoding="utf-8",
    )
    return path


def build_plan(
    directory: Path,
    leaves: int,
    *,
    max_parallel: int,
    builtin: str | None = None,
    command: Any = None,
) -> PlanFixture:
    """Under ``directory``: a project of ``leaves`` empty files, an action file, and a database
    (``fixture.db``, checkpointed into one file) holding the project and a created plan."""
    directory.mkdir(parents=True, exist_ok=True)
    files = directory / "project" / "files"
    files.mkdir(parents=True, exist_ok=True)
    for i in range(leaves):
        (files / f"f{i:05d}.txt").touch()
    action_path = write_leaf_action(directory / "leaf.toml", builtin=builtin, command=command)
    db_path = directory / "fixture.db"
    db = open_db(db_path)
    try:
        project = ProjectStore(db).add(f"bench-{leaves}", str(directory / "project"), utcnow())
        plan, nodes = create_plan(
            db,
            project,
            load_action_file(action_path),
            overrides={"max_parallel": max_parallel},
            global_values={},
            now=utcnow(),
        )
    finally:
        db.dispose()
    made = sum(1 for node in nodes if node.is_leaf)
    if made != leaves:
        raise RuntimeError(f"the fixture plan has {made} leaves, not {leaves}")
    _checkpoint(db_path)
    return PlanFixture(str(db_path), plan.id, project.id, str(action_path), leaves, max_parallel)


def _checkpoint(path: Path | str) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def copy_plan_db(fixture: PlanFixture, directory: Path) -> Path:
    """A fresh copy of the fixture's database (its plan not executed yet) in ``directory``."""
    target = directory / "agents.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(fixture.db_path, target)
    return target


def check_plan_run(report: PlanRunReport, fixture: PlanFixture) -> None:
    """Raise unless the run executed every leaf: a fast wrong answer is not a figure."""
    if report.plan.phase is not PlanPhase.EXECUTED or report.counts.completed != fixture.leaves:
        raise RuntimeError(
            f"plan ended {report.plan.phase.value}: {report.counts} ({report.error})"
        )


@dataclass
class PlanRun:
    """One execution of a fixture plan."""

    leaves: int
    seconds: float  # PlanExecutor.execute(): begin -> every transition stored -> plan finished
    peak_running: int

    @property
    def rate(self) -> float:
        """Leaf subplans per second."""
        return self.leaves / self.seconds


def run_plan(fixture: PlanFixture, profile: Any = None) -> PlanRun:
    """Execute a fresh copy of the fixture's plan; time ``PlanExecutor.execute`` alone."""
    with temp_dir("agents-bench-plan-") as tmp:
        db = open_db(copy_plan_db(fixture, tmp))
        try:
            executor = PlanExecutor(db)
            if profile is not None:
                profile.enable()
            started = time.perf_counter()
            report = executor.execute(fixture.plan_id)
            seconds = time.perf_counter() - started
            if profile is not None:
                profile.disable()
        finally:
            db.dispose()
    check_plan_run(report, fixture)
    return PlanRun(fixture.leaves, seconds, report.peak_running)


def threadpool_true(count: int = PLAN_LEAVES, workers: int = EXTERNAL_PARALLEL) -> float:
    """The bare floor: seconds for ``ThreadPoolExecutor(workers)`` to ``subprocess.run(["true"])``
    ``count`` times (pool start-up included)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        codes = list(pool.map(lambda _: subprocess.run(list(TRUE_ARGV)).returncode, range(count)))
    seconds = time.perf_counter() - started
    if any(codes):
        raise RuntimeError(f"{sum(1 for c in codes if c)} of {count} `true` runs failed")
    return seconds


def gnu_parallel_argv(count: int = PLAN_LEAVES, jobs: int = EXTERNAL_PARALLEL) -> list[str]:
    """``parallel -j JOBS true ::: $(seq COUNT)`` as an argv (``--will-cite``: no notice)."""
    return ["parallel", "--will-cite", "-j", str(jobs), *TRUE_ARGV, ":::", *map(str, range(count))]


def gnu_parallel_available() -> bool:
    """Whether GNU parallel (Debian package ``parallel``) is on PATH."""
    return shutil.which("parallel") is not None


def gnu_parallel_true(count: int = PLAN_LEAVES, jobs: int = EXTERNAL_PARALLEL) -> float:
    """Seconds for GNU parallel to run ``true`` ``count`` times, ``jobs`` at once."""
    started = time.perf_counter()
    subprocess.run(gnu_parallel_argv(count, jobs), check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


@dataclass
class PlanMemory:
    """Peak RSS of a child process that executed (or created and executed) a fixture plan."""

    hwm_bytes: int  # the child's VmHWM (peak RSS of its own address space), from /proc
    baseline_bytes: int  # its VmHWM once the modules were imported, before the plan was touched
    seconds: float  # its execute() (and create_plan(), when it created the plan)

    @property
    def peak_mb(self) -> float:
        """Peak RSS in MiB."""
        return self.hwm_bytes / (1 << 20)

    @property
    def baseline_mb(self) -> float:
        """Peak RSS after the imports, in MiB."""
        return self.baseline_bytes / (1 << 20)


def vm_hwm_bytes() -> int:
    """This process's peak RSS (``VmHWM`` in /proc/self/status).

    Not ``ru_maxrss``: on Linux that keeps the RSS the process had before ``exec``, i.e. the
    parent's at fork/vfork time, so a child of a big parent would report the parent's size.
    """
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def plan_peak_rss(fixture: PlanFixture, create: bool = False) -> PlanMemory:
    """Run a fresh copy of the fixture's plan in a child Python process; its peak RSS.

    The child imports this module, opens a copy of the fixture's database and executes the plan
    (with ``create``, first creates a new plan of the same project and action, as
    ``agents plan run`` would), then reports its ``VmHWM`` (see :func:`vm_hwm_bytes`).
    """
    with temp_dir("agents-bench-rss-") as tmp:
        db_path = copy_plan_db(fixture, tmp)
        code = (
            f"import sys; sys.path.insert(0, {str(BENCH_DIR)!r}); "
            "from benchmarks._support import _plan_child; _plan_child()"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code, str(db_path), json.dumps(fixture.as_dict()), str(create)],
            stdout=subprocess.PIPE,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"the plan child exited {proc.returncode}: {proc.stdout!r}")
    result = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    return PlanMemory(result["hwm_bytes"], result["baseline_bytes"], result["seconds"])


def _plan_child() -> None:
    """The child of :func:`plan_peak_rss`: argv is DB_PATH FIXTURE_JSON CREATE."""
    baseline = vm_hwm_bytes()
    db_path, raw, create = sys.argv[1], sys.argv[2], sys.argv[3] == "True"
    fixture = PlanFixture(**json.loads(raw))
    db = open_db(db_path)
    started = time.perf_counter()
    plan_id = fixture.plan_id
    if create:
        project = ProjectStore(db).get(fixture.project_id)
        plan, _ = create_plan(
            db,
            project,
            load_action_file(Path(fixture.action_path)),
            overrides={"max_parallel": fixture.max_parallel},
            global_values={},
            now=utcnow(),
        )
        plan_id = plan.id
    report = PlanExecutor(db).execute(plan_id)
    seconds = time.perf_counter() - started
    db.dispose()
    check_plan_run(report, fixture)
    print(json.dumps({"seconds": seconds, "hwm_bytes": vm_hwm_bytes(), "baseline_bytes": baseline}))
