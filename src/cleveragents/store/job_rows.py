"""Rows of ``async_jobs`` and the jobs they hold, both ways."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, RowMapping

from cleveragents.domain.jobs import AsyncJob, JobStatus, NewJob


def job_from_row(row: Row[Any]) -> AsyncJob:
    """The job a row of ``async_jobs`` holds."""
    return job_from(row._mapping)


def job_from(m: Mapping[str, Any] | RowMapping) -> AsyncJob:
    """The job a row's mapping (every column of ``async_jobs``) holds."""
    return AsyncJob(
        id=m["id"],
        kind=m["kind"],
        status=m["status"],
        priority=m["priority"],
        payload=m["payload_json"],
        attempts=m["attempts"],
        max_attempts=m["max_attempts"],
        plan_id=m["plan_id"],
        phase=m["phase"],
        run_after=m["run_after"],
        worker_id=m["worker_id"],
        last_heartbeat=m["last_heartbeat"],
        cancel_requested=m["cancel_requested"],
        created_at=m["created_at"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        error_message=m["error_message"],
        result=m["result_json"],
        unique_key=m["unique_key"],
        retries=m["retries"],
        backoff_s=m["backoff_s"],
        failures=m["failures"],
        lost=m["lost"],
        queue=m["queue"],
    )


def row_values(job: NewJob, job_id: str, now: datetime) -> dict[str, Any]:
    """The row of a new queued job."""
    return {
        "id": job_id,
        "kind": job.kind,
        "plan_id": job.plan_id,
        "phase": job.phase.value if job.phase else None,
        "status": JobStatus.QUEUED.value,
        "priority": job.priority,
        "payload_json": job.payload,
        "attempts": 0,
        "max_attempts": job.max_attempts,
        "run_after": job.run_after or now,
        "cancel_requested": False,
        "created_at": now,
        "unique_key": job.unique_key,
        "retries": job.retries,
        "backoff_s": job.backoff_s,
        "queue": job.queue,
    }
