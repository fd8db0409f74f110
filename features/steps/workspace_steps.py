"""Steps for whole-project workspaces: overlays, their fallback, and what is recorded."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from behave import given, then
from sandbox_helpers import recorded_contents, snapshot

import cleveragents.diagnostics.checks as checks
import cleveragents.plans.workspaces as workspaces


@given('the action "{name}" for the files "{glob}" running')
def step_action_for(context: Any, name: str, glob: str) -> None:
    script = " ".join(context.text.split("\n"))
    literal = "'''" + script + "'''"  # a TOML literal string: no escapes
    (context.tmp / name).write_text(
        f'[action]\nname = "{Path(name).stem}"\ncommand = ["sh", "-c", {literal}]\n'
        f'include = ["{glob}"]\nisolation = "sandbox"\n',
        encoding="utf-8",
    )
    context.before = snapshot(context.tmp / "repo")


@given('the action "{name}" has isolation "{isolation}"')
def step_isolation(context: Any, name: str, isolation: str) -> None:
    path = context.tmp / name
    text = re.sub(r'(?m)^isolation = ".*"$', f'isolation = "{isolation}"', path.read_text())
    path.write_text(text, encoding="utf-8")


@given('overlays are refused here with "{reason}"')
def step_refused(context: Any, reason: str) -> None:
    saved = (workspaces.overlay_problem, checks.overlay_problem)

    def refused(*_args: Any) -> str:
        return reason

    workspaces.overlay_problem = refused
    checks.overlay_problem = refused

    def restore() -> None:
        workspaces.overlay_problem, checks.overlay_problem = saved

    context.cleanups.append(restore)


@given("overlays are as this machine has them")
def step_machine_overlays(context: Any) -> None:
    """Nothing to change: the real probe runs."""


@given('the setting "{key}" is "{value}"')
def step_setting_env(context: Any, key: str, value: str) -> None:
    section, _, name = key.partition(".")
    context.env[f"AGENTS_{section.upper()}__{name.upper()}"] = value


@then('the plan\'s recorded file "{path}" holds "{text}"')
def step_recorded_file(context: Any, path: str, text: str) -> None:
    got = recorded_contents(context)[path]
    wanted = text.encode().decode("unicode_escape").encode()
    assert got == wanted, got


@then('the project "{project}" has no file "{path}"')
def step_no_file(context: Any, project: str, path: str) -> None:
    assert not (context.tmp / project / path).exists(), path


@given('the project\'s file "{path}" has a hard link "{link}" outside the project')
def step_hard_link(context: Any, path: str, link: str) -> None:
    os.link(context.tmp / "repo" / path, context.tmp / link)


@given(
    'a sandboxed action "{name}" that edits "{path}" and then the project\'s copy through "{link}"'
)
def step_racing_action(context: Any, name: str, path: str, link: str) -> None:
    # The hard link lies outside the overlay, so writing through it edits the project's file
    # itself while the leaf runs, as another process would.
    script = f"printf 'ONE\\n' > {path}; printf 'edited meanwhile\\n' > {context.tmp / link}"
    (context.tmp / name).write_text(
        f'[action]\ncommand = ["sh", "-c", "{script}"]\nscope = "project"\n', encoding="utf-8"
    )
