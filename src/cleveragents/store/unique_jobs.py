"""Enqueueing a job with a unique key: while a job with that key is queued or running, enqueueing
another gives back that job instead of adding one.

The partial unique index ``uq_async_jobs_unique_key`` (store/tables.py) decides: the insert is
``ON CONFLICT DO NOTHING`` on it, so two processes enqueueing the same key at once add exactly
one job; the one that added nothing then reads the job that holds the key. (A holder that
finished in between frees the key: the insert is tried again.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from cleveragents.domain.ids import new_id
from cleveragents.domain.jobs import AsyncJob, NewJob
from cleveragents.errors import ConflictError
from cleveragents.store.job_rows import job_from, row_values
from cleveragents.store.jobs import JobStore, link_plans
from cleveragents.store.tables import UNIQUE_WHILE_LIVE, async_jobs
from cleveragents.store.upserts import insert_on_conflict

ATTEMPTS = 3  # inserts tried while the key's holder keeps finishing in between


def enqueue_unique(store: JobStore, job: NewJob, now: datetime) -> tuple[AsyncJob, bool]:
    """Enqueue ``job`` (which has a ``unique_key``) unless a live job holds its key: the job
    enqueued, or the holder, and whether it was the holder (deduplicated)."""
    assert job.unique_key is not None, "a unique job has a key"
    for _ in range(ATTEMPTS):
        with store.db.write() as conn:
            values = row_values(job, new_id(), now)
            if _insert(conn, values):
                link_plans(conn, [(values["id"], job)])
                return store._get(conn, values["id"]), False
            holder = conn.execute(
                select(async_jobs).where(
                    async_jobs.c.unique_key == job.unique_key, UNIQUE_WHILE_LIVE
                )
            ).first()
            if holder is not None:
                return job_from(holder._mapping), True
    raise ConflictError(f"the unique key {job.unique_key!r} is contended; try again")


def _insert(conn: Connection, values: dict[str, Any]) -> bool:
    """Insert the row unless a live job holds its key; True if it was inserted."""
    statement = insert_on_conflict(conn.dialect.name, async_jobs)
    inserted = conn.execute(
        statement.values(**values)
        .on_conflict_do_nothing(
            index_elements=[async_jobs.c.unique_key], index_where=UNIQUE_WHILE_LIVE
        )
        .returning(async_jobs.c.id)
    ).first()
    return inserted is not None
