"""Steps naming ids by their prefixes (features/id_refs.feature)."""

from __future__ import annotations

import json
from typing import Any

from behave import given
from cli_steps import fill, newest_plan_id, run_cli
from plan_helpers import plan_store


def _name(context: Any, name: str, value: str) -> None:
    context.ids = {**getattr(context, "ids", {}), name: value}


@given('"{name}" is the first {n:d} characters of [{label}]')
def step(context: Any, name: str, n: int, label: str) -> None:
    _name(context, name, fill(context, f"[{label}]")[:n])


@given('"{name}" is the first {n:d} characters of [{label}] in lower case')
def step(context: Any, name: str, n: int, label: str) -> None:
    _name(context, name, fill(context, f"[{label}]")[:n].lower())


@given('I ran `{command}` and call the first two jobs "{a}" and "{b}"')
def step(context: Any, command: str, a: str, b: str) -> None:
    result = run_cli(context, command)
    assert result.exit_code == 0, result.stderr
    ids = json.loads(result.stdout)["ids"]
    _name(context, a, ids[0])
    _name(context, b, ids[1])


@given('"{name}" is the longest prefix [{a}] and [{b}] share')
def step(context: Any, name: str, a: str, b: str) -> None:
    first, second = fill(context, f"[{a}]"), fill(context, f"[{b}]")
    shared = next(
        (first[:i] for i in range(len(first)) if first[: i + 1] != second[: i + 1]), first
    )
    assert len(shared) >= 6, f"the two ids share only {shared!r}"
    _name(context, name, shared)


@given('"{name}" is the first {n:d} characters of the id of the newest plan\'s first leaf')
def step(context: Any, name: str, n: int) -> None:
    leaves = plan_store(context).subplans(newest_plan_id(context), leaves_only=True)
    _name(context, name, leaves[0].id[:n])
