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

The helpers are those of the SQLite benchmarks, given a PostgreSQL URL (``_db``, ``_drain``,
``_latency``, ``_processes``), and the cluster of ``_pgserver``; the peer comparison
``benchmarks/compare_procrastinate.py`` uses them too.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from ._db import claim_us, enqueue_noops_inprocess, succeeded_span
from ._drain import PG_PROCESSES, PG_THREADS, drain_processes
from ._latency import pickup_latency
from ._pgserver import PgServer, unavailable
from ._processes import run_workers, warm_worker_bytecode

PG_DRAIN_JOBS = 2000


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
        latency = pickup_latency(server.new_database("latency"))
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
