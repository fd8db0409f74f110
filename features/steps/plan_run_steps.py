"""Steps for plans executing in the background, workers for plans, the journal and leftover
commands."""

from __future__ import annotations

import os
import threading
from typing import Any

from behave import given, then, when
from cli_steps import run_cli
from helpers import DEADLINE_S, make_worker, wait_until
from plan_helpers import leaves, plan_store, start_background_execution, the_plan_id

from cleveragents.domain.clock import utcnow
from cleveragents.domain.plans import PlanPhase, SubplanState
from cleveragents.errors import AgentsError
from cleveragents.plans.journal import PlanJournal
from cleveragents.store.plans import SubplanUpdate
from cleveragents.worker.builtin_kinds import default_registry


@when("the plan executes in the background")
def step_background(context: Any) -> None:
    start_background_execution(context)


@when("its leaves are running")
def step_leaves_running(context: Any) -> None:
    store = plan_store(context)
    plan_id = the_plan_id(context)
    wait_until(lambda: store.counts(plan_id).running > 0, "leaves running")


@then('the background execution ends with the plan "{phase}"')
def step_background_end(context: Any, phase: str) -> None:
    context.background_thread.join(DEADLINE_S)
    report = context.background["report"]
    assert report.plan.phase is PlanPhase(phase), report
    counts = report.counts
    assert counts.running == 0 and counts.cancelled > 0, counts


@when("a worker runs the queued jobs")
def step_worker_runs(context: Any) -> None:
    context.registry = default_registry()
    context.clock = utcnow
    context.gates = getattr(context, "gates", {})
    context.workers = getattr(context, "workers", {})
    worker = make_worker(context, "burst")
    worker.run(burst=True)


@given("a worker for plans runs in the background")
def step_plans_worker(context: Any) -> None:
    context.registry = default_registry()
    context.clock = utcnow
    context.gates = {}
    context.workers = {}
    worker = make_worker(context, "plans", poll_interval=0.05)
    thread = threading.Thread(target=worker.run, name="plans-worker", daemon=True)
    thread.start()
    context.plans_worker_thread = thread
    # Stop it through its own loop (which shuts it down) before anything else is cleaned up.
    context.cleanups.append(lambda: (worker.stop(), thread.join(DEADLINE_S)))
    wait_until(lambda: worker._started, "the worker to start")


@when("the worker for plans shuts down")
def step_plans_worker_stops(context: Any) -> None:
    worker = context.workers["plans"]
    worker.stop()
    context.plans_worker_thread.join(DEADLINE_S)
    assert not context.plans_worker_thread.is_alive()


@given('a journal for a plan of project "{project}"')
def step_journal(context: Any, project: str) -> None:
    result = run_cli(context, f"plan create --project {project} --action builtin:noop")
    assert result.exit_code == 0, result.stderr
    context.stop_asked = threading.Event()
    context.journal = PlanJournal(
        plan_store(context), result.stdout.strip(), on_error=context.stop_asked.set
    )


@when("the journal is given a transition")
def step_journal_submit(context: Any) -> None:
    leaf = leaves(context)[0]
    now = utcnow()
    context.journal.submit(SubplanUpdate(leaf.id, SubplanState.RUNNING, now, 1, {}, started_at=now))


@then('closing the journal fails with "{text}"')
def step_journal_close(context: Any, text: str) -> None:
    try:
        context.journal.close()
    except AgentsError as exc:
        assert text in exc.message, exc.message
    else:
        raise AssertionError("closing the journal did not fail")


@then("the journal asked the run to stop")
def step_journal_stop(context: Any) -> None:
    assert context.stop_asked.is_set()


@given("a command of that plan is still running")
def step_orphan(context: Any) -> None:
    import subprocess

    env = {**os.environ, "AGENTS_PLAN_ID": the_plan_id(context)}
    orphan = subprocess.Popen(["sleep", "60"], env=env, start_new_session=True)
    context.orphan = orphan
    context.cleanups.append(lambda: (orphan.kill(), orphan.wait()))


@then("the command of that plan is gone")
def step_orphan_gone(context: Any) -> None:
    wait_until(lambda: context.orphan.poll() is not None, "the leftover command to end")


@given('a journal of run "{old}" for a plan of project "{project}" that run "{new}" took over')
def step_journal_lost(context: Any, old: str, project: str, new: str) -> None:
    result = run_cli(context, f"plan create --project {project} --action builtin:noop")
    assert result.exit_code == 0, result.stderr
    plan_id = result.stdout.strip()
    store = plan_store(context)
    store.begin_execution(plan_id, new, utcnow(), discard_changes_of=SubplanState.FAILED)
    context.stop_asked = threading.Event()
    context.journal = PlanJournal(store, plan_id, on_error=context.stop_asked.set, owner=old)
    context.journal_plan = plan_id


@then("no progress of the journal was written")
def step_journal_wrote_nothing(context: Any) -> None:
    store = plan_store(context)
    states = {leaf.state for leaf in store.subplans(context.journal_plan, leaves_only=True)}
    assert states == {SubplanState.PENDING}, states
    assert context.journal.written == 0
