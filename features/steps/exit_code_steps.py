"""Steps for an action's exit-code policy, with real tools from the test environment."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from behave import given, then
from plan_helpers import leaves
from sandbox_helpers import snapshot


def _tool(name: str) -> str:
    """The console script ``name`` installed beside this interpreter."""
    path = Path(sys.executable).with_name(name)
    assert path.exists(), f"{name} is not installed in the test environment ({path})"
    return str(path)


@given('the action file "{name}" running the installed tool "{tool}" with "{args}"')
def step_tool_action(context: Any, name: str, tool: str, args: str, extra: str = "") -> None:
    argv = [_tool(tool), *args.split()]
    command = ", ".join(f'"{part}"' for part in argv)
    (context.tmp / name).write_text(
        f'[action]\ncommand = [{command}]\ninclude = ["**/*.py"]\n{extra}', encoding="utf-8"
    )


@given(
    'the action file "{name}" running the installed tool "{tool}" with "{args}" and '
    "success_exit_codes = {codes}"
)
def step_tool_action_codes(context: Any, name: str, tool: str, args: str, codes: str) -> None:
    step_tool_action(context, name, tool, args, f"success_exit_codes = {codes}\n")


@given('a copy "{copy}" of the project "{project}" on which "{command}" was run')
def step_direct_copy(context: Any, copy: str, project: str, command: str) -> None:
    target = context.tmp / copy
    shutil.copytree(context.tmp / project, target)
    tool, *args = command.split()
    subprocess.run([_tool(tool), *args], cwd=target, capture_output=True, check=False)


@then('the project "{project}" is byte for byte the copy "{copy}"')
def step_same_as_copy(context: Any, project: str, copy: str) -> None:
    assert snapshot(context.tmp / project) == snapshot(context.tmp / copy)


@then("the plan's only leaf exited {code:d}")
def step_leaf_exit(context: Any, code: int) -> None:
    (leaf,) = leaves(context)
    assert leaf.state.value == "completed" and leaf.exit_code == code, leaf
