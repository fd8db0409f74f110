"""The options the plan commands share (`plan create`, `run`, `execute`, `watch`)."""

from __future__ import annotations

from typing import Annotated

import typer

from cleveragents.cli.completion import action_names, project_names
from cleveragents.domain.profile import PROFILE_FIELDS, FailureMode

ProjectOption = Annotated[
    str,
    typer.Option(
        "--project",
        "-p",
        help="The project: its name or id, or a directory (registered on first use).",
        show_default=False,
        autocompletion=project_names,
    ),
]
ActionOption = Annotated[
    str,
    typer.Option(
        "--action",
        "-a",
        help="An action file, builtin:NAME, or a name in the project's .agents/actions/.",
        show_default=False,
        autocompletion=action_names,
    ),
]
MaxParallelOption = Annotated[
    int | None,
    typer.Option(
        "--max-parallel",
        help=f"Leaf subplans running at once ({PROFILE_FIELDS['max_parallel'].allowed}).",
        show_default=False,
    ),
]
FailureModeOption = Annotated[
    FailureMode | None,
    typer.Option("--failure-mode", help="fail_fast or continue_on_error.", show_default=False),
]
TimeoutOption = Annotated[
    int | None,
    typer.Option("--timeout", help="Seconds one subplan may run.", show_default=False),
]
RetriesOption = Annotated[
    int | None,
    typer.Option("--retries", help="Extra attempts for a failed subplan.", show_default=False),
]
BudgetOption = Annotated[
    float | None,
    typer.Option(
        "--max-cost-usd",
        help="Budget of the plan in USD: once its leaves report costing that much, no other "
        "leaf starts (with execute: a new budget to resume with).",
        min=0,
        show_default=False,
    ),
]
LeafBudgetOption = Annotated[
    float | None,
    typer.Option(
        "--max-leaf-cost-usd",
        help="Budget of one leaf in USD: a leaf costing more fails (its changes kept for review).",
        min=0,
        show_default=False,
    ),
]
AsyncOption = Annotated[
    bool | None,
    typer.Option(
        "--async/--no-async",
        help="Run in a worker (default: the async.enabled setting).",
        show_default=False,
    ),
]
WaitOption = Annotated[
    bool, typer.Option("--wait", help="With --async: wait for the worker to finish it.")
]
EventsJsonOption = Annotated[
    bool, typer.Option("--json", help="Print progress events as JSON Lines.")
]
