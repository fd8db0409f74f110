"""Measurement helpers shared by the asv benchmarks and ``benchmarks/compare_huey.py``.

Every measurement runs on a fresh temporary SQLite file with the project's default settings
(WAL, ``synchronous=normal``; ``AsyncSettings()`` defaults: 4 threads, 1 s poll interval).
Nothing here asserts a time: figures are returned to the caller, which reports them.

Knobs (environment; the nox ``benchmark`` session passes ``AGENTS_BENCH_*`` through):

- ``AGENTS_BENCH_PROBES``: latency probes per run (default 200, as the peers' anchors use).
- ``AGENTS_BENCH_IDLE_S``: seconds the idle worker's CPU time is sampled over (default 5).
- ``AGENTS_BENCH_FINISHED``: finished rows in the big claim database (default 1,000,000).
"""

from __future__ import annotations

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
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cleveragents.domain.jobs import JobStatus
from cleveragents.settings import AsyncSettings, SQLiteSettings
from cleveragents.store.engine import Database
from cleveragents.store.jobs import JobStore
from cleveragents.store.migrations import ensure_schema
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
