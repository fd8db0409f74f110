"""Steps that ask `agents` for completions as the bash script does (COMP_WORDS, COMP_CWORD and
_AGENTS_COMPLETE=complete_bash in the environment)."""

from __future__ import annotations

from typing import Any

from behave import then, when
from cli_steps import fill
from typer.testing import CliRunner

from cleveragents.cli.app import app


@when("bash asks to complete `{words}`")
def step(context: Any, words: str) -> None:
    typed = fill(context, words)
    parts = typed.split(" ")
    env = {
        **context.env,
        **getattr(context, "extra_env", {}),
        "COMP_WORDS": typed,
        "COMP_CWORD": str(len(parts) - 1),
        "_AGENTS_COMPLETE": "complete_bash",
    }
    context.result = CliRunner().invoke(app, [], env=env, prog_name="agents")


@then('the completions are "{expected}"')
def step(context: Any, expected: str) -> None:
    got = context.result.stdout.split()
    wanted = fill(context, expected).split()
    assert got == wanted, (got, wanted, context.result.stderr)


@then("stderr is empty")
def step(context: Any) -> None:
    assert context.result.stderr == "", context.result.stderr


@then("there are no completions")
def step(context: Any) -> None:
    assert context.result.stdout.split() == [], context.result.stdout
