"""Draining queued no-ops: an in-process ``AsyncWorker``, or real burst worker processes.

Every drain raises unless every job succeeded: a fast wrong answer is not a figure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from cleveragents.settings import AsyncSettings
from cleveragents.worker.worker import AsyncWorker

from ._db import Target, enqueue_noops, enqueue_noops_inprocess, open_db, succeeded_span
from ._processes import run_workers
from ._support import DRAIN_JOBS, temp_dir

PG_PROCESSES = 4
PG_THREADS = 4  # --max-workers of each process (the default, async.max_workers)


@dataclass
class DrainResult:
    """One drain of ``jobs`` queued noops by one worker (in-process, or one process)."""

    jobs: int
    seconds: float  # worker start (or spawn) -> every outcome recorded, stopped (or exited)
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
    would.
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
    return DrainResult(jobs=jobs, seconds=seconds, steady_seconds=last - first)


def drain_process(jobs: int = DRAIN_JOBS, url: str | None = None) -> DrainResult:
    """Like :func:`drain`, but a real ``agents worker run --burst`` process at default settings
    (on ``url``, or a fresh SQLite file).

    Timed from the spawn (interpreter start-up and imports included) until the process exited
    after recording every outcome: the counterpart of the anchors' "from consumer spawn".
    """
    with temp_dir() as tmp:
        target: Target = url or tmp / "agents.db"
        enqueue_noops_inprocess(target, jobs)
        _, seconds = run_workers(target, 1, None, tmp)
        first, last, done = succeeded_span(target)
    if done != jobs:
        raise RuntimeError(f"the worker finished {done} of {jobs} jobs")
    return DrainResult(jobs=jobs, seconds=seconds, steady_seconds=last - first)


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


def drain_processes(
    target: Target, jobs: int, processes: int = PG_PROCESSES, threads: int = PG_THREADS
) -> ProcessDrain:
    """Time ``processes`` burst workers draining the ``jobs`` noops already queued at
    ``target``."""
    with temp_dir("agents-bench-pg-") as tmp:
        spawned_at, seconds = run_workers(target, processes, threads, tmp)
    first, last, done = succeeded_span(target)
    if done != jobs:
        raise RuntimeError(f"{processes} workers finished {done} of {jobs} jobs")
    return ProcessDrain(jobs, processes, threads, spawned_at, seconds, first, last)
