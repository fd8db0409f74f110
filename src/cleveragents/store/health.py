"""Read-only facts for `agents diagnostics`: the database's settings and the queue's shape.

Every query here is answered from an index, so a database with a million jobs reports in well
under a second. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, text

from cleveragents.domain.jobs import JobStatus
from cleveragents.domain.plans import PlanPhase
from cleveragents.store.engine import Database
from cleveragents.store.recovery import stuck_jobs
from cleveragents.store.tables import async_jobs, plans

_j = async_jobs.c
SAMPLE = 20  # ids named in a report, at most


def database_facts(db: Database) -> dict[str, Any]:
    """The dialect and, for SQLite, the pragmas in force on a connection of ours; for
    PostgreSQL the server version, database, user and connections in use."""
    with db.read() as conn:
        facts: dict[str, Any] = {"dialect": conn.dialect.name}
        if conn.dialect.name == "sqlite":
            facts["sqlite_version"] = conn.execute(text("SELECT sqlite_version()")).scalar()
            facts["journal_mode"] = conn.execute(text("PRAGMA journal_mode")).scalar()
            facts["busy_timeout_ms"] = conn.execute(text("PRAGMA busy_timeout")).scalar()
            facts["foreign_keys"] = bool(conn.execute(text("PRAGMA foreign_keys")).scalar())
        elif conn.dialect.name == "postgresql":
            row = conn.execute(
                text(
                    "SELECT current_setting('server_version'), current_database(), current_user,"
                    " current_setting('max_connections')::int,"
                    " (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database())"
                )
            ).one()
            facts.update(
                server_version=row[0],
                database=row[1],
                user=row[2],
                max_connections=row[3],
                connections=row[4],
            )
        return facts


@dataclass
class QueueFacts:
    """The queue as diagnostics sees it."""

    counts: dict[str, int]
    oldest_queued_at: datetime | None
    failed_last_day: int
    stuck: list[str] = field(default_factory=list)  # running, heartbeat older than stale_after
    stuck_count: int = 0
    overdue: list[str] = field(default_factory=list)  # running longer than job_timeout
    overdue_count: int = 0
    queues: dict[str, dict[str, int]] = field(default_factory=dict)  # see queue_depths


def queue_depths(conn: Connection) -> dict[str, dict[str, int]]:
    """Queued and running jobs of each queue that has any: ``{queue: {"queued": n,
    "running": m}}``, by queue name."""
    live = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
    depths: dict[str, dict[str, int]] = {}
    rows = conn.execute(
        select(_j.queue, _j.status, func.count())
        .where(_j.status.in_(live))
        .group_by(_j.queue, _j.status)
    ).all()
    for queue, status, count in rows:
        depths.setdefault(str(queue), dict.fromkeys(live, 0))[str(status)] = int(count)
    return dict(sorted(depths.items()))


def jobs_by_queue_and_state(db: Database) -> list[tuple[str, str, int]]:
    """(queue, status, count) of every job in the table (the metrics' ``agents_jobs``)."""
    with db.read() as conn:
        rows = conn.execute(
            select(_j.queue, _j.status, func.count()).group_by(_j.queue, _j.status)
        ).all()
    return [(str(queue), str(status), int(count)) for queue, status, count in rows]


def queue_facts(db: Database, now: datetime, stale_after_s: float, timeout_s: float) -> QueueFacts:
    """Depth by status, the oldest queued job, recent failures, stuck and overdue jobs.

    Stuck jobs are selected with :func:`~cleveragents.store.recovery.stuck_jobs`, the predicate
    `agents jobs recover` acts on, so what is reported is what recovery fixes.
    """
    started_before = now - timedelta(seconds=timeout_s)
    with db.read() as conn:
        counts = {status.value: 0 for status in JobStatus}
        for status, count in conn.execute(
            select(_j.status, func.count()).group_by(_j.status)
        ).all():
            counts[str(status)] = int(count)
        # ULIDs sort by creation time: the smallest queued id is the oldest queued job.
        oldest_id = conn.execute(
            select(func.min(_j.id)).where(_j.status == JobStatus.QUEUED.value)
        ).scalar()
        oldest = None
        if oldest_id is not None:
            oldest = conn.execute(select(_j.created_at).where(_j.id == oldest_id)).scalar()
        failed = conn.execute(
            select(func.count())
            .select_from(async_jobs)
            .where(
                _j.finished_at >= now - timedelta(days=1),
                _j.status == JobStatus.FAILED.value,
            )
        ).scalar_one()
        stuck = list(
            conn.scalars(select(_j.id).where(stuck_jobs(now, stale_after_s)).order_by(_j.id))
        )
        queues = queue_depths(conn)
        overdue = list(
            conn.scalars(
                select(_j.id)
                .where(_j.status == JobStatus.RUNNING.value, _j.started_at < started_before)
                .order_by(_j.id)
            )
        )
    return QueueFacts(
        counts=counts,
        oldest_queued_at=oldest,
        failed_last_day=int(failed),
        stuck=stuck[:SAMPLE],
        stuck_count=len(stuck),
        overdue=overdue[:SAMPLE],
        overdue_count=len(overdue),
        queues=queues,
    )


def executing_plans(db: Database) -> list[tuple[str, str | None, str]]:
    """``(plan id, owner, phase)`` of every plan in phase ``executing`` or ``applying``."""
    with db.read() as conn:
        rows = conn.execute(
            select(plans.c.id, plans.c.owner, plans.c.phase).where(
                plans.c.phase.in_((PlanPhase.EXECUTING.value, PlanPhase.APPLYING.value))
            )
        ).all()
    return [(str(row.id), row.owner, str(row.phase)) for row in rows]
