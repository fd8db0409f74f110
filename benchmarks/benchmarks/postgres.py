"""PostgreSQL: worker processes draining no-ops, pickup latency with LISTEN/NOTIFY, the claim.

Needs the PostgreSQL server programs (``postgres``, ``initdb``, ``pg_isready``, ``createdb``: the
Debian package ``postgresql``, or ``AGENTS_PG_BINDIR``) and psycopg 3 (the ``postgres`` extra).
Without either, every benchmark here is skipped (``NotImplementedError`` in ``setup``).

Each class starts one throwaway cluster with ``tools/pgcluster.py`` (127.0.0.1 only, its data in
a temp dir) and stops it again, temp dirs included. The cluster runs with PostgreSQL's own
durability defaults (``fsync``, ``synchronous_commit`` and ``full_page_writes`` on, set back with
``ALTER SYSTEM`` over pgcluster's test settings), as the peers' procrastinate anchor ran its
server; ``AGENTS_BENCH_PG_SETTINGS=pgcluster`` keeps pgcluster's fast, non-durable settings.

- ``Drain4Processes.time_drain_2000_noops_4_processes``: 2,000 ``noop`` jobs queued beforehand
  (untimed), then 4 real ``agents worker run --burst --max-workers 4`` processes (``python -m
  cleveragents``), timed from the first spawn until all four exited. One cluster per ``setup``
  (about 0.6 s, outside the timing).
- ``PostgresQueue`` measures everything once in ``setup_cache`` on one cluster: the same drain
  (jobs/s from the first spawn to the last job's ``finished_at``), the pickup latency of an idle
  ``agents worker run`` at default settings (``AGENTS_BENCH_PROBES`` probes, each after a random
  0-0.2 s gap, as ``latency.py`` and the anchors do; the worker wakes on NOTIFY), the idle
  worker's CPU, and ``JobStore.claim`` of 4 of 100 queued jobs (median of 200 calls, µs).

The helpers below are shared with ``benchmarks/compare_procrastinate.py``.
"""

from __future__ import annotations

import importlib.util
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import text

from cleveragents.domain.clock import utcnow
from cleveragents.domain.jobs import JobStatus
from cleveragents.store.engine import NOTIFY_CHANNEL, Database
from cleveragents.store.jobs import JobStore
from cleveragents.store.migrations import ensure_schema
from cleveragents.worker.queue import JobQueue

from ._support import (
    LATENCY_GAP_S,
    PYCACHE,
    LatencyResult,
    enqueue_noops,
    env_float,
    env_int,
    requeue_running,
    temp_dir,
)

REPO = Path(__file__).resolve().parents[2]
PGCLUSTER = REPO / "tools" / "pgcluster.py"
SERVER_PROGRAMS = ("postgres", "initdb", "pg_isready", "createdb")
# PostgreSQL's own defaults for what pgcluster turns off for tests (all reloadable settings).
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
SHOWN = (
    "server_version",
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_level",
    "shared_buffers",
    "max_connections",
)
PG_DRAIN_JOBS = 2000
PG_PROCESSES = 4
PG_THREADS = 4  # --max-workers of each process (the default, async.max_workers)
CLAIM_QUEUED = 100
CLAIM_CALLS = 200
WORKER_TIMEOUT_S = 600.0


# -- the server -----------------------------------------------------------------------------


