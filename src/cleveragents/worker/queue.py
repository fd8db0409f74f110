"""The producer's side of the queue: validated enqueue, and waiting for a job to finish."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from cleveragents.domain.clock import Clock, utcnow
from cleveragents.domain.durations import DAY_S
from cleveragents.domain.jobs import (
    DEFAULT_BACKOFF_S,
    DEFAULT_QUEUE,
    MAX_ATTEMPTS,
    MAX_RETRIES,
    MAX_UNIQUE_KEY,
    AsyncJob,
    NewJob,
    RecoveryReport,
    check_queue_name,
)
from cleveragents.errors import InvalidInputError
from cleveragents.runtime.waiting import wait_for_job
from cleveragents.store.engine import Database
from cleveragents.store.jobs import JobStore
from cleveragents.worker.builtin_kinds import default_registry
from cleveragents.worker.kinds import KindRegistry
from cleveragents.worker.upkeep import end_stale_runs


class JobQueue:
    """Enqueue jobs whose payloads are valid for their kind; wait for jobs to finish."""

    def __init__(
        self, db: Database, registry: KindRegistry | None = None, clock: Clock = utcnow
    ) -> None:
        self.db = db
        self.store = JobStore(db)
        self.registry = registry or default_registry()
        self.clock = clock

    def build(
        self,
        kind: str,
        payload: Any,
        *,
        priority: int = 0,
        max_attempts: int = MAX_ATTEMPTS,
        run_after: datetime | None = None,
        unique_key: str | None = None,
        retries: int = 0,
        backoff_s: float = DEFAULT_BACKOFF_S,
        queue: str = DEFAULT_QUEUE,
    ) -> NewJob:
        """Validate a job before anything is written; raises an :class:`InvalidInputError`."""
        normalized = self.registry.get(kind).normalize(payload)
        if priority < 0:
            raise InvalidInputError(
                f"priority must be 0 or more (lower runs first), got {priority}"
            )
        if not 1 <= max_attempts <= 100:
            raise InvalidInputError(f"max attempts must be 1..100, got {max_attempts}")
        if unique_key is not None and not 1 <= len(unique_key) <= MAX_UNIQUE_KEY:
            raise InvalidInputError(f"a unique key is 1 to {MAX_UNIQUE_KEY} characters")
        if not 0 <= retries <= MAX_RETRIES:
            raise InvalidInputError(f"retries must be 0..{MAX_RETRIES}, got {retries}")
        if not 0 <= backoff_s <= DAY_S:
            raise InvalidInputError(f"the backoff is 0 s to 1 day, got {backoff_s:g} s")
        return NewJob(
            kind=kind,
            payload=normalized,
            priority=priority,
            max_attempts=max_attempts,
            run_after=run_after,
            unique_key=unique_key,
            retries=retries,
            backoff_s=backoff_s,
            queue=check_queue_name(queue),
        )

    def enqueue(self, kind: str, payload: Any, **options: Any) -> AsyncJob:
        """Validate and enqueue one job."""
        return self.store.enqueue(self.build(kind, payload, **options), self.clock())

    def enqueue_unique(self, kind: str, payload: Any, **options: Any) -> tuple[AsyncJob, bool]:
        """Validate and enqueue one job with a ``unique_key``, unless a queued or running job
        holds that key: the job, and True when it is that holder (nothing was added)."""
        from cleveragents.store.unique_jobs import enqueue_unique

        return enqueue_unique(self.store, self.build(kind, payload, **options), self.clock())

    def enqueue_many(self, jobs: Iterable[NewJob]) -> list[str]:
        """Enqueue jobs built with :meth:`build`, all in one transaction."""
        return self.store.enqueue_many(list(jobs), self.clock())

    def recover(self, stale_after: float) -> RecoveryReport:
        """Release the running jobs whose worker stopped heartbeating, after ending what their
        runs still run on this host (as a worker's own recovery does)."""
        return self.store.recover_stale(self.clock(), stale_after, end_stale_runs)

    def wait(self, job_id: str, timeout: float | None = None) -> AsyncJob:
        """Block until the job has finished or ``timeout`` seconds passed; returns it then."""
        return wait_for_job(self.db, job_id, timeout)
