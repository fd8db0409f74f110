"""The plan lifecycle's rules, in one place: when a plan may run, handing a phase to a worker,
cancelling, whether a run is live, and following a run from another process.

The CLI parses options, calls these and renders what they return; the worker's plan job kinds
run the phases. Running a phase here is :class:`PlanExecutor` / :class:`PlanApplier` themselves.
See docs/architecture.md for the plan state machine these rules move along.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cleveragents.domain.jobs import (
    PAYLOAD_VERSION,
    PHASE_KINDS,
    SCHEMA_VERSION_KEY,
    AsyncJob,
    JobPhase,
    JobStatus,
    NewJob,
    PlanPayload,
)
from cleveragents.domain.markers import PLAN_ID
from cleveragents.domain.plans import EXECUTABLE_PHASES, Plan, PlanEvent, PlanPhase, Rerun
from cleveragents.domain.profile import PROFILE_FIELDS, ProfileValue
from cleveragents.errors import ConflictError, InvalidInputError
from cleveragents.plans.actions import ActionSpec
from cleveragents.plans.locking import run_is_live
from cleveragents.runtime.sweep import end_marked
from cleveragents.runtime.waiting import wait_for_job as wait_for_job  # the CLI waits here
from cleveragents.runtime.waiting import wait_until
from cleveragents.store.changes import ChangeStore
from cleveragents.store.engine import Database
from cleveragents.store.jobs import JobStore
from cleveragents.store.locks import LockService
from cleveragents.store.plans import EVENT_PAGE, PlanStore
from cleveragents.store.workers import WorkerStore


def unserved_job(db: Database, plan: Plan, now: datetime, stale_after: float) -> AsyncJob | None:
    """The plan's job while it is queued and no live worker (a heartbeat within
    ``stale_after`` seconds) could take it: a follower should say so rather than wait mutely."""
    job = pending_job(db, plan)
    if job is None or job.status is not JobStatus.QUEUED:
        return None
    if WorkerStore(db).live(now - timedelta(seconds=stale_after)):
        return None
    return job


def pending_job(db: Database, plan: Plan) -> AsyncJob | None:
    """The plan's job while it is queued or running, else None."""
    if not plan.job_id:
        return None
    job = JobStore(db).get(plan.job_id)
    return None if job.status.is_terminal else job


def refuse_if_queued(db: Database, plan: Plan) -> None:
    """A plan whose job is queued or running is the worker's to work on."""
    job = pending_job(db, plan)
    if job is not None:
        raise ConflictError(
            f"plan {plan.id} already has job {job.id} ({job.status.value}); "
            f"follow it with `agents plan watch {plan.id}` or stop it with "
            f"`agents plan cancel {plan.id}`"
        )


def check_executable(db: Database, plan: Plan, now: datetime) -> None:
    """Raise :class:`ConflictError` unless the plan may be executed (or resumed) now."""
    if plan.phase not in EXECUTABLE_PHASES:
        raise ConflictError(f"plan {plan.id} is {plan.phase.value}; it cannot be executed")
    if run_is_live(LockService(db), plan, now):
        raise ConflictError(f"plan {plan.id} is already executing (owner {plan.owner})")


def check_rebindable(plan: Plan, action: ActionSpec) -> None:
    """Refuse an action that would select or split the plan's files otherwise."""
    old = ActionSpec.model_validate(plan.action)
    for field in ("include", "exclude", "decompose"):
        if getattr(action, field) != getattr(old, field):
            raise InvalidInputError(
                f"action {action.name} differs from plan {plan.id}'s in {field}: it would select "
                "or split the files otherwise; create a new plan with it"
            )


def rebind_action(db: Database, plan: Plan, action: ActionSpec, now: datetime) -> Plan:
    """Bind a plan that may execute now to ``action`` for its leaves not completed (a fixed
    action, after a run failed). Its decomposition stays: an action that selects or splits the
    files otherwise is refused (that is a new plan)."""
    check_executable(db, plan, now)
    check_rebindable(plan, action)
    return PlanStore(db).rebind_action(
        plan, action.name, action.snapshot(), now, action=action.name, source=action.source
    )


BUDGET_SOURCE = "plan execute (command line)"


def set_budget(db: Database, plan: Plan, max_cost_usd: float, now: datetime) -> Plan:
    """Give a plan that may execute now the budget ``max_cost_usd`` (to resume one that reached
    its budget); the change is an event of the plan."""
    check_executable(db, plan, now)
    value = PROFILE_FIELDS["max_cost_usd"].check(max_cost_usd, BUDGET_SOURCE)
    budget = ProfileValue(value=value, source=BUDGET_SOURCE)
    profile = plan.profile.model_copy(update={"max_cost_usd": budget})
    return PlanStore(db).set_profile(plan, profile, now, max_cost_usd=value)


def rerun(db: Database, plan: Plan, which: str, now: datetime) -> int:
    """Before an execution: with ``which`` = ``all``, send every completed leaf that is not
    applied back to pending (its changes dropped) so that it runs again; ``failed`` is what an
    execution does anyway (failed and cancelled leaves run again). How many leaves were reset."""
    if which == Rerun.FAILED:
        return 0
    if plan.phase not in (PlanPhase.EXECUTED, *EXECUTABLE_PHASES):
        raise ConflictError(f"plan {plan.id} is {plan.phase.value}; it cannot run again")
    if run_is_live(LockService(db), plan, now):
        raise ConflictError(f"plan {plan.id} is already executing (owner {plan.owner})")
    recorded = ChangeStore(db).by_subplan(plan.id)
    applied = [leaf_id for leaf_id, (_count, done) in recorded.items() if done]
    return PlanStore(db).rerun(plan, now, keep=applied)


