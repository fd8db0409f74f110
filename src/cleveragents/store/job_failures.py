"""Runs that did not succeed: a failed run is retried or final, a lost run is recovered, and each
leaves a row in ``job_attempts`` (what ``jobs show`` lists as the job's attempts).

Every write is fenced by the claim, as the outcome of a success is (``store/jobs.py``): a failed
run is recorded only while its worker still holds that attempt, and its history row is written
only then, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from cleveragents.domain.jobs import AttemptOutcome, JobAttempt, JobOutcome, JobStatus
from cleveragents.store.tables import async_jobs, job_attempts

_c = async_jobs.c


def record_failures(conn: Connection, worker_id: str, outcomes: Sequence[JobOutcome]) -> int:
    """Record failed runs: one with ``retry_at`` goes back to the queue until then, the others
    end their job ``failed``. Returns how many were still this worker's to record."""
    recorded = 0
    history: list[dict[str, Any]] = []
    for outcome in outcomes:
        fenced = update(async_jobs).where(
            _c.id == outcome.job_id,
            _c.status == JobStatus.RUNNING.value,
            _c.worker_id == worker_id,
            _c.attempts == outcome.attempt,
        )
        common = {
            "failures": _c.failures + 1,
            "error_message": outcome.error_message,
            "result_json": outcome.result,
        }
        retry_at = outcome.retry_at
        done = None
        if retry_at is not None:  # not if someone asked to cancel it meanwhile
            done = conn.execute(
                fenced.where(_c.cancel_requested.is_(False)).values(
                    status=JobStatus.QUEUED.value,
                    run_after=retry_at,
                    worker_id=None,
                    started_at=None,
                    last_heartbeat=None,
                    **common,
                )
            )
        if done is None or done.rowcount != 1:
            retry_at = None
            done = conn.execute(
                fenced.values(
                    status=JobStatus.FAILED.value, finished_at=outcome.finished_at, **common
                )
            )
        if done.rowcount == 1:
            recorded += 1
            history.append(
                {
                    "job_id": outcome.job_id,
                    "attempt": outcome.attempt,
                    "outcome": AttemptOutcome.FAILED.value,
                    "worker_id": worker_id,
                    "started_at": outcome.started_at,
                    "finished_at": outcome.finished_at,
                    "error_message": outcome.error_message,
                    "retry_at": retry_at,
                }
            )
    if history:
        conn.execute(insert(job_attempts), history)
    return recorded


def record_lost(
    conn: Connection,
    runs: Sequence[tuple[str, int, str | None, datetime | None]],
    now: datetime,
    error: str,
    requeued: set[str],
) -> None:
    """Keep the runs recovery took back from lost workers (job id, attempt, worker, start):
    ``requeued`` jobs were queued again at ``now``, the others failed."""
    if runs:
        conn.execute(
            insert(job_attempts),
            [
                {
                    "job_id": job_id,
                    "attempt": attempt,
                    "outcome": AttemptOutcome.LOST.value,
                    "worker_id": worker,
                    "started_at": started,
                    "finished_at": now,
                    "error_message": error,
                    "retry_at": now if job_id in requeued else None,
                }
                for job_id, attempt, worker, started in runs
            ],
        )


def attempts_of(conn: Connection, job_id: str) -> list[JobAttempt]:
    """The job's runs that did not succeed, oldest first."""
    rows = conn.execute(
        select(job_attempts).where(job_attempts.c.job_id == job_id).order_by(job_attempts.c.attempt)
    )
    return [JobAttempt.model_validate(dict(row._mapping)) for row in rows]
