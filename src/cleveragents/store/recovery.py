"""Recovery and cleanup of the job queue: requeue what dead workers left running, prune the rest.

The stuck-job rule lives here once (:func:`stuck_jobs`): recovery fixes exactly the rows it
selects, and diagnostics (``store/health.py``) reports them with the same predicate, so what
``agents diagnostics`` calls stuck is by construction what ``agents jobs recover`` requeues.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, select, update

from cleveragents.domain.jobs import (
    TERMINAL_STATUSES,
    Claim,
    JobStatus,
    RecoveryReport,
    can_requeue,
)
from cleveragents.store.engine import Database
from cleveragents.store.job_failures import record_lost
from cleveragents.store.tables import async_jobs
from cleveragents.store.workers import mark_lost

PRUNE_BATCH = 1000
_TERMINAL = [s.value for s in TERMINAL_STATUSES]
_c = async_jobs.c


def stale_cutoff(now: datetime, stale_after: float) -> datetime:
    """The heartbeat time before which a running job or worker counts as gone."""
    return now - timedelta(seconds=stale_after)


def stuck_jobs(now: datetime, stale_after: float) -> ColumnElement[bool]:
    """Running jobs whose heartbeat is older than ``stale_after`` seconds: the jobs a recovery
    requeues (or fails) and diagnostics reports as stuck."""
    return and_(
        _c.status == JobStatus.RUNNING.value,
        _c.last_heartbeat < stale_cutoff(now, stale_after),
    )


class JobMaintenance:
    """Recovery and cleanup verbs over ``async_jobs``; :class:`~cleveragents.store.jobs.JobStore`
    has them too (it derives from this class), so callers keep one store object."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def recover_stale(
        self,
        now: datetime,
        stale_after: float,
        before_release: Callable[[list[Claim]], None] | None = None,
    ) -> RecoveryReport:
        """Requeue running jobs whose heartbeat is older than ``stale_after`` seconds.

        A job with attempts left (``max_attempts`` counts lost runs only) goes back to queued;
        one without is failed with a message that says its worker was lost. Each run taken back
        is kept in the job's attempt history. Workers whose heartbeat is as old are marked
        lost. One write transaction, with the stale rows locked (``FOR UPDATE SKIP LOCKED``)
        and staleness checked again by each update, so two workers recovering at once never
        both act on a job and a job claimed anew meanwhile stays with its new worker.

        The workers are marked lost in the same transaction (the statement is the worker
        registry's, :func:`~cleveragents.store.workers.mark_lost`): a worker's heartbeat
        refreshes its row and its jobs together, and recovery judges both at the same instant,
        so a worker whose jobs were taken is the worker that learns it was declared lost (its
        next heartbeat says so). Two transactions would let a late heartbeat land between them:
        jobs taken from a worker that is never told, or a worker told of jobs nobody took.

        ``before_release`` is called with the stale claims, inside the transaction and before
        any job is released: the worker ends there what those claims still run on its host, so
        a job is requeued only once its previous run is gone (the rows stay locked meanwhile).
        """
        report = RecoveryReport()
        still_stale = stuck_jobs(now, stale_after)
        with self.db.write() as conn:
            # PostgreSQL: the rows are locked, and a second recoverer skips them; SQLite's write
            # transaction is exclusive anyway. The updates check staleness again, so a job that
            # was recovered and claimed anew meanwhile is never taken from its new worker.
            stale = conn.execute(
                select(_c.id, _c.attempts, _c.lost, _c.max_attempts, _c.worker_id, _c.started_at)
                .where(still_stale)
                .with_for_update(skip_locked=True)
            ).all()
            if stale and before_release is not None:
                before_release([Claim(row.id, row.attempts, row.worker_id) for row in stale])
            lost_error = f"worker lost: no heartbeat for over {stale_after:g} s"
            requeue = [row.id for row in stale if can_requeue(row.lost, row.max_attempts)]
            fail = [row.id for row in stale if not can_requeue(row.lost, row.max_attempts)]
            if requeue:
                report.requeued = sorted(
                    conn.execute(
                        update(async_jobs)
                        .where(_c.id.in_(requeue), still_stale)
                        .values(
                            status=JobStatus.QUEUED.value,
                            worker_id=None,
                            started_at=None,
                            last_heartbeat=None,
                            lost=_c.lost + 1,
                        )
                        .returning(_c.id)
                    ).scalars()
                )
            if fail:
                report.failed = sorted(
                    conn.execute(
                        update(async_jobs)
                        .where(_c.id.in_(fail), still_stale)
                        .values(
                            status=JobStatus.FAILED.value,
                            finished_at=now,
                            lost=_c.lost + 1,
                            error_message=f"{lost_error} and no attempts left",
                        )
                        .returning(_c.id)
                    ).scalars()
                )
            taken = set(report.requeued) | set(report.failed)
            record_lost(
                conn,
                [
                    (row.id, row.attempts, row.worker_id, row.started_at)
                    for row in stale
                    if row.id in taken
                ],
                now,
                lost_error,
                set(report.requeued),
            )
            report.lost_workers = sorted(mark_lost(conn, stale_cutoff(now, stale_after)))
        return report

    def delete(self, job_id: str) -> bool:
        """Remove one job whatever its status (diagnostics' probe cleans up after itself)."""
        with self.db.write() as conn:
            return bool(conn.execute(delete(async_jobs).where(_c.id == job_id)).rowcount)

    def prune(self, finished_before: datetime, batch: int = PRUNE_BATCH) -> int:
        """Delete finished jobs older than ``finished_before``, ``batch`` rows per transaction."""
        total = 0
        while True:
            victims = (
                select(_c.id)
                .where(_c.finished_at < finished_before, _c.status.in_(_TERMINAL))
                .limit(batch)
                .scalar_subquery()
            )
            with self.db.write() as conn:
                deleted = conn.execute(delete(async_jobs).where(_c.id.in_(victims))).rowcount
            total += deleted
            if deleted < batch:
                return total