def load_pgcluster() -> ModuleType:
    """``tools/pgcluster.py`` as a module (``tools`` is not a package)."""
    loaded = sys.modules.get("pgcluster")
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location("pgcluster", PGCLUSTER)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {PGCLUSTER}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["pgcluster"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def unavailable() -> str | None:
    """Why no cluster can be started here, or None when one can."""
    if not PGCLUSTER.exists():
        return f"{PGCLUSTER} is missing"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg 3 is not installed (pip install -e '.[postgres]')"
    bindir = os.environ.get("AGENTS_PG_BINDIR")
    found = shutil.which("postgres")
    candidates = [Path(bindir)] if bindir else []
    if found:
        candidates.append(Path(found).resolve().parent)
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for directory in candidates:
        if all((directory / name).is_file() for name in SERVER_PROGRAMS):
            return None
    return "PostgreSQL server programs not found (apt-get install postgresql, or AGENTS_PG_BINDIR)"


def libpq_dsn(url: str) -> str:
    """The libpq URI of a ``postgresql+psycopg://`` SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _proc_stat(pid: int | str) -> list[str]:
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()


def _cpu_s(fields: list[str], children: bool) -> float:
    # fields[0] is field 3 (state): ppid is field 4, utime/stime 14/15, cutime/cstime 16/17.
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """utime + stime of one process so far (all its threads), from /proc."""
    return _cpu_s(_proc_stat(pid), children=False)


class PgServer:
    """One throwaway cluster (``tools/pgcluster.py``) and the databases made on it."""

    def __init__(self, settings: str | None = None) -> None:
        self.settings = settings or os.environ.get("AGENTS_BENCH_PG_SETTINGS", "defaults")
        if self.settings not in ("defaults", "pgcluster"):
            raise ValueError(f"server settings {self.settings!r}: 'defaults' or 'pgcluster'")
        self.cluster: Any = None
        self._databases = 0

    def start(self) -> PgServer:
        """Start the cluster; with ``defaults``, switch durability back on and wait for it."""
        self.cluster = load_pgcluster().Cluster()
        self.cluster.start()
        try:
            if self.settings == "defaults":
                self._durable()
        except BaseException:
            self.stop()
            raise
        return self

    def _durable(self) -> None:
        import psycopg

        with psycopg.connect(self.cluster.dsn, autocommit=True) as conn:
            for name, value in DURABLE.items():
                conn.execute(f"ALTER SYSTEM SET {name} = {value}")
            conn.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 10
        while self.show(list(DURABLE)) != DURABLE:  # the postmaster reloads asynchronously
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not take {DURABLE}: {self.show(list(DURABLE))}")
            time.sleep(0.05)

    def show(self, names: list[str] | tuple[str, ...] = SHOWN) -> dict[str, str]:
        """``SHOW name`` for each name, from a fresh connection."""
        import psycopg

        with psycopg.connect(self.cluster.dsn) as conn:
            values = {}
            for name in names:
                row = conn.execute(f"SHOW {name}").fetchone()
                values[name] = str(row[0]) if row else ""
            return values

    def new_database(self, prefix: str = "bench") -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        self._databases += 1
        url: str = self.cluster.create_database(f"{prefix}_{self._databases}")
        return url

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`new_database` (its connections are ended first)."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.cluster.dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def server_cpu_s(self) -> float:
        """CPU seconds used by the server so far: the postmaster, the backends and other server
        processes alive now, and those that exited (reaped by the postmaster)."""
        pid = self.cluster.pid
        total = _cpu_s(_proc_stat(pid), children=True)
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or entry.name == str(pid):
                continue
            try:
                fields = _proc_stat(entry.name)
            except OSError:
                continue  # gone meanwhile
            if fields[1] == str(pid):
                total += _cpu_s(fields, children=True)
        return total

    def stop(self) -> None:
        """Stop the server and remove its directory (idempotent)."""
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None


# -- worker processes -----------------------------------------------------------------------


def worker_env(url: str) -> dict[str, str]:
    """The environment of an ``agents`` process at default settings on the database ``url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTS_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)  # see _support.PYCACHE
    env["AGENTS_DATABASE_URL"] = url
    env["AGENTS_CONFIG"] = str(Path(tempfile.gettempdir()) / "agents-bench-no-config.toml")
    return env


def agents_argv(*args: str) -> list[str]:
    """``agents ARGS`` as this interpreter runs it."""
    return [sys.executable, "-m", "cleveragents", *args]


