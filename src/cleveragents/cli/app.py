"""The root `agents` command, its global options, and the one error boundary."""

from __future__ import annotations

import sys
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click.exceptions import ClickException  # typer vendors click since 0.29
from typer.core import TyperGroup

from cleveragents import __version__
from cleveragents.cli import actions as actions_cmd
from cleveragents.cli import config as config_cmd
from cleveragents.cli import db as db_cmd
from cleveragents.cli import diagnostics as diagnostics_cmd
from cleveragents.cli import jobs as jobs_cmd
from cleveragents.cli import locks as locks_cmd
from cleveragents.cli import plans as plans_cmd
from cleveragents.cli import projects as projects_cmd
from cleveragents.cli import workers as workers_cmd
from cleveragents.cli.logs import configure_logging
from cleveragents.cli.render import error
from cleveragents.cli.state import AppState
from cleveragents.errors import AgentsError
from cleveragents.settings import CONFIG_ENV


class LogFormat(StrEnum):
    """How log lines are written to stderr."""

    TEXT = "text"
    JSON = "json"


class AgentsGroup(TyperGroup):
    """Maps every AgentsError to its exit code and one line on stderr (traceback with --debug)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Usage errors, like every other error, are one line on stderr (exit 2)."""
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except ClickException as exc:
            where = exc.ctx.command_path if getattr(exc, "ctx", None) else "agents"  # type: ignore[attr-defined]
            if exc.format_message():  # empty when the help was shown for a bare group
                error(f"error: {exc.format_message()} (see '{where} --help')")
            sys.exit(exc.exit_code)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        """Run the command; turn expected errors into one line and an exit code."""
        try:
            return super().invoke(ctx)
        except AgentsError as exc:
            state = ctx.obj if isinstance(ctx.obj, AppState) else None
            if state is not None and state.debug:
                error(traceback.format_exc().rstrip())
            error(f"error: {exc.message}")
            raise typer.Exit(exc.exit_code) from None
        finally:
            if isinstance(ctx.obj, AppState):
                ctx.obj.close()


app = typer.Typer(
    cls=AgentsGroup,
    name="agents",
    help="Run automation over whole codebases safely and in parallel, on a durable job queue.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(projects_cmd.app, name="project")
app.add_typer(actions_cmd.app, name="action")
app.add_typer(plans_cmd.app, name="plan")
app.add_typer(locks_cmd.app, name="locks")
app.command("diagnostics")(diagnostics_cmd.diagnostics)
app.add_typer(jobs_cmd.app, name="jobs")
app.add_typer(workers_cmd.app, name="worker")
app.add_typer(config_cmd.app, name="config")
app.add_typer(db_cmd.app, name="db")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"agents {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL (default: AGENTS_DATABASE_URL, the config file, or "
            "$XDG_DATA_HOME/agents/agents.db).",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="Config file (default: $AGENTS_CONFIG or $XDG_CONFIG_HOME/agents/config.toml).",
            envvar=CONFIG_ENV,
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log output (per-job lines).")
    ] = 0,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    log_format: Annotated[
        LogFormat,
        typer.Option("--log-format", help="Log lines on stderr as text or JSON lines."),
    ] = LogFormat.TEXT,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """agents: plans, subplans and a durable background job queue.

    The database is created and migrated on first use. Exit codes: 0 success, 1 the operation
    ran and failed, 2 bad usage or input, 3 conflict, 4 not found.
    """
    ctx.obj = AppState(db_url=db, config_file=config, debug=debug, verbose=verbose)
    configure_logging(verbose, json_lines=log_format == LogFormat.JSON)


def main() -> None:
    """Console-script entry point."""
    app()
