"""`agents action`: the built-in actions and a project's own action files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from cleveragents.cli.commands import help_of
from cleveragents.cli.completion import action_names, project_names
from cleveragents.cli.output import line, print_json
from cleveragents.cli.project_refs import find_project
from cleveragents.cli.render import key_values
from cleveragents.cli.state import JsonOption, state
from cleveragents.plans.action_files import list_actions, resolve_action
from cleveragents.plans.actions import ActionSpec

app = typer.Typer(help=help_of("action"), no_args_is_help=True)

ProjectOption = Annotated[
    str | None,
    typer.Option(
        "--project",
        "-p",
        help="A project (name, id or directory): its .agents/actions/ besides the built-ins.",
        show_default=False,
        autocompletion=project_names,
    ),
]
ActionRef = Annotated[
    str,
    typer.Argument(
        help="builtin:NAME, a path to an action file, or NAME in the project's .agents/actions/.",
        show_default=False,
        autocompletion=action_names,
    ),
]


def _project_root(ctx: typer.Context, project: str | None) -> Path | None:
    if project is None:
        return None  # no database needed for the built-ins and explicit paths
    return Path(find_project(state(ctx), project).root_path)


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _detail(spec: ActionSpec) -> list[tuple[str, str]]:
    doc = spec.snapshot()
    pairs = [
        (key, _shown(doc[key]))
        for key in ("name", "description", "source", "command", "builtin", "params")
        if key not in ("builtin", "params") or doc["builtin"] is not None
    ]
    pairs += [
        (key, _shown(doc[key])) for key in ("include", "exclude", "isolation", "scope", "timeout_s")
    ]
    if doc["command"] is not None:
        pairs.append(("files_separator", doc["files_separator"]))
    pairs += [(f"decompose.{key}", _shown(value)) for key, value in doc["decompose"].items()]
    if doc["profile"]:
        pairs += [(f"profile.{key}", _shown(value)) for key, value in doc["profile"].items()]
    else:
        pairs.append(("profile", "- (the plan's flags, then [plans] settings, then defaults)"))
    return pairs


@app.command("list")
def list_(ctx: typer.Context, project: ProjectOption = None, json_out: JsonOption = False) -> None:
    """The built-in actions, then the project's action files (broken ones with their error)."""
    entries = list_actions(_project_root(ctx, project))
    if json_out:
        print_json([entry.to_json() for entry in entries])
        return
    width = max(len(entry.name) for entry in entries)
    for entry in entries:
        about = f"error: {entry.error}" if entry.error else entry.description
        where = "" if entry.source == "builtin" else f"  ({entry.source})"
        line(f"{entry.name.ljust(width)}  {about}{where}")


@app.command()
def show(
    ctx: typer.Context,
    action: ActionRef,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """One action, field by field, as a plan would use it."""
    spec = resolve_action(action, project_root=_project_root(ctx, project))
    if json_out:
        print_json(spec.snapshot())
    else:
        key_values(_detail(spec))
