"""End to end: an in-process ``AsyncWorker`` with 4 threads draining queued ``noop`` jobs.

``AsyncWorker.run(burst=True)`` on a fresh temporary SQLite file with the jobs enqueued
beforehand (untimed) is the equivalent of the huey anchor, whose consumer (``-w 4 -k thread``)
drains 5,000 queued no-ops. Timed from the worker's start (registration, start-up recovery and
prune included) until it has recorded every outcome and stopped. Target: at least twice huey
measured in the same sitting (``benchmarks/compare_huey.py``; huey ~1,830 tasks/s here).
"""

from __future__ import annotations

from cleveragents.settings import AsyncSettings
from cleveragents.worker.worker import AsyncWorker

from ._db import enqueue_noops, open_db
from ._drain import drain
from ._support import DRAIN_JOBS, temp_dir


class Drain:
    """5,000 queued noops, 4 threads (the issue's end-to-end figure)."""

    timeout = 120.0

    def track_drain_rate(self) -> float:
        """Jobs/s from worker start until every outcome is recorded (run() returned)."""
        return drain(DRAIN_JOBS).rate

    track_drain_rate.unit = "jobs/s"  # type: ignore[attr-defined]

    def track_drain_steady_rate(self) -> float:
        """Jobs/s from the first job's start to the last job's finish (as in the rows)."""
        return drain(DRAIN_JOBS).steady_rate

    track_drain_steady_rate.unit = "jobs/s"  # type: ignore[attr-defined]

    def peakmem_drain(self) -> None:
        """Peak RSS of a process that drained 5,000 jobs."""
        drain(DRAIN_JOBS)


class DrainTime:
    """Wall time of ``run(burst=True)`` over 1,000 queued noops (asv's own statistics)."""

    number = 1
    repeat = (3, 10, 20.0)
    warmup_time = 0.0
    timeout = 120.0

    def setup(self) -> None:
        self._tmp = temp_dir()
        path = self._tmp.__enter__() / "agents.db"
        producer = open_db(path)
        enqueue_noops(producer, 1000)
        producer.dispose()
        self.db = open_db(path)

    def teardown(self) -> None:
        self.db.dispose()
        self._tmp.__exit__(None, None, None)

    def time_drain_1000(self) -> None:
        """Worker start -> 1,000 outcomes recorded -> stopped."""
        AsyncWorker(self.db, AsyncSettings()).run(burst=True)
