"""`agents project`: register the directories plans run over."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cleveragents.cli.commands import help_of
from cleveragents.cli.output import line, print_json
from cleveragents.cli.project_refs import directory_of, register
from cleveragents.cli.render import key_values, projects_table
from cleveragents.cli.state import JsonOption, state
from cleveragents.store.projects import ProjectStore

app = typer.Typer(help=help_of("project"), no_args_is_help=True)

ProjectRef = Annotated[str, typer.Argument(help="The project's name (or id).", show_default=False)]


@app.command()
def add(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The project's directory.", show_default=False)],
    name: Annotated[
        str | None,
        typer.Option("--name", help="Its name (default: the directory name).", show_default=False),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Register a directory as a project (nothing in it is changed)."""
    project = register(state(ctx), directory_of(path), name)
    if json_out:
        print_json(project.to_json())
    else:
        line(f"added project {project.name} ({project.root_path})")


@app.command("list")
def list_(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Every registered project."""
    projects = ProjectStore(state(ctx).db()).find()
    if json_out:
        print_json([project.to_json() for project in projects])
    else:
        projects_table(projects)


@app.command()
def show(ctx: typer.Context, project: ProjectRef, json_out: JsonOption = False) -> None:
    """One project."""
    found = ProjectStore(state(ctx).db()).get(project)
    if json_out:
        print_json(found.to_json())
    else:
        key_values((k, str(v)) for k, v in found.to_json().items())


@app.command()
def remove(
    ctx: typer.Context,
    project: ProjectRef,
    force: Annotated[
        bool, typer.Option("--force", help="Also delete the project's plans, if it has any.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Forget a project. Its directory and files are left as they are.

    A project that has plans is kept unless --force is given (its plans are deleted too).
    """
    removed, plan_count = ProjectStore(state(ctx).db()).remove(project, force=force)
    if json_out:
        print_json({**removed.to_json(), "plans_removed": plan_count})
    else:
        also = f" and its {plan_count} plan(s)" if plan_count else ""
        line(f"removed project {removed.name}{also} (its files are untouched)")
