"""Steps reading the leaves `agents plan status` lists in text."""

from __future__ import annotations

from typing import Any

from behave import then, when


@then('the first leaf listed by plan status is "{state}" with a label containing "{text}"')
def step(context: Any, state: str, text: str) -> None:
    lines = context.result.stdout.splitlines()
    assert "subplans:" in lines, context.result.stdout
    first = lines[lines.index("subplans:") + 1].split()
    assert first[0] == state and text in first[1], (first, context.result.stdout)


def _unserved(context: Any) -> object:
    from plan_helpers import plan_store, the_plan_id

    from cleveragents.domain.clock import utcnow
    from cleveragents.plans.lifecycle import unserved_job

    store = plan_store(context)
    return unserved_job(store.db, store.get(the_plan_id(context)), utcnow(), stale_after=60)


@then("the plan's job is unserved")
def step(context: Any) -> None:
    assert _unserved(context) is not None


@when("a worker registers and heartbeats")
def step(context: Any) -> None:
    from plan_helpers import plan_store

    from cleveragents.domain.clock import utcnow
    from cleveragents.store.workers import WorkerStore

    WorkerStore(plan_store(context).db).register("host:1:test", "host", 1, 1, utcnow())


@then("the plan's job is served")
def step(context: Any) -> None:
    assert _unserved(context) is None
