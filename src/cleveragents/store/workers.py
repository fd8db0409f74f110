"""The worker registry: one ``workers`` row per worker process, kept fresh by its heartbeat."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from cleveragents.domain.jobs import HeartbeatReply, JobStatus, WorkerInfo, WorkerStatus
from cleveragents.store.engine import Database
from cleveragents.store.tables import async_jobs, workers

_w = workers.c
_j = async_jobs.c


def _to_worker(row: Row[Any]) -> WorkerInfo:
    return WorkerInfo(**dict(row._mapping))


def mark_lost(conn: Connection, cutoff: datetime) -> list[str]:
    """In the caller's transaction: running workers last heard from before ``cutoff`` become
    lost (with no jobs running); returns their ids. Job recovery calls this in its own
    transaction (see ``JobMaintenance.recover_stale``)."""
    lost = conn.execute(
        update(workers)
        .where(_w.status == WorkerStatus.RUNNING.value, _w.last_heartbeat < cutoff)
        .values(status=WorkerStatus.LOST.value, jobs_running=0)
        .returning(_w.id)
    )
    return list(lost.scalars())


class WorkerStore:
    """Domain verbs over the ``workers`` table (and the heartbeat of a worker's jobs)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def register(
        self,
        worker_id: str,
        hostname: str,
        pid: int,
        max_workers: int,
        now: datetime,
        queues: str | None = None,
    ) -> None:
        """Add a running worker (``queues``: what it serves, as `worker list` shows it)."""
        with self.db.write() as conn:
            conn.execute(
                insert(workers).values(
                    id=worker_id,
                    hostname=hostname,
                    pid=pid,
                    max_workers=max_workers,
                    queues=queues,
                    status=WorkerStatus.RUNNING.value,
                    started_at=now,
                    last_heartbeat=now,
                )
            )

    def heartbeat(
        self, worker_id: str, now: datetime, counters: Mapping[str, int]
    ) -> HeartbeatReply:
        """Refresh the worker and all its running jobs in one transaction.

        Replies with the ids of its running jobs someone asked to cancel, whether the worker row
        was still ``running`` (False if another worker's recovery had declared it lost; the row
        is running again now), and the claims it still holds: a job of this worker missing from
        them was taken away (recovered elsewhere) and must stop.
        """
        with self.db.write() as conn:
            previous = conn.execute(select(_w.status).where(_w.id == worker_id)).scalar()
            conn.execute(
                update(workers)
                .where(_w.id == worker_id)
                .values(last_heartbeat=now, status=WorkerStatus.RUNNING.value, **counters)
            )
            held = conn.execute(
                update(async_jobs)
                .where(_j.worker_id == worker_id, _j.status == JobStatus.RUNNING.value)
                .values(last_heartbeat=now)
                .returning(_j.id, _j.attempts, _j.cancel_requested)
            ).all()
        return HeartbeatReply(
            cancel=frozenset(job_id for job_id, _, cancel in held if cancel),
            was_alive=previous == WorkerStatus.RUNNING.value,
            held=frozenset((job_id, attempt) for job_id, attempt, _ in held),
        )

    def mark_stopped(self, worker_id: str, now: datetime, counters: Mapping[str, int]) -> None:
        """Record a graceful stop."""
        with self.db.write() as conn:
            conn.execute(
                update(workers)
                .where(_w.id == worker_id)
                .values(
                    status=WorkerStatus.STOPPED.value,
                    stopped_at=now,
                    last_heartbeat=now,
                    **{**counters, "jobs_running": 0},
                )
            )

    def find(self, include_stopped: bool = False) -> list[WorkerInfo]:
        """Registered workers, newest first; only running (and lost) ones unless asked."""
        query = select(workers).order_by(_w.started_at.desc())
        if not include_stopped:
            query = query.where(_w.status != WorkerStatus.STOPPED.value)
        with self.db.read() as conn:
            return [_to_worker(row) for row in conn.execute(query)]

    def live(self, cutoff: datetime) -> list[WorkerInfo]:
        """Running workers whose last heartbeat is at ``cutoff`` or later."""
        return [worker for worker in self.find() if worker.is_live(cutoff)]

    def prune(self, before: datetime) -> int:
        """Forget stopped and lost workers last seen before ``before``."""
        with self.db.write() as conn:
            return conn.execute(
                delete(workers).where(
                    _w.status != WorkerStatus.RUNNING.value, _w.last_heartbeat < before
                )
            ).rowcount
