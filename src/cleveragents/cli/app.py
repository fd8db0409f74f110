"""The root `agents` command, its global options, and the one error boundary."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer import _click as click  # typer vendors click since 0.29
from typer._click.exceptions import ClickException
from typer._click.shell_completion import CompletionItem
from typer.core import TyperCommand, TyperGroup

from cleveragents import __version__
from cleveragents.cli import commands, completion
from cleveragents.cli.logs import configure_logging
from cleveragents.cli.output import error
from cleveragents.cli.state import AppState
from cleveragents.domain.environ import CONFIG_ENV
from cleveragents.errors import AgentsError


class LogFormat(StrEnum):
    """How log lines are written to stderr."""

    TEXT = "text"
    JSON = "json"


class AgentsGroup(TyperGroup):
    """The root group: loads a command's module when the command is used (see commands.py),
    and maps every AgentsError to its exit code and one line on stderr (traceback with --debug).
    """

    _listing = False  # while help or a completion lists the commands: their names and help only

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(commands.COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in commands.COMMANDS:
            return None
        if self._listing and cmd_name not in self.commands:
            return TyperCommand(name=cmd_name, help=commands.help_of(cmd_name))
        if cmd_name not in self.commands:
            self.commands[cmd_name] = commands.load(cmd_name)
        return self.commands[cmd_name]

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with self._only_listing():
            super().format_help(ctx, formatter)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        with self._only_listing():
            return super().shell_complete(ctx, incomplete)

    @contextmanager
    def _only_listing(self) -> Iterator[None]:
        self._listing = True
        try:
            yield
        finally:
            self._listing = False

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Usage errors, like every other error, are one line on stderr (exit 2)."""
        kwargs["standalone_mode"] = False
        if completion.COMPLETE_VAR in os.environ:
            completion.answer_request()
        commands.polish_help(self)  # the root's own options (the commands get it as they load)
        if args:
            kwargs["args"], args = args[0], args[1:]
        given = kwargs.get("args")
        kwargs["args"] = completion.default_shell(list(sys.argv[1:] if given is None else given))
        try:
            result = super().main(*args, **kwargs)
        except AgentsError as exc:  # from a root option's callback, before any command runs
            error(f"error: {exc.message}")
            sys.exit(exc.exit_code)
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
                import traceback

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
    add_completion=False,  # ours take the shell's name (cli/completion.py)
    context_settings={"help_option_names": ["-h", "--help"]},
)


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
    show_completion: Annotated[
        str | None,
        completion.shell_option(
            "--show-completion", "Print the completion script", completion.show_completion
        ),
    ] = None,
    install_completion: Annotated[
        str | None,
        completion.shell_option(
            "--install-completion", "Install completion", completion.install_completion
        ),
    ] = None,
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
    commands.start_process()
    try:
        app()
    finally:
        commands.end_process()
