"""Steps for prompts: prompt files next to action files."""

from __future__ import annotations

import json
from typing import Any

from behave import given, then


@given('the prompt file "{name}" holding')
def step_prompt_file(context: Any, name: str) -> None:
    (context.tmp / name).write_text(context.text + "\n", encoding="utf-8")


@then('the JSON document has "{field}" ending with "{end}"')
def step_json_ends(context: Any, field: str, end: str) -> None:
    value = json.loads(context.result.stdout)[field]
    assert isinstance(value, str) and value.endswith(end), value
