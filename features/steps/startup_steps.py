"""Steps about what `agents` loads: the root's command table, and the modules a real process
imports (read from ``python -X importtime``, which names every module as it is imported)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from typing import Any

from behave import then, when
from cli_steps import fill, run_cli

from cleveragents.cli.commands import COMMANDS

_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", re.MULTILINE)


@then("every top-level command is listed with the first line of its own help")
def step(context: Any) -> None:
    listing = context.result.stdout
    for name, entry in COMMANDS.items():
        assert re.search(rf"│ {re.escape(name)} +{re.escape(entry.help[:40])}", listing), (
            f"{name!r} is not listed with {entry.help!r}:\n{listing}"
        )
        own = run_cli(context, f"{name} --help").stdout
        words = " ".join(own.replace("│", " ").split())
        assert " ".join(entry.help.split()) in words, f"`{name} --help` does not say {entry.help!r}"


@when("I run the agents process `{command}` recording what it imports")
def step(context: Any, command: str) -> None:
    env = {**os.environ, **context.env, "PYTHONPATH": os.pathsep.join(sys.path)}
    context.process = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "cleveragents",
            *shlex.split(fill(context, command)),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    context.imported = set(_IMPORTED.findall(context.process.stderr))


@then("the process exited {code:d}")
def step(context: Any, code: int) -> None:
    assert context.process.returncode == code, (
        context.process.returncode,
        context.process.stderr[-2000:],
    )


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


@then("it imported all of {names}")
def step(context: Any, names: str) -> None:
    missing = [name for name in _names(names) if name not in context.imported]
    assert not missing, f"not imported: {missing}"


@then("it imported none of {names}")
def step(context: Any, names: str) -> None:
    loaded = [name for name in _names(names) if name in context.imported]
    assert not loaded, f"imported, though not needed: {loaded}"
