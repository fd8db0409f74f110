"""What the shell completes besides commands and options: plan and job ids (newest first, with
what they are), project names and action names.

Typer answers a completion request (`_AGENTS_COMPLETE=complete_bash agents ...`, set by the
script `agents --show-completion` prints) by parsing the words typed so far without running
any callback, so the root's state does not exist yet: the database is opened here from the
`--db` / `--config` typed, if any, else as every command opens it. A completion never prints an
error: whatever goes wrong (no database yet, a bad config file), it completes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from cleveragents.cli.state import AppState

RECENT = 30  # ids offered, newest first
COMPLETE_VAR = "_AGENTS_COMPLETE"  # set by the completion script when the shell asks

Completions = list[tuple[str, str]]


@contextmanager
def _state(ctx: typer.Context) -> Iterator[AppState]:
    params = ctx.find_root().params
    config = params.get("config")
    state = AppState(db_url=params.get("db"), config_file=Path(config) if config else None)
    try:
        yield state
    finally:
        state.close()


def _quietly(complete: Callable[[typer.Context, str], Completions]) -> Callable[..., Completions]:
    def wrapper(ctx: typer.Context, incomplete: str) -> Completions:
        try:
            return complete(ctx, incomplete)
        except Exception:  # a completion must never break the shell: nothing to offer then
            return []

    return wrapper


@_quietly
def plan_ids(ctx: typer.Context, incomplete: str) -> Completions:
    """Recent plans whose id starts with what was typed (any case), with their phase."""
    from cleveragents.store.plans import PlanStore

    with _state(ctx) as state:
        plans = PlanStore(state.db()).find(None, RECENT)
    wanted = incomplete.upper()
    return [
        (plan.id, f"{plan.phase.value} {plan.action.get('name', '')}".strip())
        for plan in plans
        if plan.id.startswith(wanted)
    ]


@_quietly
def job_ids(ctx: typer.Context, incomplete: str) -> Completions:
    """Recent jobs whose id starts with what was typed, with their kind and status."""
    from cleveragents.store.jobs import JobStore

    with _state(ctx) as state:
        jobs = JobStore(state.db()).find(None, None, RECENT)
    wanted = incomplete.upper()
    return [(job.id, f"{job.kind} {job.status.value}") for job in jobs if job.id.startswith(wanted)]


@_quietly
def project_names(ctx: typer.Context, incomplete: str) -> Completions:
    """Registered projects by name, with their directory."""
    from cleveragents.store.projects import ProjectStore

    with _state(ctx) as state:
        projects = ProjectStore(state.db()).find()
    return [(p.name, p.root_path) for p in projects if p.name.startswith(incomplete)]


@_quietly
def action_names(ctx: typer.Context, incomplete: str) -> Completions:
    """The built-in actions, and the actions of the project named by ``--project`` if given."""
    from cleveragents.plans.action_files import list_actions
    from cleveragents.store.projects import ProjectStore

    root: Path | None = None
    project: Any = ctx.params.get("project")
    if project:
        with _state(ctx) as state:
            root = Path(ProjectStore(state.db()).get(project).root_path)
    entries = list_actions(root)
    return [
        (entry.name, entry.description or entry.source)
        for entry in entries
        if entry.name.startswith(incomplete)
    ]


SHELLS = ("bash", "zsh", "fish")


def _shell(value: str) -> str:
    """The shell named, or the one this command runs in (exit 2 when neither is known)."""
    from typer._completion_shared import _get_shell_name

    from cleveragents.errors import InvalidInputError

    shell = value or _get_shell_name() or ""
    if shell not in SHELLS:
        said = f"shell {shell!r}" if shell else "the current shell (it could not be detected)"
        raise InvalidInputError(f"no completion for {said}: name one of {', '.join(SHELLS)}")
    return shell


def shell_option(flag: str, what: str, callback: Callable[..., None]) -> Any:
    """A root option taking an optional shell name, acted on before any command."""
    return typer.Option(
        flag,
        help=f"{what} for bash, zsh or fish (default: this shell).",
        metavar="[SHELL]",
        callback=callback,
        expose_value=False,
        is_eager=True,
    )


def default_shell(argv: list[str]) -> list[str]:
    """``argv`` with an empty shell name after a bare ``--show-completion`` or
    ``--install-completion`` among the root's options (the option then takes this shell), as
    typer's own flags do. Nothing after the command's name is touched."""
    from cleveragents.cli.commands import COMMANDS

    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg in COMMANDS or arg == "--":
            return out + argv[i:]
        out.append(arg)
        bare = i + 1 == len(argv) or argv[i + 1].startswith("-")
        if arg in ("--show-completion", "--install-completion") and bare:
            out.append("")
    return out


def show_completion(ctx: typer.Context, value: str | None) -> None:
    """``--show-completion [SHELL]``: print the completion script of SHELL (default: the
    current one), to source it or keep it."""
    if value is None or ctx.resilient_parsing:
        return
    from typer._completion_shared import get_completion_script

    from cleveragents.cli.output import line

    line(get_completion_script(prog_name="agents", complete_var=COMPLETE_VAR, shell=_shell(value)))
    raise typer.Exit()


def install_completion(ctx: typer.Context, value: str | None) -> None:
    """``--install-completion [SHELL]``: install the completion script for SHELL (default: the
    current one) where that shell reads it, and say where."""
    if value is None or ctx.resilient_parsing:
        return
    from typer._completion_shared import install

    from cleveragents.cli.output import line

    shell, path = install(shell=_shell(value), prog_name="agents", complete_var=COMPLETE_VAR)
    line(f"{shell} completion installed in {path}; it takes effect in a new shell")
    raise typer.Exit()


def answer_request() -> None:
    """When the shell asks for completions (``$_AGENTS_COMPLETE`` set by the script), let
    typer's completion classes answer it: bash, zsh and fish each ask in their own way."""
    from typer._completion_classes import completion_init

    completion_init()
