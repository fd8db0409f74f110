"""What the plan commands share: turning Ctrl-C into a stop token, and handing a plan phase to a
worker as a job (``plan.execute``, ``plan.apply``), optionally waiting for it."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from cleveragents.cli.output import line, print_json
from cleveragents.cli.state import AppState
from cleveragents.domain.clock import utcnow
from cleveragents.domain.jobs import JobPhase, JobStatus
from cleveragents.domain.plans import Plan, Rerun
from cleveragents.runtime.tokens import CancellationToken, CancelReason
from cleveragents.store.plans import PlanStore
from cleveragents.store.projects import ProjectStore

INTERRUPTED_EXIT = 130  # Ctrl-C or SIGTERM, as a shell reports it


@contextmanager
def interrupt_to_token() -> Iterator[CancellationToken]:
    """Ctrl-C (SIGINT) and SIGTERM stop the work cleanly through the token; the plan is left
    resumable. A second signal is not caught again (the default handler ends us)."""
    token = CancellationToken()
    if threading.current_thread() is not threading.main_thread():
        yield token
        return

    def on_signal(signum: int, _frame: Any) -> None:
        token.cancel(CancelReason.CANCELLED)
        signal.signal(signum, signal.SIG_DFL)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield token
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def enqueue_phase(
    app_state: AppState, plan: Plan, phase: JobPhase, wait: bool, json_out: bool
) -> None:
    """Queue the job that runs ``phase`` of ``plan`` (attempts from ``async.max_attempts``);
    print its id, or wait for it (exit 1 if it did not succeed)."""
    db = app_state.db()
    attempts = app_state.settings().settings.async_.max_attempts
    from cleveragents.plans import lifecycle

    job = lifecycle.enqueue_phase(db, plan, phase, max_attempts=attempts, now=utcnow())
    if not wait:
        if json_out:
            print_json({"plan_id": plan.id, "job_id": job.id})
        else:
            line(job.id)
        return
    finished = lifecycle.wait_for_job(db, job.id)
    if json_out:
        print_json(finished.to_json())
    else:
        line(
            f"plan {plan.id}: job {finished.id} {finished.status.value}"
            + (f": {finished.error_message}" if finished.error_message else "")
        )
    if finished.status is not JobStatus.SUCCEEDED:
        raise typer.Exit(1)


RebindOption = Annotated[
    str | None,
    typer.Option(
        "--action",
        "-a",
        help="First bind the plan to this action (fixed after a failed run) for every subplan "
        "not completed; same include, exclude and decompose.",
        show_default=False,
    ),
]


RerunOption = Annotated[
    Rerun | None,
    typer.Option(
        "--rerun",
        help="failed: run the failed and cancelled subplans again (what a resume does); all: "
        "every subplan not applied, completed ones included (their changes are dropped).",
        show_default=False,
    ),
]


def prepare(
    app_state: AppState,
    plan_id: str,
    ref: str | None,
    rerun: Rerun | None,
    budget: float | None = None,
) -> None:
    """Before an execution: give the plan a new ``budget``, re-run what ``rerun`` says, then
    bind the plan to the action ``ref`` names for its subplans not completed; say what was
    done. A bad action changes nothing."""
    from cleveragents.plans import lifecycle
    from cleveragents.plans.action_files import resolve_action

    db = app_state.db()
    plan = PlanStore(db).get(plan_id)
    spec = None
    if ref is not None:
        root = Path(ProjectStore(db).get(plan.project_id).root_path)
        spec = resolve_action(ref, project_root=root)
        lifecycle.check_rebindable(plan, spec)
    if budget is not None:
        plan = lifecycle.set_budget(db, plan, budget, utcnow())
        line(f"plan {plan.id}: budget ${budget:g}")
    if rerun is not None:
        reset = lifecycle.rerun(db, plan, rerun.value, utcnow())
        if reset:
            line(f"plan {plan.id}: {reset} completed subplan(s) will run again")
        plan = PlanStore(db).get(plan_id)
    if spec is not None:
        lifecycle.rebind_action(db, plan, spec, utcnow())
        line(f"plan {plan.id}: action {spec.name} ({spec.source}) for the subplans not completed")
