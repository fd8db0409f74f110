"""Job kinds that run plan phases in a worker: ``plan.execute`` and ``plan.apply``.

The executor and the applier are imported when a job runs, not when the kinds are registered:
`agents jobs enqueue` builds the registry to validate a payload and needs none of them.
"""

from __future__ import annotations

from typing import Any

from cleveragents.domain.jobs import PAYLOAD_VERSION, PHASE_KINDS, JobPhase, PlanPayload
from cleveragents.domain.locks import PLAN_LOCK_TTL_S, PROJECT_LOCK_TTL_S
from cleveragents.domain.paths import path_to_text
from cleveragents.domain.plans import PlanPhase
from cleveragents.errors import ApplyConflictError
from cleveragents.plans.backends import AUTO
from cleveragents.plans.capture import DEFAULT_MAX_BYTES
from cleveragents.runtime.tokens import JobCancelled
from cleveragents.worker.kinds import JobContext, JobFailed, JobKind


def plan_kinds(
    plan_lock_ttl_s: float = PLAN_LOCK_TTL_S,
    project_lock_ttl_s: float = PROJECT_LOCK_TTL_S,
    sandbox_backend: str = AUTO,
    log_max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[JobKind, ...]:
    """The plan job kinds, holding plan and project locks for these TTLs between renewals,
    making leaves' workspaces with ``sandbox_backend`` and keeping ``log_max_bytes`` of each
    attempt's output."""

    def execute(payload: PlanPayload, ctx: JobContext) -> dict[str, Any]:
        return run_plan_execute(payload, ctx, plan_lock_ttl_s, sandbox_backend, log_max_bytes)

    def apply(payload: PlanPayload, ctx: JobContext) -> dict[str, Any]:
        return run_plan_apply(payload, ctx, plan_lock_ttl_s, project_lock_ttl_s)

    return (
        JobKind(
            PHASE_KINDS[JobPhase.EXECUTE],
            PlanPayload,
            execute,
            "Execute or resume a plan.",
            schema_version=PAYLOAD_VERSION,
        ),
        JobKind(
            PHASE_KINDS[JobPhase.APPLY],
            PlanPayload,
            apply,
            "Apply an executed plan's changes.",
            schema_version=PAYLOAD_VERSION,
        ),
    )


def _refuse_cancelled(ctx: JobContext) -> None:
    """A job cancelled while its last worker died does not run (nor resume its plan)."""
    assert ctx.db is not None, "the worker passes its database"
    if ctx.job.cancel_requested:
        raise JobCancelled("cancelled before it ran")


def run_plan_execute(
    payload: PlanPayload,
    ctx: JobContext,
    plan_lock_ttl_s: float = PLAN_LOCK_TTL_S,
    sandbox_backend: str = AUTO,
    log_max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict[str, Any]:
    """Execute (or resume) a plan under the job's cancellation token.

    A cancelled or shut-down job stops the plan's subplans; the job's status follows the token
    (a worker shutdown puts the job back in the queue, and the next run resumes the plan).
    """
    from cleveragents.plans.executor import PlanExecutor

    _refuse_cancelled(ctx)
    assert ctx.db is not None
    executor = PlanExecutor(
        ctx.db,
        clock=ctx.clock,
        plan_lock_ttl_s=plan_lock_ttl_s,
        markers=ctx.markers,
        sandbox_backend=sandbox_backend,
        log_max_bytes=log_max_bytes,
    )
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


def run_plan_apply(
    payload: PlanPayload,
    ctx: JobContext,
    plan_lock_ttl_s: float = PLAN_LOCK_TTL_S,
    project_lock_ttl_s: float = PROJECT_LOCK_TTL_S,
) -> dict[str, Any]:
    """Apply an executed plan (or finish an apply that stopped) under the job's token.

    Conflicts fail the job with every conflicting path in its result, nothing written. A job
    stopped by a cancel or a worker shutdown leaves the plan ``applying``; the next run of the
    job (after a shutdown it is queued again) completes it.
    """
    from cleveragents.plans.apply import ApplyError, PlanApplier

    _refuse_cancelled(ctx)
    assert ctx.db is not None
    applier = PlanApplier(
        ctx.db,
        clock=ctx.clock,
        plan_lock_ttl_s=plan_lock_ttl_s,
        project_lock_ttl_s=project_lock_ttl_s,
    )
    try:
        report = applier.apply(payload.plan_id, token=ctx.token)
    except ApplyConflictError as exc:
        conflicts = [  # a path that is not UTF-8 as its stored text (docs/actions.md)
            {**conflict.model_dump(), "path": path_to_text(conflict.path)}
            for conflict in exc.conflicts
        ]
        raise JobFailed(exc.message, {"plan_id": payload.plan_id, "conflicts": conflicts}) from None
    except ApplyError as exc:
        if ctx.token.cancelled:
            raise JobCancelled(exc.message) from None
        raise JobFailed(exc.message, {"plan_id": payload.plan_id}) from None
    return {
        "plan_id": payload.plan_id,
        "phase": report.plan.phase.value,
        "written": len(report.to_write),
        "already": len(report.already),
    }
