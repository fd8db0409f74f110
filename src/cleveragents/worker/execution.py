"""Running one claimed job on a pool thread: its handler, its token, and the outcome it ends with.

Whatever the handler does (returns, raises, is cancelled), the result is a ``JobOutcome`` for the
worker's next pass to record; nothing here touches the database.
"""

from __future__ import annotations

import logging
import random
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cleveragents.domain.backoff import full_jitter
from cleveragents.domain.clock import Clock
from cleveragents.domain.jobs import AsyncJob, JobOutcome, JobStatus, can_retry
from cleveragents.domain.redaction import redact
from cleveragents.errors import AgentsError
from cleveragents.runtime.tokens import CancellationToken, CancelReason, JobCancelled
from cleveragents.store.engine import Database
from cleveragents.worker.kinds import JobContext, JobFailed, KindRegistry

log = logging.getLogger("cleveragents.worker")


@dataclass
class RunningJob:
    """A claimed job and the token that stops it."""

    job: AsyncJob
    token: CancellationToken
    claimed_at: float = field(default_factory=time.monotonic)  # after the claim committed

    @property
    def claim(self) -> tuple[str, int]:
        """The claim this run holds: its job and attempt."""
        return self.job.id, self.job.attempts


@dataclass(frozen=True)
class JobRunner:
    """What running a job needs from its worker."""

    registry: KindRegistry
    worker_id: str
    clock: Clock
    db: Database
    job_timeout_s: float
    max_backoff_s: float
    rng: random.Random = field(default_factory=random.Random)

    def run(self, entry: RunningJob) -> JobOutcome:
        """Run the job's handler to its end; never raises. A failed run with retries left is
        queued again after a backoff; one that could not start (an unknown kind, a payload its
        kind refuses) is not: another try would fail the same way."""
        job, token = entry.job, entry.token
        result: Any = None
        error: str | None = None
        started = False
        try:
            kind = self.registry.get(job.kind)
            payload = kind.parse(job.payload)
            context = JobContext(job, token, self.worker_id, self.clock, self.db)
            started = True
            result = kind.handler(payload, context)
            status = JobStatus.SUCCEEDED
        except JobCancelled:
            status, error = self._cancelled(token)
        except JobFailed as failure:
            status, error, result = JobStatus.FAILED, redact(str(failure)), failure.result
        except AgentsError as failure:
            status, error = JobStatus.FAILED, redact(failure.message)
        except Exception as failure:
            status, error = JobStatus.FAILED, redact(f"{type(failure).__name__}: {failure}")
            log.error("job %s raised:\n%s", job.id, redact(traceback.format_exc()))
        finished = self.clock()
        retry_at = None
        if status == JobStatus.FAILED and started and token.reason is not CancelReason.CANCELLED:
            retry_at = self.retry_at(job, finished)
        log.log(
            logging.DEBUG if status == JobStatus.SUCCEEDED else logging.INFO,
            "%s %s %s%s%s",
            _verb(status, token),
            job.kind,
            job.id,
            f": {error}" if error else "",
            f" (retry {job.failures + 1} of {job.retries} at {retry_at:%H:%M:%S})"
            if retry_at
            else "",
        )
        return JobOutcome(
            job_id=job.id,
            attempt=job.attempts,
            status=status,
            finished_at=finished,
            result=result,
            error_message=error,
            started_at=job.started_at,
            retry_at=retry_at,
        )

    def retry_at(self, job: AsyncJob, now: datetime) -> datetime | None:
        """When a failed run of ``job`` is tried again, or None when its retries are spent."""
        if not can_retry(job.failures, job.retries):
            return None
        delay = full_jitter(job.backoff_s, job.failures + 1, self.max_backoff_s, self.rng)
        return now + timedelta(seconds=delay)

    def _cancelled(self, token: CancellationToken) -> tuple[JobStatus, str | None]:
        if token.reason == CancelReason.TIMEOUT:
            return JobStatus.FAILED, f"timed out after {self.job_timeout_s:g} s"
        if token.reason in (CancelReason.SHUTDOWN, CancelReason.LOST):
            # Back to the queue if the claim is still ours (recording is fenced by the claim);
            # a claim taken elsewhere records nothing.
            return JobStatus.QUEUED, None
        return JobStatus.CANCELLED, "cancelled on request"


def _verb(status: JobStatus, token: CancellationToken) -> str:
    """How the log line says a run ended (a lost claim's run is stopped, not requeued by us)."""
    if token.reason is CancelReason.LOST:
        return "stopped (claim lost)"
    return "requeued" if status == JobStatus.QUEUED else status.value
