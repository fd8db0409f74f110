"""What the plan commands share: turning Ctrl-C into a stop token, and handing a plan phase to a
worker as a job (``plan.execute``, ``plan.apply``), optionally waiting for it."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer

from cleveragents.cli.render import line, print_json
from cleveragents.cli.state import AppState
from cleveragents.domain.clock import utcnow
from cleveragents.domain.jobs import JobPhase, JobStatus
from cleveragents.domain.plans import Plan
from cleveragents.errors import ConflictError
from cleveragents.runtime.tokens import CancellationToken, CancelReason
from cleveragents.store.jobs import JobStore
from cleveragents.store.plans import PlanStore
from cleveragents.worker.queue import JobQueue

INTERRUPTED_EXIT = 130  # Ctrl-C or SIGTERM, as a shell reports it
JOB_KINDS = {JobPhase.EXECUTE: "plan.execute", JobPhase.APPLY: "plan.apply"}


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


def refuse_if_queued(db: Any, plan: Plan) -> None:
    """A plan whose job is queued or running is the worker's to work on."""
    if plan.job_id:
        job = JobStore(db).get(plan.job_id)
        if not job.status.is_terminal:
            raise ConflictError(
                f"plan {plan.id} already has job {job.id} ({job.status.value}); "
                f"follow it with `agents plan watch {plan.id}` or stop it with "
                f"`agents plan cancel {plan.id}`"
            )


def enqueue_phase(
    app_state: AppState, plan: Plan, phase: JobPhase, wait: bool, json_out: bool
) -> None:
    """Queue the job that runs ``phase`` of ``plan``; print its id, or wait for it (exit 1 if it
    did not succeed)."""
    db = app_state.db()
    jobs = JobStore(db)
    queue = JobQueue(db)
    new_job = queue.build(JOB_KINDS[phase], {"plan_id": plan.id}, max_attempts=3).model_copy(
        update={"plan_id": plan.id, "phase": phase}
    )
    job = jobs.enqueue(new_job, utcnow())
    PlanStore(db).set_job(plan.id, job.id)
    if not wait:
        if json_out:
            print_json({"plan_id": plan.id, "job_id": job.id})
        else:
            line(job.id)
        return
    finished = queue.wait(job.id)
    if json_out:
        print_json(finished.to_json())
    else:
        line(
            f"plan {plan.id}: job {finished.id} {finished.status.value}"
            + (f": {finished.error_message}" if finished.error_message else "")
        )
    if finished.status is not JobStatus.SUCCEEDED:
        raise typer.Exit(1)
