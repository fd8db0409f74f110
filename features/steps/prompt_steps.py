"""Steps for prompts: prompt files next to action files."""

from __future__ import annotations

from typing import Any

from behave import given


@given('the prompt file "{name}" holding')
def step_prompt_file(context: Any, name: str) -> None:
    (context.tmp / name).write_text(context.text + "\n", encoding="utf-8")