REJECTABLE_PHASES = (PlanPhase.EXECUTED, PlanPhase.FAILED, PlanPhase.CANCELLED)


def reject(db: Database, plan: Plan, subplan_ids: list[str], reason: str, now: datetime) -> int:
    """Drop what these leaves changed, before apply, marked rejected with ``reason``; how many
    changes were dropped. Only a plan that ran and is not being applied takes it."""
    if plan.phase not in REJECTABLE_PHASES:
        raise InvalidInputError(
            f"plan {plan.id} is {plan.phase.value}: only the changes of a plan that ran "
            "(executed, failed or cancelled) and is not applied can be rejected"
        )
    return ChangeStore(db).reject(plan, subplan_ids, reason, now)


def enqueue_phase(
    db: Database, plan: Plan, phase: JobPhase, *, max_attempts: int, now: datetime
) -> AsyncJob:
    """Queue the job that runs ``phase`` of ``plan``; the job and the plan's link to it are
    written in one transaction. ``max_attempts`` bounds the runs a lost worker costs it."""
    payload = {SCHEMA_VERSION_KEY: PAYLOAD_VERSION, **PlanPayload(plan_id=plan.id).model_dump()}
    job = NewJob(
        kind=PHASE_KINDS[phase],
        payload=payload,
        max_attempts=max_attempts,
        plan_id=plan.id,
        phase=phase,
    )
    return JobStore(db).enqueue(job, now)


class CancelOutcome(StrEnum):
    """What ``cancel`` did."""

    REQUESTED = "requested"  # the live run was asked to stop; it stops its subplans
    RUN_GONE = "run gone"  # the run had died: its leftovers were ended, the plan cancelled
    JOB_CANCELLED = "job cancelled"  # the plan was waiting for a worker: its job was cancelled


@dataclass(frozen=True)
class Cancelled:
    """What ``cancel`` did, and the plan's job it cancelled (if it had one queued or running)."""

    outcome: CancelOutcome
    job_id: str | None


def cancel(db: Database, plan_id: str, now: datetime) -> Cancelled:
    """Stop a plan: cancel its job (first, so recovery cannot hand it to a worker again), then
    ask its live run to stop, or, if its run is gone, end what that run left running and cancel
    the plan. Raises :class:`ConflictError` for a plan with nothing to stop."""
    plans = PlanStore(db)
    plan = plans.get(plan_id)
    job = pending_job(db, plan)
    job_id = job.id if job is not None else None
    if job_id is not None:
        JobStore(db).cancel(job_id, now)
    if (
        plan.phase is PlanPhase.EXECUTING
        and plan.owner
        and not run_is_live(LockService(db), plan, now)
    ):
        end_marked({PLAN_ID: plan_id})  # what the dead run left running
        plans.abandon(plan_id, plan.owner, now, f"cancelled; its run ({plan.owner}) is gone")
        return Cancelled(CancelOutcome.RUN_GONE, job_id)
    if plan.phase is PlanPhase.EXECUTING:
        plans.request_cancel(plan_id)
        return Cancelled(CancelOutcome.REQUESTED, job_id)
    if job_id is None:
        raise ConflictError(f"plan {plan_id} is not executing (phase {plan.phase.value})")
    return Cancelled(CancelOutcome.JOB_CANCELLED, job_id)


class Activity(StrEnum):
    """Whether anything is working on a plan."""

    ACTIVE = "active"  # a live run executes it, or its job is queued or running
    RUN_GONE = "run gone"  # it says executing, but the run that held it is gone
    IDLE = "idle"


def activity(db: Database, plan: Plan, now: datetime) -> Activity:
    """Executing by a live run, or about to be (its job is queued or running)?"""
    if pending_job(db, plan) is not None:
        return Activity.ACTIVE
    if plan.phase is PlanPhase.EXECUTING:
        return Activity.ACTIVE if run_is_live(LockService(db), plan, now) else Activity.RUN_GONE
    return Activity.IDLE


def show_events(
    plans: PlanStore, plan_id: str, after: int, on_event: Callable[[PlanEvent], None]
) -> int:
    """Hand every event after ``after`` to ``on_event``, page by page; the last id handed."""
    while True:
        page = plans.events(plan_id, after)
        for event in page:
            on_event(event)
            after = event.id
        if len(page) < EVENT_PAGE:
            return after


def check_followable(db: Database, plan: Plan, now: datetime) -> None:
    """Raise :class:`ConflictError` for a plan nothing will run: created, with no job queued."""
    if plan.phase is PlanPhase.CREATED and activity(db, plan, now) is not Activity.ACTIVE:
        raise ConflictError(
            f"plan {plan.id} is not executing (phase created); "
            f"start it with `agents plan execute {plan.id}`"
        )


def follow(
    db: Database,
    plan_id: str,
    on_event: Callable[[PlanEvent], None],
    clock: Callable[[], datetime],
) -> tuple[Plan, Activity]:
    """Follow a run from another process (see :func:`check_followable` first): every event from
    now on goes to ``on_event`` as it is committed, until nothing works on the plan any more.
    Returns the plan then, and why following ended (``IDLE``, or ``RUN_GONE`` for a dead run)."""
    plans = PlanStore(db)
    after = plans.last_event_id(plan_id)

    def read() -> tuple[Plan, Activity]:
        nonlocal after
        after = show_events(plans, plan_id, after, on_event)
        current = plans.get(plan_id)
        return current, activity(db, current, clock())

    plan, state = wait_until(db, read, lambda found: found[1] is not Activity.ACTIVE)
    show_events(plans, plan_id, after, on_event)
    return plan, state
