"""The producer's side: ``JobQueue.enqueue`` (one job, one commit) and ``enqueue_many``.

Targets: one job per call at least 4,000 jobs/s; ``enqueue_many`` of 10,000 jobs at least
50,000 jobs/s. Each measurement uses a fresh temporary SQLite file at default settings.
"""

from __future__ import annotations

import atexit

from cleveragents.domain.jobs import NewJob
from cleveragents.worker.queue import JobQueue

from ._db import enqueue_many_rate, enqueue_one_rate, open_db
from ._support import ENQUEUE_MANY_JOBS, ENQUEUE_ONE_CALLS, temp_dir


class EnqueueRate:
    """Throughput figures (jobs/s)."""

    timeout = 120.0

    def track_enqueue_one_rate(self) -> float:
        """2,000 consecutive ``JobQueue.enqueue("noop", {})`` calls (each validates, commits)."""
        return enqueue_one_rate(ENQUEUE_ONE_CALLS)

    track_enqueue_one_rate.unit = "jobs/s"  # type: ignore[attr-defined]

    def track_enqueue_many_rate(self) -> float:
        """One ``JobQueue.enqueue_many`` of 10,000 jobs already built with ``JobQueue.build``."""
        return enqueue_many_rate(ENQUEUE_MANY_JOBS)

    track_enqueue_many_rate.unit = "jobs/s"  # type: ignore[attr-defined]

    def track_build_and_enqueue_many_rate(self) -> float:
        """``enqueue_many`` of 10,000 jobs, ``build`` (payload validation) of each included."""
        return enqueue_many_rate(ENQUEUE_MANY_JOBS, include_build=True)

    track_build_and_enqueue_many_rate.unit = "jobs/s"  # type: ignore[attr-defined]


class EnqueueOneTime:
    """One ``JobQueue.enqueue`` per timed call, on a database kept open for the process."""

    number = 1
    repeat = (10, 200, 5.0)
    timeout = 120.0

    def setup(self) -> None:
        self.queue = _shared_queue()

    def time_enqueue_one(self) -> None:
        """One ``JobQueue.enqueue`` (payload validation, one INSERT, one commit)."""
        self.queue.enqueue("noop", {})


class EnqueueManyTime:
    """One ``JobQueue.enqueue_many`` of 10,000 built jobs per timed call, fresh database each."""

    number = 1
    repeat = (3, 10, 20.0)
    warmup_time = 0.0
    timeout = 120.0

    def setup(self) -> None:
        self._tmp = temp_dir()
        self.db = open_db(self._tmp.__enter__() / "agents.db")
        self.queue = JobQueue(self.db)
        self.queue.enqueue("noop", {})
        self.jobs: list[NewJob] = [self.queue.build("noop", {}) for _ in range(ENQUEUE_MANY_JOBS)]

    def teardown(self) -> None:
        self.db.dispose()
        self._tmp.__exit__(None, None, None)

    def time_enqueue_many_10k(self) -> None:
        """One ``JobQueue.enqueue_many`` of 10,000 jobs (one transaction)."""
        self.queue.enqueue_many(self.jobs)

    def peakmem_enqueue_many_10k(self) -> None:
        """Peak RSS of a process that built and enqueued 10,000 jobs."""
        self.queue.enqueue_many(self.jobs)


_queue: list[JobQueue] = []


def _shared_queue() -> JobQueue:
    """A queue on a temp database opened once per benchmark process, removed at exit."""
    if not _queue:
        tmp = temp_dir()
        path = tmp.__enter__() / "agents.db"
        db = open_db(path)
        atexit.register(tmp.__exit__, None, None, None)
        atexit.register(db.dispose)
        _queue.append(JobQueue(db))
        _queue[0].enqueue("noop", {})
    return _queue[0]
