"""Job kinds that run plan phases in a worker: ``plan.execute``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cleveragents.domain.plans import PlanPhase
from cleveragents.plans.executor import PLAN_LOCK_TTL_S, PlanExecutor
from cleveragents.runtime.tokens import JobCancelled
from cleveragents.worker.kinds import JobContext, JobFailed, JobKind


class PlanPayload(BaseModel):
    """Which plan to work on."""

    model_config = ConfigDict(extra="forbid")

    plan_id: str = Field(min_length=26, max_length=26)


def plan_kinds(plan_lock_ttl_s: float = PLAN_LOCK_TTL_S) -> tuple[JobKind, ...]:
    """The plan job kinds, holding plan locks for ``plan_lock_ttl_s`` between renewals."""

    def execute(payload: PlanPayload, ctx: JobContext) -> dict[str, Any]:
        return run_plan_execute(payload, ctx, plan_lock_ttl_s)

    return (JobKind("plan.execute", PlanPayload, execute, "Execute or resume a plan."),)


def run_plan_execute(
    payload: PlanPayload, ctx: JobContext, plan_lock_ttl_s: float = PLAN_LOCK_TTL_S
) -> dict[str, Any]:
    """Execute (or resume) a plan under the job's cancellation token.

    A cancelled or shut-down job stops the plan's subplans; the job's status follows the token
    (a worker shutdown puts the job back in the queue, and the next run resumes the plan).
    """
    assert ctx.db is not None, "the worker passes its database"
    if ctx.job.cancel_requested:  # cancelled while its last worker died: do not resume it
        raise JobCancelled("cancelled before it ran")
    executor = PlanExecutor(ctx.db, clock=ctx.clock, plan_lock_ttl_s=plan_lock_ttl_s)
    report = executor.execute(payload.plan_id, token=ctx.token)
    result = {
        "plan_id": payload.plan_id,
        "phase": report.plan.phase.value,
        "counts": report.counts.model_dump(),
        "peak_running": report.peak_running,
    }
    if report.plan.phase is PlanPhase.CANCELLED:  # by `plan cancel`, a job cancel or shutdown
        raise JobCancelled(report.error or "cancelled")
    if not report.ok:
        raise JobFailed(f"plan {report.plan.phase.value}: {report.error}", result)
    return result


PLAN_KINDS = (JobKind("plan.execute", PlanPayload, run_plan_execute, "Execute or resume a plan."),)
