"""`agents plan`: create plans, execute them here or in a worker, follow and inspect them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cleveragents.cli import plan_changes, plan_logs, plan_storage, plan_views
from cleveragents.cli.commands import help_of
from cleveragents.cli.output import error, json_line, line, print_json
from cleveragents.cli.plan_jobs import (
    INTERRUPTED_EXIT,
    RebindOption,
    RerunOption,
    enqueue_phase,
    interrupt_to_token,
    prepare,
)
from cleveragents.cli.plan_options import (
    ActionOption,
    AsyncOption,
    BudgetOption,
    EventsJsonOption,
    FailureModeOption,
    LeafBudgetOption,
    MaxParallelOption,
    ProjectOption,
    RetriesOption,
    TimeoutOption,
    WaitOption,
)
from cleveragents.cli.progress import PlanProgressView, ProgressMode, choose_mode, summary
from cleveragents.cli.project_refs import find_project
from cleveragents.cli.render import plan_json, plan_status_json, plans_table
from cleveragents.cli.state import AppState, JsonOption, PlanRef, state
from cleveragents.domain.clock import utcnow
from cleveragents.domain.jobs import JobPhase
from cleveragents.domain.plans import (
    EventKind,
    Plan,
    PlanEvent,
    PlanPhase,
    Subplan,
)
from cleveragents.domain.profile import DEFAULT_SOURCE, PROFILE_FIELDS, FailureMode
from cleveragents.errors import InvalidInputError
from cleveragents.store.plans import PlanStore

if TYPE_CHECKING:  # the plan machinery is imported by the commands that run it
    from cleveragents.plans.executor import PlanRunReport
    from cleveragents.store.engine import Database

app = typer.Typer(help=help_of("plan"), no_args_is_help=True)


def _create(
    app_state: AppState,
    project: str,
    action: str,
    overrides: dict[str, Any],
) -> tuple[Plan, list[Subplan]]:
    from cleveragents.plans.action_files import resolve_action
    from cleveragents.plans.creation import create_plan

    db = app_state.db()
    found = find_project(app_state, project)
    spec = resolve_action(action, project_root=Path(found.root_path))
    loaded = app_state.settings()
    global_values = {
        name: (loaded.get(f"plans.{name}"), _global_source(loaded.source(f"plans.{name}")))
        for name in PROFILE_FIELDS
    }
    return create_plan(
        db, found, spec, overrides=overrides, global_values=global_values, now=utcnow()
    )


def _global_source(source: str) -> str:
    return DEFAULT_SOURCE if source == DEFAULT_SOURCE else f"global ({source})"


def _overrides(
    max_parallel: int | None,
    failure_mode: FailureMode | None,
    timeout: int | None,
    retries: int | None,
    budgets: tuple[float | None, float | None] = (None, None),
) -> dict[str, Any]:
    return {
        "max_parallel": max_parallel,
        "failure_mode": failure_mode.value if failure_mode else None,
        "timeout_s": timeout,
        "retries": retries,
        "max_cost_usd": budgets[0],
        "max_leaf_cost_usd": budgets[1],
    }


@app.command()
def create(
    ctx: typer.Context,
    project: ProjectOption,
    action: ActionOption,
    max_parallel: MaxParallelOption = None,
    failure_mode: FailureModeOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
    max_cost_usd: BudgetOption = None,
    max_leaf_cost_usd: LeafBudgetOption = None,
    json_out: JsonOption = False,
) -> None:
    """Decompose a project's files for an action into a plan; prints the plan's id."""
    budgets = (max_cost_usd, max_leaf_cost_usd)
    overrides = _overrides(max_parallel, failure_mode, timeout, retries, budgets)
    plan, nodes = _create(state(ctx), project, action, overrides)
    if json_out:
        print_json(plan_status_json(plan, nodes))
    else:
        line(plan.id)


@app.command()
def run(
    ctx: typer.Context,
    project: ProjectOption,
    action: ActionOption,
    max_parallel: MaxParallelOption = None,
    failure_mode: FailureModeOption = None,
    timeout: TimeoutOption = None,
    retries: RetriesOption = None,
    max_cost_usd: BudgetOption = None,
    max_leaf_cost_usd: LeafBudgetOption = None,
    run_async: AsyncOption = None,
    wait: WaitOption = False,
    apply: Annotated[
        bool,
        typer.Option("--apply", help="Apply the changes once every subplan has completed."),
    ] = False,
    json_out: EventsJsonOption = False,
) -> None:
    """Create a plan and execute it. Exit 0 if every subplan completed, 1 otherwise.

    With --apply, a plan that executed is then applied to the project, as `agents plan apply`
    does (exit 3 and nothing written on a conflict).
    """
    app_state = state(ctx)
    if apply and (run_async or (run_async is None and app_state.settings().get("async.enabled"))):
        raise InvalidInputError(
            "--apply runs here, after the execution: use it with --no-async "
            "(or apply later with `agents plan apply PLAN --async`)"
        )
    budgets = (max_cost_usd, max_leaf_cost_usd)
    overrides = _overrides(max_parallel, failure_mode, timeout, retries, budgets)
    plan, _nodes = _create(app_state, project, action, overrides)
    if not json_out:
        line(f"plan {plan.id}")
    _execute(ctx, plan.id, run_async, wait, json_out, next_step=not apply)
    if apply:
        plan_changes.apply_now(app_state, plan.id, dry_run=False, json_out=json_out, one_line=True)


@app.command()
def execute(
    ctx: typer.Context,
    plan_id: PlanRef,
    run_async: AsyncOption = None,
    wait: WaitOption = False,
    json_out: EventsJsonOption = False,
    action: RebindOption = None,
    rerun: RerunOption = None,
    max_cost_usd: BudgetOption = None,
) -> None:
    """Execute a plan, or resume one that failed, was cancelled or was interrupted.

    Completed subplans are not run again unless --rerun all says so (it drops their changes;
    applied ones are kept). With --action, the subplans not completed run a fixed action. With
    --async, a worker runs it (`agents worker run`); the job id is printed. Exit 0 if every
    subplan completed, 1 otherwise.
    """
    if action is not None or rerun is not None or max_cost_usd is not None:
        prepare(state(ctx), plan_id, action, rerun, max_cost_usd)
    _execute(ctx, plan_id, run_async, wait, json_out)


def _execute(
    ctx: typer.Context,
    plan_id: str,
    run_async: bool | None,
    wait: bool,
    json_out: bool,
    next_step: bool = True,
) -> None:
    from cleveragents.plans import lifecycle
    from cleveragents.plans.executor import PlanExecutor

    app_state = state(ctx)
    db = app_state.db()
    plans = PlanStore(db)
    plan = plans.get(plan_id)
    if plan.phase in (PlanPhase.EXECUTED, PlanPhase.APPLIED):  # done: say so, exit 0
        _already_done(plan, json_out)
        return
    if run_async is None:
        run_async = bool(app_state.settings().get("async.enabled"))
    lifecycle.refuse_if_queued(db, plan)
    if run_async:
        lifecycle.check_executable(db, plan, utcnow())
        enqueue_phase(app_state, plan, JobPhase.EXECUTE, wait, json_out)
        return
    view = PlanProgressView(plan, plans.subplans(plan_id, leaves_only=True), choose_mode(json_out))
    settings = app_state.settings().settings
    executor = PlanExecutor(
        db,
        plan_lock_ttl_s=settings.locks.plan_ttl,
        sandbox_backend=settings.sandbox.backend,
        log_max_bytes=settings.logs.max_bytes,
    )
    with view, interrupt_to_token() as token:
        report = executor.execute(
            plan_id,
            token=token,
            listeners=[view.handle],
            on_started=lambda started: view.handle(_phase_event(started, PlanPhase.EXECUTING)),
        )
        view.handle(_phase_event(report.plan, report.plan.phase, report.error))
    if view.mode is not ProgressMode.JSON and report.plan.action.get("output") == "show":
        plan_logs.show_output(db, report.plan)
    if next_step and view.mode is not ProgressMode.JSON and report.ok:
        _say_next_step(db, report.plan)
    _finish(view.mode, report, interrupted=token.cancelled)


def _already_done(plan: Plan, json_out: bool) -> None:
    if json_out:
        json_line({"plan_id": plan.id, "phase": plan.phase.value, "already": True})
        return
    if plan.phase is PlanPhase.APPLIED:
        line(f"plan {plan.id} is applied already: its changes are in the project")
        return
    line(
        f"plan {plan.id} is executed already: every subplan completed; review it with "
        f"`agents plan diff {plan.id}`, then `agents plan apply {plan.id}` (or run its "
        f"subplans again: `agents plan execute {plan.id} --rerun all`)"
    )


def _say_next_step(db: Database, plan: Plan) -> None:
    """After a sandboxed run that completed: what it changed, and what to do next."""
    from cleveragents.plans.actions import IN_PLACE
    from cleveragents.store.changes import ChangeStore

    if plan.action.get("isolation") == IN_PLACE:
        return
    summary = ChangeStore(db).summary(plan.id)
    if not summary["paths"]:
        line(f"plan {plan.id}: no file changed")
        return
    kinds = ", ".join(
        f"{kind} {summary[kind]:,}" for kind in ("created", "modified", "deleted") if summary[kind]
    )
    files = f"{summary['paths']:,} file{'s' if summary['paths'] != 1 else ''}"
    line(
        f"{files} changed ({kinds}): review with `agents plan diff {plan.id}`, "
        f"then `agents plan apply {plan.id}`"
    )


def _phase_event(plan: Plan, phase: PlanPhase, error: str | None = None) -> PlanEvent:
    return PlanEvent(
        plan_id=plan.id,
        subplan_id=None,
        at=utcnow(),
        kind=EventKind.PLAN,
        state=phase.value,
        data={"error_message": error} if error else {},
    )


def _finish(mode: ProgressMode, report: PlanRunReport, interrupted: bool) -> None:
    if mode is not ProgressMode.JSON:
        failures = [(f.label, f.message) for f in report.failures]
        summary(report.plan, report.counts, failures)
    if interrupted and report.plan.phase is PlanPhase.CANCELLED:
        raise typer.Exit(INTERRUPTED_EXIT)  # Ctrl-C or SIGTERM, like a shell reports it
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def cancel(ctx: typer.Context, plan_id: PlanRef) -> None:
    """Stop a plan: its running subplans are cancelled (process groups terminated), its job too.

    The plan can be resumed later with `agents plan execute`.
    """
    from cleveragents.plans import lifecycle
    from cleveragents.plans.lifecycle import CancelOutcome

    done = lifecycle.cancel(state(ctx).db(), plan_id, utcnow())
    if done.outcome is CancelOutcome.RUN_GONE:
        line(f"plan {plan_id} cancelled (its run had stopped)")
    elif done.outcome is CancelOutcome.REQUESTED:
        line(f"plan {plan_id}: cancel requested")
    else:
        line(f"plan {plan_id}: its job {done.job_id} was cancelled")


@app.command("list")
def list_(
    ctx: typer.Context,
    project: Annotated[
        str | None, typer.Option("--project", "-p", help="Only this project's plans.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 100,
    json_out: JsonOption = False,
) -> None:
    """Plans, newest first."""
    db = state(ctx).db()
    project_id = find_project(state(ctx), project, register_new=False).id if project else None
    plans = PlanStore(db).find(project_id, limit)
    if json_out:
        print_json([plan_json(plan) for plan in plans])
    else:
        plans_table(plans)


@app.command()
def watch(ctx: typer.Context, plan_id: PlanRef, json_out: EventsJsonOption = False) -> None:
    """Follow a plan run by another process (a worker, another terminal) until it ends.

    Exit 0 if it executed, 1 if it failed or was cancelled.
    """
    from cleveragents.plans import lifecycle
    from cleveragents.plans.lifecycle import Activity

    db = state(ctx).db()
    plans = PlanStore(db)
    plan = plans.get(plan_id)
    lifecycle.check_followable(db, plan, utcnow())
    stale_after = state(ctx).settings().settings.async_.stale_after
    job = lifecycle.unserved_job(db, plan, utcnow(), stale_after)
    if job is not None:
        error(
            f"plan {plan.id}: its job {job.id} is queued and no worker is running; start one "
            "with `agents worker run` (waiting for it)"
        )
    view = PlanProgressView(plan, plans.subplans(plan_id, leaves_only=True), choose_mode(json_out))
    with view:
        plan, ended = lifecycle.follow(db, plan_id, view.handle, utcnow)
    if ended is Activity.RUN_GONE:
        line(
            f"plan {plan.id}: its run ({plan.owner}) is gone; "
            f"resume it with `agents plan execute {plan.id}`"
        )
    counts = plans.counts(plan_id)
    if view.mode is not ProgressMode.JSON:
        failed = [
            (leaf.label, leaf.error_message or "failed")
            for leaf in plans.subplans(plan_id, leaves_only=True)
            if leaf.state.value == "failed"
        ]
        summary(plan, counts, failed)
    if plan.phase is not PlanPhase.EXECUTED:
        raise typer.Exit(1)


app.command()(plan_views.status)
app.command()(plan_views.show)
app.command()(plan_logs.logs)
app.command()(plan_changes.diff)
app.command()(plan_changes.apply)
app.command()(plan_changes.reject)
app.command()(plan_storage.delete)
app.command()(plan_storage.prune)
