"""Steps that hold the docs to the code: the settings table of docs/configuration.md."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from behave import then, when

from cleveragents.settings import all_keys

DOCS = Path(__file__).resolve().parents[2] / "docs"
_KEY = re.compile(r"`([a-z_]+(?:\.[a-z_]+)?)`")


@when("I read the settings table of docs/configuration.md")
def step(context: Any) -> None:
    rows = [
        row for row in (DOCS / "configuration.md").read_text().splitlines() if row.startswith("| `")
    ]
    assert rows, "no table rows in docs/configuration.md"
    # the first cell of each row names one key or several (`plans.a`, `plans.b`, ...)
    context.documented = {key for row in rows for key in _KEY.findall(row.split("|")[1])}


@then("it names every key of `agents config show`")
def step(context: Any) -> None:
    missing = sorted(set(all_keys()) - context.documented)
    assert not missing, f"settings missing from docs/configuration.md: {missing}"


@then("every key it names is a setting")
def step(context: Any) -> None:
    unknown = sorted(context.documented - set(all_keys()))
    assert not unknown, f"docs/configuration.md names settings that do not exist: {unknown}"
