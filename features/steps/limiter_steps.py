"""Steps for the adaptive concurrency of rate-limited plans (plans/limiter.py)."""

from __future__ import annotations

import json
from typing import Any

from behave import given, then, when
from plan_helpers import plan_store

from cleveragents.plans.limiter import AdaptiveLimit


@given("an adaptive limit of {n:d}")
def step_limit(context: Any, n: int) -> None:
    context.limiter = AdaptiveLimit(n)


@when("{n:d} attempts start and the first {k:d} of them are rate-limited")
def step_some_limited(context: Any, n: int, k: int) -> None:
    orders = [context.limiter.started() for _ in range(n)]
    for order in orders[:k]:
        context.limiter.rate_limited(order)


@when("{n:d} attempts start and both are rate-limited")
def step_both_limited(context: Any, n: int) -> None:
    step_some_limited(context, n, n)


@when("{n:d} attempts start and all succeed")
def step_all_succeed(context: Any, n: int) -> None:
    for _ in range(n):
        context.limiter.started()
        context.limiter.succeeded()


@when("{n:d} attempts start and each is rate-limited after the last decrease")
def step_each_limited(context: Any, n: int) -> None:
    for _ in range(n):
        context.limiter.rate_limited(context.limiter.started())


@then("the limit is {n:d}")
def step_limit_is(context: Any, n: int) -> None:
    assert context.limiter.limit == n, context.limiter.limit


@given('the project "{name}" holds {n:d} files in {n_dirs:d} directories')
def step_project_many(context: Any, name: str, n: int, n_dirs: int) -> None:
    for k in range(n):
        folder = context.tmp / name / f"d{k % n_dirs:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{k:02d}.py").write_text(f"x = {k}\n", encoding="utf-8")


@then("the plan's concurrency is lower than {n:d}")
def step_concurrency_lower(context: Any, n: int) -> None:
    document = json.loads(context.result.stdout)
    assert document["concurrency"] is not None and document["concurrency"] < n, document


@then("the plan's events show the concurrency halved from {n:d} at the first rate limit")
def step_halved(context: Any, n: int) -> None:
    store = plan_store(context)
    plan_id = store.find(limit=1)[0].id
    seen = [e.data["concurrency"] for e in store.events(plan_id) if "concurrency" in e.data]
    assert seen and seen[0] == n // 2, seen
    assert all(1 <= value <= n for value in seen), seen