def warm_worker_bytecode(url: str) -> None:
    """One ``agents worker run --burst`` on an empty database: fills the bytecode cache of the
    PostgreSQL path (psycopg, SQLAlchemy's dialect) that an SQLite run never imports."""
    with temp_dir("agents-bench-pg-") as tmp:
        subprocess.run(
            agents_argv("worker", "run", "--burst"),
            env=worker_env(url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
            cwd=tmp,
            timeout=WORKER_TIMEOUT_S,
        )


def enqueue_noops_cli(url: str, count: int) -> None:
    """``agents jobs enqueue noop --count COUNT`` (migrates a fresh database first)."""
    with temp_dir("agents-bench-pg-") as tmp:
        subprocess.run(
            agents_argv("jobs", "enqueue", "noop", "--count", str(count)),
            env=worker_env(url),
            stdout=subprocess.DEVNULL,
            check=True,
            cwd=tmp,
            timeout=WORKER_TIMEOUT_S,
        )


def open_pg(url: str) -> Database:
    """Open and migrate the database at ``url``."""
    db = Database(url)
    db.open()
    ensure_schema(db)
    return db


def enqueue_noops_inprocess(url: str, count: int) -> None:
    """``count`` queued noops in one transaction (``JobQueue.enqueue_many``), migrating first."""
    db = open_pg(url)
    try:
        enqueue_noops(db, count)
    finally:
        db.dispose()


def _timestamp(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def succeeded_span(url: str) -> tuple[float, float, int]:
    """First ``started_at``, last ``finished_at`` (epoch seconds) and count of succeeded jobs."""
    db = Database(url)
    try:
        with db.read() as conn:
            first, last, done = conn.execute(
                text(
                    "SELECT MIN(started_at), MAX(finished_at), COUNT(*) FROM async_jobs "
                    "WHERE status = 'succeeded'"
                )
            ).one()
    finally:
        db.dispose()
    if not done:
        return float("nan"), float("nan"), 0
    return _timestamp(first), _timestamp(last), int(done)


@dataclass
class ProcessDrain:
    """One drain of ``jobs`` queued noops by ``processes`` worker processes."""

    jobs: int
    processes: int
    threads: int
    spawned_at: float  # time.time() just before the first spawn
    exit_s: float  # first spawn -> every process exited (outcomes recorded, workers stopped)
    first_start: float  # the first job's started_at (epoch seconds)
    last_finish: float  # the last job's finished_at

    @property
    def rate(self) -> float:
        """Jobs/s from the first spawn to the last job done (the anchors' "from spawn")."""
        return self.jobs / (self.last_finish - self.spawned_at)

    @property
    def exit_rate(self) -> float:
        """Jobs/s from the first spawn until the last process exited."""
        return self.jobs / self.exit_s

    @property
    def steady_rate(self) -> float:
        """Jobs/s from the first job's start to the last job's finish."""
        return self.jobs / (self.last_finish - self.first_start)


def run_workers(url: str, processes: int, threads: int, directory: Path) -> tuple[float, float]:
    """Spawn ``processes`` x ``agents worker run --burst --max-workers THREADS`` and wait for all;
    returns (time.time() before the first spawn, seconds until the last exited). Raises if one
    exits with an error."""
    argv = agents_argv("worker", "run", "--burst", "--max-workers", str(threads))
    env = worker_env(url)
    logs = [directory / f"worker-{i}.log" for i in range(processes)]
    handles = [path.open("wb") for path in logs]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        spawned_at = time.time()
        started = time.perf_counter()
        for handle in handles:
            procs.append(
                subprocess.Popen(
                    argv, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=directory
                )
            )
        codes = [proc.wait(timeout=WORKER_TIMEOUT_S) for proc in procs]
        seconds = time.perf_counter() - started
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for handle in handles:
            handle.close()
    if any(codes):
        output = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')}" for p in logs)
        raise RuntimeError(f"worker exit codes {codes}:\n{output}")
    return spawned_at, seconds


def drain_processes(
    url: str, jobs: int, processes: int = PG_PROCESSES, threads: int = PG_THREADS
) -> ProcessDrain:
    """Time ``processes`` burst workers draining the ``jobs`` noops already queued at ``url``.

    Raises unless every job succeeded: a fast wrong answer is not a figure.
    """
    with temp_dir("agents-bench-pg-") as tmp:
        spawned_at, seconds = run_workers(url, processes, threads, tmp)
    first, last, done = succeeded_span(url)
    if done != jobs:
        raise RuntimeError(f"{processes} workers finished {done} of {jobs} jobs")
    return ProcessDrain(jobs, processes, threads, spawned_at, seconds, first, last)


# -- pickup latency -------------------------------------------------------------------------


class IdleWorker:
    """``agents worker run`` at default settings, started and stopped by its pid."""

    def __init__(self, url: str, directory: Path) -> None:
        self.url = url
        self.log_path = directory / "worker.log"
        self.directory = directory
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        """Spawn it and wait until its ``workers`` row says it is running."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                agents_argv("worker", "run"),
                env=worker_env(self.url),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
            )
        db = Database(self.url)
        query = text("SELECT COUNT(*) FROM workers WHERE pid = :pid AND status = 'running'")
        try:
            deadline = time.monotonic() + timeout
            while True:
                with db.read() as conn:
                    if conn.execute(query, {"pid": self.proc.pid}).scalar_one():
                        return
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"worker did not start; log:\n{self.log()}")
                time.sleep(0.05)
        finally:
            db.dispose()

    def cpu_s(self) -> float:
        """Its CPU time so far."""
        assert self.proc is not None
        return process_cpu_s(self.proc.pid)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait (SIGKILL if it hangs); its exit code."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log(self) -> str:
        """Its output so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def pickup_latency_pg(
    url: str, probes: int | None = None, idle_s: float | None = None, seed: int = 0
) -> LatencyResult:
    """Pickup latency of an idle ``agents worker run`` (default settings) on PostgreSQL.

    As ``_support.pickup_latency`` does on SQLite: after the worker registered and settled for
    1 s, its CPU over ``idle_s`` s of idling; then ``probes`` times: a random 0-0.2 s gap,
    ``t_enq = time.time()``, one ``diagnostics.probe`` enqueued with ``JobQueue.enqueue`` from
    this process (INSERT + NOTIFY + COMMIT), and a wait for it to finish. Latency = the handler's
    ``ran_at`` (taken first thing on the pool thread) - ``t_enq``. This side waits on a LISTEN
    connection of its own, blocking in ``notifies()`` (no polling, one connection for all
    probes), so that it takes no CPU from the worker it measures.

    Raises if the worker does not stop cleanly (exit code 0, no error in its log).
    """
    import psycopg

    probes = probes if probes is not None else env_int("AGENTS_BENCH_PROBES", 200)
    idle_s = idle_s if idle_s is not None else env_float("AGENTS_BENCH_IDLE_S", 5.0)
    result = LatencyResult()
    with temp_dir("agents-bench-pg-") as tmp:
        db = open_pg(url)
        worker = IdleWorker(url, tmp)
        listener = psycopg.connect(libpq_dsn(url), autocommit=True)
        try:
            listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
            worker.start()
            time.sleep(1.0)  # start-up work (recovery, prune, first heartbeat) settles
            if idle_s > 0:
                cpu0, wall0 = worker.cpu_s(), time.monotonic()
                time.sleep(idle_s)
                cpu1, wall1 = worker.cpu_s(), time.monotonic()
                result.idle_window_s = wall1 - wall0
                result.idle_cpu_fraction = (cpu1 - cpu0) / (wall1 - wall0)
            queue = JobQueue(db)
            rng = random.Random(seed)
            _probe(queue, listener)  # warm-up: connections and statement caches on both sides
            for _ in range(probes):
                time.sleep(rng.uniform(*LATENCY_GAP_S))
                latency, cost = _probe(queue, listener)
                result.latencies_s.append(latency)
                result.enqueue_s.append(cost)
        finally:
            listener.close()
            db.dispose()
            code = worker.stop()
        errors = [ln for ln in worker.log().splitlines() if "ERROR" in ln or "Traceback" in ln]
        if code != 0 or errors:
            raise RuntimeError(f"worker exited {code} after SIGTERM; log:\n{worker.log()}")
    return result


def _probe(queue: JobQueue, listener: Any) -> tuple[float, float]:
    for _ in listener.notifies(timeout=0):  # forget what arrived before this probe
        pass
    t_enq = time.time()
    job = queue.enqueue("diagnostics.probe", {})
    cost = time.time() - t_enq
    deadline = time.monotonic() + 30
    while True:
        done = queue.store.get(job.id)
        if done.status.is_terminal or time.monotonic() > deadline:
            break
        for _ in listener.notifies(timeout=1.0, stop_after=1):  # the next commit, any
            pass
    if done.status != JobStatus.SUCCEEDED:
        raise RuntimeError(f"probe {job.id} ended {done.status}: {done.error_message}")
    ran_at = datetime.fromisoformat(done.result["ran_at"]).timestamp()
    return ran_at - t_enq, cost


# -- in-process figures ---------------------------------------------------------------------


def claim_us(url: str, calls: int = CLAIM_CALLS, queued: int = CLAIM_QUEUED) -> float:
    """Median µs of ``JobStore.claim(limit=4)`` with ``queued`` jobs queued; the claimed jobs go
    back to queued between calls (untimed), so every call sees the same table."""
    db = open_pg(url)
    try:
        enqueue_noops(db, queued)
        store = JobStore(db)
        now = utcnow()
        samples = []
        for i in range(calls + 1):
            requeue_running(db)
            started = time.perf_counter()
            jobs, _ = store.claim("bench-worker", now, 4)
            elapsed = time.perf_counter() - started
            if len(jobs) != 4:
                raise RuntimeError(f"claimed {len(jobs)} jobs instead of 4")
            if i:  # the first call warms the connection and the statement caches
                samples.append(elapsed)
    finally:
        db.dispose()
    return statistics.median(samples) * 1e6


def enqueue_one_rate_pg(url: str, calls: int = 2000) -> float:
    """Jobs/s of ``calls`` consecutive ``JobQueue.enqueue("noop", {})`` (each one commit)."""
    db = open_pg(url)
    try:
        queue = JobQueue(db)
        queue.enqueue("noop", {})
        started = time.perf_counter()
        for _ in range(calls):
            queue.enqueue("noop", {})
        seconds = time.perf_counter() - started
    finally:
        db.dispose()
    return calls / seconds


# -- asv ------------------------------------------------------------------------------------


class Drain4Processes:
    """2,000 queued noops, 4 worker processes of 4 threads each (``agents worker run --burst``)."""

    number = 1
    repeat = (1, 3, 60.0)
    warmup_time = 0.0
    timeout = 300.0
    warmed = False  # this process filled the bytecode cache of the PostgreSQL path

    def setup(self) -> None:
        self.server: PgServer | None = None
        reason = unavailable()
        if reason:
            raise NotImplementedError(reason)
        server = self.server = PgServer().start()
        self.tmp = Path(tempfile.mkdtemp(prefix="agents-bench-pg-"))
        try:
            if not Drain4Processes.warmed:
                warm_worker_bytecode(server.new_database("warm"))
                Drain4Processes.warmed = True
            self.url = server.new_database("drain")
            enqueue_noops_inprocess(self.url, PG_DRAIN_JOBS)
            self.ran = False
        except BaseException:
            self.teardown()
            raise

    def teardown(self) -> None:
        # asv calls it after a skip too (setup raised NotImplementedError): nothing to stop then.
        server, self.server = self.server, None
        if server is None:
            return
        done = PG_DRAIN_JOBS
        try:
            if getattr(self, "ran", False):  # a fast wrong answer is not a figure
                _, _, done = succeeded_span(self.url)
        finally:
            server.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)
        if done != PG_DRAIN_JOBS:
            raise RuntimeError(f"the workers finished {done} of {PG_DRAIN_JOBS} jobs")

    def time_drain_2000_noops_4_processes(self) -> None:
        """First spawn -> all 4 processes exited (every outcome recorded, workers stopped)."""
        run_workers(self.url, PG_PROCESSES, PG_THREADS, self.tmp)
        self.ran = True


def measure_all() -> dict[str, Any]:
    """Every figure of :class:`PostgresQueue`, on one cluster that is stopped afterwards."""
    server = PgServer().start()
    try:
        warm_worker_bytecode(server.new_database("warm"))
        url = server.new_database("drain")
        enqueue_noops_inprocess(url, PG_DRAIN_JOBS)
        drained = drain_processes(url, PG_DRAIN_JOBS)
        latency = pickup_latency_pg(server.new_database("latency"))
        claim = claim_us(server.new_database("claim"))
        settings = server.show()
    finally:
        server.stop()
    return {
        "jobs_per_s_4_processes": drained.rate,
        "p50_ms": latency.p50_ms,
        "p99_ms": latency.p99_ms,
        "idle_cpu_percent": latency.idle_cpu_percent,
        "claim_us": claim,
        "server": settings,
    }


class PostgresQueue:
    """Throughput, pickup latency, idle CPU and the claim on one cluster (see the module doc)."""

    timeout = 600.0

    def setup_cache(self) -> dict[str, Any]:
        reason = unavailable()
        if reason:
            return {"skipped": reason}
        return measure_all()

    setup_cache.timeout = 900.0  # type: ignore[attr-defined]

    def setup(self, cache: dict[str, Any]) -> None:
        if "skipped" in cache:
            raise NotImplementedError(cache["skipped"])

    def track_noop_jobs_per_s_4_processes(self, cache: dict[str, Any]) -> float:
        """2,000 queued noops, 4 ``worker run --burst`` processes: jobs/s from the first spawn
        to the last job's finish."""
        return float(cache["jobs_per_s_4_processes"])

    track_noop_jobs_per_s_4_processes.unit = "jobs/s"  # type: ignore[attr-defined]

    def track_pickup_latency_p50_ms(self, cache: dict[str, Any]) -> float:
        """Median pickup latency of an idle worker woken by LISTEN/NOTIFY, ms (target < 10)."""
        return float(cache["p50_ms"])

    track_pickup_latency_p50_ms.unit = "ms"  # type: ignore[attr-defined]

    def track_pickup_latency_p99_ms(self, cache: dict[str, Any]) -> float:
        """99th percentile pickup latency (nearest rank), ms."""
        return float(cache["p99_ms"])

    track_pickup_latency_p99_ms.unit = "ms"  # type: ignore[attr-defined]

    def track_idle_cpu_percent(self, cache: dict[str, Any]) -> float:
        """CPU time of the idle worker (LISTEN socket looked at every 5 ms), % of one core."""
        return float(cache["idle_cpu_percent"])

    track_idle_cpu_percent.unit = "% of a core"  # type: ignore[attr-defined]

    def track_claim_us(self, cache: dict[str, Any]) -> float:
        """``JobStore.claim(limit=4)`` of 100 queued jobs: median of 200 calls, µs."""
        return float(cache["claim_us"])

    track_claim_us.unit = "us"  # type: ignore[attr-defined]
