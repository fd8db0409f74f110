"""Steps for the subplan dispatcher under a gate (its cap, its failures) and for deadlines."""

from __future__ import annotations

import threading
from typing import Any

from behave import given, then, when
from helpers import DEADLINE_S, wait_until
from plan_helpers import plan_store

from cleveragents.domain.clock import utcnow
from cleveragents.domain.ids import new_id, new_ids
from cleveragents.domain.plans import Plan, Subplan, SubplanState
from cleveragents.domain.profile import FailureMode, resolve_profile
from cleveragents.errors import AgentsError
from cleveragents.plans.dispatcher import ParallelSubplanDispatcher
from cleveragents.plans.leaf_result import LeafResult
from cleveragents.plans.tracker import SubplanTracker
from cleveragents.runtime.deadlines import Deadlines
from cleveragents.runtime.tokens import CancellationToken
from cleveragents.store.projects import ProjectStore


@given('a plan of project "{project}" with {count:d} leaves at a gate, {cap:d} at a time')
def step_gated_plan(context: Any, project: str, count: int, cap: int) -> None:
    store = plan_store(context)
    found = ProjectStore(store.db).get(project)
    plan_id = new_id()
    leaves = [
        Subplan(
            id=leaf_id,
            plan_id=plan_id,
            parent_id=None,
            depth=0,
            position=n,
            label=f"leaf{n}",
            is_leaf=True,
            files=[f"d{n}/f0.txt"],
            file_count=1,
        )
        for n, leaf_id in enumerate(new_ids(count))
    ]
    plan = Plan(
        id=plan_id,
        project_id=found.id,
        action_name="gate",
        action={"name": "gate", "builtin": "noop"},
        profile=resolve_profile([("plan", {"max_parallel": cap})]),
        created_at=utcnow(),
    )
    store.create(plan, leaves)
    context.gate = threading.Event()
    context.cleanups.append(context.gate.set)
    context.updates = []
    tracker = SubplanTracker(plan_id, leaves, context.updates.append)

    def held(leaf: Any, token: CancellationToken) -> LeafResult:
        assert context.gate.wait(DEADLINE_S), "the gate never opened"
        return LeafResult(exit_code=0)

    context.dispatcher = ParallelSubplanDispatcher(
        tracker, held, max_parallel=cap, failure_mode=FailureMode.FAIL_FAST
    )
    context.tracker = tracker
    context.leaves = leaves


@when("the dispatcher runs them")
def step_dispatch(context: Any) -> None:
    context.dispatch_result = {}

    def go() -> None:
        context.dispatch_result["report"] = context.dispatcher.run(context.leaves)

    context.dispatch_thread = threading.Thread(target=go, daemon=True)
    context.dispatch_thread.start()


@then("{inside:d} leaves are inside the action at once and {pending:d} are pending")
def step_inside(context: Any, inside: int, pending: int) -> None:
    gauge = context.dispatcher.gauge
    wait_until(lambda: gauge.current == inside, f"{inside} leaves inside the action")
    counts = context.tracker.counts()
    assert (counts.running, counts.pending) == (inside, pending), counts
    assert gauge.current == inside and gauge.peak == inside, (gauge.current, gauge.peak)


@when("the gate opens")
def step_gate_opens(context: Any) -> None:
    context.gate.set()


@then("the dispatch ends with {completed:d} completed and a peak of exactly {peak:d}")
def step_dispatch_end(context: Any, completed: int, peak: int) -> None:
    context.dispatch_thread.join(DEADLINE_S)
    report = context.dispatch_result["report"]
    assert report.completed == completed and report.peak_running == peak, report
    assert context.tracker.counts().completed == completed
    states = [u.state for u in context.updates]
    assert states.count(SubplanState.RUNNING) == completed, states


@given('the leaf function raises for "{label}"')
def step_leaf_raises(context: Any, label: str) -> None:
    held = context.dispatcher.run_leaf

    def run_leaf(leaf: Any, token: CancellationToken) -> LeafResult:
        if leaf.label == label:
            raise RuntimeError("the action's own bug")
        result: LeafResult = held(leaf, token)
        return result

    context.dispatcher.run_leaf = run_leaf


@when("the dispatcher runs them to the end")
def step_dispatch_sync(context: Any) -> None:
    try:
        context.dispatcher.run(context.leaves)
    except AgentsError as exc:
        context.dispatch_error = exc
    else:
        context.dispatch_error = None


@then('the dispatch failed with "{text}"')
def step_dispatch_failed(context: Any, text: str) -> None:
    assert context.dispatch_error is not None and text in context.dispatch_error.message


@given("the tracker breaks on the first completion")
def step_tracker_breaks(context: Any) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("bookkeeping broke")

    context.tracker.finish = broken


@then("the dispatcher raised and no leaf is left inside the action")
def step_dispatch_raised(context: Any) -> None:
    context.dispatch_thread.join(DEADLINE_S)
    assert not context.dispatch_thread.is_alive()
    assert "report" not in context.dispatch_result
    assert context.dispatcher.gauge.current == 0


@when("{count:d} deadlines are set an hour ahead and cancelled, and one is due at once")
def step_deadlines(context: Any, count: int) -> None:
    deadlines = Deadlines()
    context.cleanups.append(deadlines.close)
    context.fired = []
    for n in range(count):
        deadlines.call_later(3600, lambda n=n: context.fired.append(n)).cancel()
    context.due = threading.Event()
    deadlines.call_later(0, context.due.set)


@then("only the due one fires")
def step_deadline_fired(context: Any) -> None:
    assert context.due.wait(DEADLINE_S), "the due deadline never fired"
    assert context.fired == []
