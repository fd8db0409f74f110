"""Removing plans: `agents plan delete`, `agents plan prune` and the worker's ``plans.ttl``.

A plan goes with everything that is only its own (its subplans, events, output, recorded
changes: the foreign keys cascade), in one transaction that also collects the file contents no
remaining change refers to (store/blobs.py). A plan that is executing or applying, or whose job
is queued or running, is refused: its run would find itself gone. What the removal freed on
disk comes back with `agents db vacuum` (SQLite keeps freed pages for reuse until then).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, delete, func, select

from cleveragents.domain.jobs import JobStatus
from cleveragents.domain.plans import PlanPhase
from cleveragents.errors import ConflictError, PlanNotFoundError
from cleveragents.store import blobs
from cleveragents.store.engine import Database
from cleveragents.store.tables import async_jobs, changes, plans

BUSY_PHASES = (PlanPhase.EXECUTING, PlanPhase.APPLYING)
FINISHED_PHASES = (PlanPhase.EXECUTED, PlanPhase.APPLIED, PlanPhase.FAILED, PlanPhase.CANCELLED)
_LIVE_JOB = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


@dataclass(frozen=True)
class Removal:
    """What a removal took: the plans (ids), their recorded changes, the contents freed."""

    plan_ids: list[str]
    changes: int
    blobs: int
    dry_run: bool = False


def delete_plans(db: Database, plan_ids: Sequence[str], now: datetime) -> Removal:
    """Delete these plans (full ids) and what only they referred to, all or none of them."""
    wanted = list(dict.fromkeys(plan_ids))
    with db.write() as conn:
        found = {row.id: row for row in conn.execute(_described().where(plans.c.id.in_(wanted)))}
        for plan_id in wanted:
            if plan_id not in found:
                raise PlanNotFoundError.for_id(plan_id)
            _refuse_busy(found[plan_id])
        return _remove(conn, wanted, now)


def prune_plans(
    db: Database,
    finished_before: datetime,
    phases: Sequence[PlanPhase],
    now: datetime,
    dry_run: bool = False,
) -> Removal:
    """Delete the plans in ``phases`` that finished before ``finished_before`` (none that is
    busy), with what only they referred to; with ``dry_run``, only say which."""
    chosen = [phase.value for phase in phases if phase not in BUSY_PHASES]
    with db.write() as conn:
        query = _described().where(
            plans.c.phase.in_(chosen),
            plans.c.finished_at.is_not(None),
            plans.c.finished_at < finished_before,
        )
        ids = [row.id for row in conn.execute(query) if row.job_status not in _LIVE_JOB]
        if dry_run:
            count = _count_changes(conn, ids)
            return Removal(ids, count, 0, dry_run=True)
        return _remove(conn, ids, now)


def _described() -> Select[Any]:
    """Plans with the status of their job, if they have one."""
    job_status = async_jobs.c.status.label("job_status")
    return select(plans.c.id, plans.c.phase, job_status).outerjoin(
        async_jobs, async_jobs.c.id == plans.c.job_id
    )


def _refuse_busy(row: Row[Any]) -> None:
    plan_id, phase, job_status = row.id, row.phase, row.job_status
    if phase in {busy.value for busy in BUSY_PHASES}:
        raise ConflictError(
            f"plan {plan_id} is {phase}: cancel it first (`agents plan cancel {plan_id}`)"
        )
    if job_status in _LIVE_JOB:
        raise ConflictError(
            f"plan {plan_id} has a job that is {job_status}: cancel it first "
            f"(`agents plan cancel {plan_id}`)"
        )


def _count_changes(conn: Connection, plan_ids: Sequence[str]) -> int:
    if not plan_ids:
        return 0
    query = select(func.count()).select_from(changes).where(changes.c.plan_id.in_(plan_ids))
    return int(conn.execute(query).scalar_one())


def _remove(conn: Connection, plan_ids: list[str], now: datetime) -> Removal:
    count = _count_changes(conn, plan_ids)
    if plan_ids:
        conn.execute(delete(plans).where(plans.c.id.in_(plan_ids)))
    return Removal(plan_ids, count, blobs.collect(conn, now))
