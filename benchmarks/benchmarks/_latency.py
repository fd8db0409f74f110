"""Pickup latency and idle CPU of a real idle ``agents worker run`` at default settings, on an
SQLite file or a PostgreSQL database."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cleveragents.domain.jobs import JobStatus
from cleveragents.store.engine import NOTIFY_CHANNEL
from cleveragents.worker.queue import JobQueue

from ._db import Target, db_url, open_db
from ._processes import WorkerProcess
from ._support import LATENCY_GAP_S, env_float, env_int, percentile, temp_dir


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


def libpq_dsn(url: str) -> str:
    """The libpq URI of a ``postgresql+psycopg://`` SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def pickup_latency(
    url: str | None = None,
    probes: int | None = None,
    idle_s: float | None = None,
    seed: int = 0,
    strict: bool = True,
) -> LatencyResult:
    """Run a real worker process at default settings on ``url`` (or a fresh SQLite file);
    sample its idle CPU, then its latency.

    Idle CPU: after the worker registered and settled for 1 s, its utime+stime over ``idle_s``
    seconds of wall time, with nothing queued.

    Latency, as the anchors measure it: ``probes`` times, sleep a random 0-0.2 s gap (so the
    worker is idle and its poll phase is random), take ``t_enq = time.time()``, enqueue one
    ``diagnostics.probe`` job with ``JobQueue.enqueue`` from this process (another process and
    connection than the worker's), wait for it to finish. The probe handler records
    ``ctx.clock()`` as the first thing it does (``result.ran_at``), on the pool thread that runs
    it. Latency = ran_at - t_enq, so it includes the enqueue call itself (an INSERT + COMMIT, and
    a NOTIFY on PostgreSQL), the worker noticing the commit, the claim transaction and the
    hand-off to a pool thread. On PostgreSQL this side waits on a LISTEN connection of its own,
    blocking in ``notifies()`` (no polling, one connection for all probes), so that it takes no
    CPU from the worker it measures; on SQLite with ``JobQueue.wait``.

    The worker is then stopped with SIGTERM; if it does not exit cleanly (exit code 0 within
    30 s, no error in its log), this raises (``strict``) or records it in ``worker_failure``.
    """
    probes = probes if probes is not None else env_int("AGENTS_BENCH_PROBES", 200)
    idle_s = idle_s if idle_s is not None else env_float("AGENTS_BENCH_IDLE_S", 5.0)
    result = LatencyResult()
    with temp_dir() as tmp:
        target: Target = url or tmp / "agents.db"
        db = open_db(target)
        worker = WorkerProcess(target, tmp)
        pg = db_url(target).startswith("postgresql")
        listener = _listener(db_url(target)) if pg else None
        try:
            worker.start()
            time.sleep(1.0)  # let start-up work (recovery, prune, first heartbeat wait) settle
            if idle_s > 0:
                cpu0, wall0 = worker.cpu_s(), time.monotonic()
                time.sleep(idle_s)
                cpu1, wall1 = worker.cpu_s(), time.monotonic()
                result.idle_window_s = wall1 - wall0
                result.idle_cpu_fraction = (cpu1 - cpu0) / (wall1 - wall0)
            queue = JobQueue(db)
            rng = random.Random(seed)
            _probe(queue, listener)  # warm-up: connections, statement caches on both sides
            for _ in range(probes):
                time.sleep(rng.uniform(*LATENCY_GAP_S))
                latency, cost = _probe(queue, listener)
                result.latencies_s.append(latency)
                result.enqueue_s.append(cost)
        finally:
            if listener is not None:
                listener.close()
            db.dispose()
            code = worker.stop()
        if code != 0 or worker.log_errors():
            result.worker_failure = (
                f"worker exited with {code} after SIGTERM; threads when it hung:\n"
                f"{worker.hang_report or '-'}\nlog:\n{worker.log()}"
            )
            if strict:
                raise RuntimeError(result.worker_failure)
    return result


def _listener(url: str) -> Any:
    import psycopg

    listener = psycopg.connect(libpq_dsn(url), autocommit=True)
    listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
    return listener


def _probe(queue: JobQueue, listener: Any) -> tuple[float, float]:
    if listener is not None:
        for _ in listener.notifies(timeout=0):  # forget what arrived before this probe
            pass
    t_enq = time.time()
    job = queue.enqueue("diagnostics.probe", {})
    cost = time.time() - t_enq
    if listener is None:
        done = queue.wait(job.id, timeout=30)
    else:
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
