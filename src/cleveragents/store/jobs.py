"""The job queue: enqueue, claim, finish and cancel ``async_jobs`` rows.

Recovery and pruning (``store/recovery.py``) are inherited: one store serves a worker's loop.
Hot-path statements are SQLAlchemy Core (no ORM): a claim is one ``UPDATE … WHERE id IN (SELECT …
LIMIT n FOR UPDATE SKIP LOCKED) RETURNING …`` in a write transaction. SQLite ignores the
``FOR UPDATE SKIP LOCKED`` part and gets its exclusivity from ``BEGIN IMMEDIATE``; PostgreSQL gets
it from the row locks. Every status change is a conditional update on the current status, so the
database, not a read-then-write in Python, decides who wins a race.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    case,
    func,
    select,
    update,
)

from cleveragents.domain.ids import new_id, new_ids
from cleveragents.domain.jobs import (
    AsyncJob,
    Claim,
    ClaimPlan,
    JobAttempt,
    JobOutcome,
    JobStatus,
    NewJob,
    check_transition,
)
from cleveragents.errors import InvalidJobTransitionError, JobNotFoundError
from cleveragents.store.job_failures import attempts_of, record_failures
from cleveragents.store.job_rows import job_from, job_from_row, row_values
from cleveragents.store.job_statements import (
    BULK_COLUMNS,
    COLUMN_NAMES,
    bulk_insert_sql,
    claim_statement,
    compiled,
)
from cleveragents.store.recovery import JobMaintenance
from cleveragents.store.tables import async_jobs, plans

_c = async_jobs.c


def link_plans(conn: Connection, jobs: Iterable[tuple[str, NewJob]]) -> None:
    """A job that runs a plan's phase becomes that plan's job (``plans.job_id``), in the
    transaction that enqueues it."""
    for job_id, job in jobs:
        if job.plan_id is not None:
            conn.execute(update(plans).where(plans.c.id == job.plan_id).values(job_id=job_id))


class JobStore(JobMaintenance):
    """Domain verbs over the ``async_jobs`` table (recovery and pruning from the base class)."""

    # -- enqueue ----------------------------------------------------------------------------

    def enqueue(self, job: NewJob, now: datetime) -> AsyncJob:
        """Insert one queued job and return it. A job that runs a plan's phase becomes that
        plan's job (``plans.job_id``) in the same transaction."""
        values = row_values(job, new_id(), now)
        with self.db.write() as conn:
            compiled(conn).insert_one.execute(conn, {f"b_{k}": v for k, v in values.items()})
            link_plans(conn, [(values["id"], job)])
        return AsyncJob(
            id=values["id"],
            kind=job.kind,
            status=JobStatus.QUEUED,
            priority=job.priority,
            payload=job.payload,
            max_attempts=job.max_attempts,
            plan_id=job.plan_id,
            phase=job.phase,
            run_after=values["run_after"],
            created_at=now,
            unique_key=job.unique_key,
            retries=job.retries,
            backoff_s=job.backoff_s,
            queue=job.queue,
        )

    def enqueue_many(self, jobs: Sequence[NewJob], now: datetime) -> list[str]:
        """Insert many queued jobs in one transaction; returns their ids in order.

        The bulk path skips SQLAlchemy's per-row parameter processing (the cost that dominates
        a 10,000-row insert): each distinct value is converted once with the column type's own
        bind processor, so the rows hold exactly what the single-row path would store.
        """
        ids = new_ids(len(jobs))
        if not ids:
            return ids
        with self.db.write() as conn:
            dialect = conn.dialect
            as_time = async_jobs.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
            as_json = async_jobs.c.payload_json.type.dialect_impl(dialect).bind_processor(dialect)
            assert as_time is not None and as_json is not None
            converted: dict[int, tuple[Any, ...]] = {}
            rows = []
            for job_id, job in zip(ids, jobs, strict=True):
                shared = converted.get(id(job))
                if shared is None:
                    values = row_values(job, job_id, now)
                    shared = tuple(
                        as_time(values[name])
                        if name in ("run_after", "created_at")
                        else as_json(values[name])
                        if name == "payload_json"
                        else values[name]
                        for name in BULK_COLUMNS[1:]
                    )
                    converted[id(job)] = shared
                rows.append((job_id, *shared))
            conn.exec_driver_sql(bulk_insert_sql(dialect.paramstyle), rows)
            link_plans(conn, zip(ids, jobs, strict=True))
        return ids

    # -- read -------------------------------------------------------------------------------

    def get(self, job_id: str) -> AsyncJob:
        """The job with ``job_id``; :class:`JobNotFoundError` if there is none."""
        with self.db.read() as conn:
            return self._get(conn, job_id)

    def _get(self, conn: Connection, job_id: str) -> AsyncJob:
        row = conn.execute(select(async_jobs).where(_c.id == job_id)).first()
        if row is None:
            raise JobNotFoundError.for_id(job_id)
        return job_from_row(row)

    def history(self, job_id: str) -> list[JobAttempt]:
        """The job's runs that did not succeed (failed, or lost with their worker), oldest first."""
        with self.db.read() as conn:
            return attempts_of(conn, job_id)

    def find(
        self,
        status: JobStatus | None = None,
        kind: str | None = None,
        limit: int = 50,
        queue: str | None = None,
    ) -> list[AsyncJob]:
        """The newest jobs first, optionally only those of one status, kind or queue."""
        query = select(async_jobs).order_by(_c.id.desc()).limit(limit)
        if queue is not None:
            query = query.where(_c.queue == queue)
        if status is not None:
            query = query.where(_c.status == status.value)
        if kind is not None:
            query = query.where(_c.kind == kind)
        with self.db.read() as conn:
            return [job_from_row(row) for row in conn.execute(query)]

    def depths(self) -> dict[str, dict[str, int]]:
        """Queued and running jobs of each queue (``store/health.py`` ``queue_depths``)."""
        from cleveragents.store.health import queue_depths

        with self.db.read() as conn:
            return queue_depths(conn)

    def count_by_status(self) -> dict[JobStatus, int]:
        """How many jobs there are in each status (every status present, zeros included)."""
        counts = dict.fromkeys(JobStatus, 0)
        with self.db.read() as conn:
            for status, count in conn.execute(select(_c.status, func.count()).group_by(_c.status)):
                counts[JobStatus(status)] = count
        return counts

    # -- the worker's side ------------------------------------------------------------------

    def claim(
        self,
        worker_id: str,
        now: datetime,
        limit: int,
        outcomes: Sequence[JobOutcome] = (),
        queues: ClaimPlan | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> tuple[list[AsyncJob], int]:
        """Record ``outcomes`` and claim up to ``limit`` jobs, in one transaction.

        The claimed jobs' ``started_at`` and heartbeat are ``now``, or what ``clock`` reads once
        the transaction holds its locks when that is later: a pass that waited seconds (for the
        write lock, a connection, the CPU) must not stamp a claim already stale, which another
        worker's recovery would take away at once while this one starts running it.

        Jobs are claimed in priority order, then in the order they became due (``run_after``:
        creation, for a job not delayed), then id: from any queue, or as ``queues``
        says (each named queue in turn up to its quota, then the rest). Returns the claimed
        jobs and how many outcomes were recorded (an outcome is not recorded when the job is no
        longer this worker's: recovery gave it to another worker after this one looked dead).
        """
        # An empty pass announces nothing: an idle worker's claims must not wake every listener
        # (itself included) on PostgreSQL, which would turn idling into a busy loop.
        with self.db.write(notify=False) as conn:
            recorded = self._record(conn, worker_id, outcomes)
            when = now if clock is None else max(now, clock())
            rows = self._claim(conn, worker_id, when, limit, queues) if limit > 0 else []
            if recorded or rows:
                self.db.announce(conn)
        jobs = [job_from(dict(zip(COLUMN_NAMES, row, strict=True))) for row in rows]
        jobs.sort(key=lambda job: (job.priority, job.run_after, job.id))
        return jobs, recorded

    def _claim(
        self,
        conn: Connection,
        worker_id: str,
        now: datetime,
        limit: int,
        queues: ClaimPlan | None,
    ) -> list[tuple[Any, ...]]:
        hot = compiled(conn)
        any_queue, one_queue = hot.claim_any, hot.claim_queue
        params = {"b_worker": worker_id, "b_now": now}
        if queues is None:
            return any_queue.execute(conn, {**params, "b_limit": limit})
        rows: list[tuple[Any, ...]] = []
        for name, quota in queues.quotas:
            if len(rows) < limit and quota > 0:
                wanted = min(quota, limit - len(rows))
                rows += one_queue.execute(conn, {**params, "b_queue": name, "b_limit": wanted})
        wanted = min(queues.rest, limit - len(rows))
        if wanted > 0 and not queues.quotas:
            rows += any_queue.execute(conn, {**params, "b_limit": wanted})
        elif wanted > 0:  # every queue but those with quotas: built here, rarely used
            others = claim_statement(_c.queue.not_in([name for name, _ in queues.quotas]))
            rows += [
                tuple(row) for row in conn.execute(others, {**params, "b_limit": wanted}).all()
            ]
        return rows

    def record_outcomes(self, worker_id: str, outcomes: Sequence[JobOutcome]) -> int:
        """Record how jobs ended; returns how many were still this worker's to finish."""
        with self.db.write() as conn:
            return self._record(conn, worker_id, outcomes)

    def _record(self, conn: Connection, worker_id: str, outcomes: Sequence[JobOutcome]) -> int:
        final = [o for o in outcomes if o.status not in (JobStatus.QUEUED, JobStatus.FAILED)]
        failed = [o for o in outcomes if o.status == JobStatus.FAILED]
        requeue = [o for o in outcomes if o.status == JobStatus.QUEUED]
        recorded = record_failures(conn, worker_id, failed) if failed else 0
        if final:
            for outcome in final:
                check_transition(JobStatus.RUNNING, outcome.status, outcome.job_id)
            record = compiled(conn).record
            recorded += record.execute_many(
                conn,
                [
                    {
                        "b_id": o.job_id,
                        "b_worker": worker_id,
                        "b_attempt": o.attempt,
                        "b_status": o.status.value,
                        "b_finished": o.finished_at,
                        "b_result": o.result,
                        "b_error": o.error_message,
                    }
                    for o in final
                ],
            )
        if requeue:
            recorded += JobStore._requeue_own(
                conn, worker_id, [Claim(o.job_id, o.attempt) for o in requeue]
            )
        return recorded

    @staticmethod
    def _requeue_own(conn: Connection, worker_id: str, claims: Iterable[Claim]) -> int:
        # A job interrupted by a graceful shutdown goes back to the queue and gets the attempt
        # back: the job did not fail, its worker went away politely.
        requeued = 0
        for claim in claims:
            result = conn.execute(
                update(async_jobs)
                .where(
                    _c.id == claim.job_id,
                    _c.status == JobStatus.RUNNING.value,
                    _c.worker_id == worker_id,
                    _c.attempts == claim.attempt,
                )
                .values(
                    status=JobStatus.QUEUED.value,
                    worker_id=None,
                    started_at=None,
                    last_heartbeat=None,
                    attempts=case((_c.attempts > 0, _c.attempts - 1), else_=0),
                )
            )
            requeued += max(result.rowcount, 0)
        return requeued

    def requeue_own(self, worker_id: str, claims: Sequence[Claim]) -> int:
        """Put this worker's running jobs back to queued (graceful shutdown); returns how many."""
        with self.db.write() as conn:
            return self._requeue_own(conn, worker_id, claims)

    def cancel_requested(self, worker_id: str) -> set[str]:
        """Ids of this worker's running jobs that someone asked to cancel."""
        query = select(_c.id).where(
            _c.worker_id == worker_id,
            _c.status == JobStatus.RUNNING.value,
            _c.cancel_requested.is_(True),
        )
        with self.db.read() as conn:
            return set(conn.scalars(query))

    # -- the user's side --------------------------------------------------------------------

    def cancel(self, job_id: str, now: datetime) -> AsyncJob:
        """Cancel a job: a queued one at once; a running one is asked to stop by its worker.

        Raises :class:`InvalidJobTransitionError` for a job that has already finished.
        """
        with self.db.write() as conn:
            done = conn.execute(
                update(async_jobs)
                .where(_c.id == job_id, _c.status == JobStatus.QUEUED.value)
                .values(status=JobStatus.CANCELLED.value, finished_at=now, cancel_requested=True)
            )
            if done.rowcount == 0:
                conn.execute(
                    update(async_jobs)
                    .where(_c.id == job_id, _c.status == JobStatus.RUNNING.value)
                    .values(cancel_requested=True)
                )
            job = self._get(conn, job_id)
        if done.rowcount == 0 and job.status.is_terminal:
            raise InvalidJobTransitionError(
                f"job {job_id} cannot be cancelled: it has already {job.status.value}"
            )
        return job
