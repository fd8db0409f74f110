"""Steps reading the leaves `agents plan status` lists in text."""

from __future__ import annotations

from typing import Any

from behave import then


@then('the first leaf listed by plan status is "{state}" with a label containing "{text}"')
def step(context: Any, state: str, text: str) -> None:
    lines = context.result.stdout.splitlines()
    assert "subplans:" in lines, context.result.stdout
    first = lines[lines.index("subplans:") + 1].split()
    assert first[0] == state and text in first[1], (first, context.result.stdout)
