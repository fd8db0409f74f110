"""The top-level commands, loaded only when used.

Importing every command module (and, through them, SQLAlchemy, pydantic and the plan machinery)
costs half a second; `agents --version` and `agents --help` need none of it, and `agents jobs
enqueue` needs only the jobs module. So the root group knows its commands by this table (name,
module, one line of help) and imports a module the first time its command is resolved. The
modules take their own help line from here, so the root's listing and each command's `--help`
cannot disagree.

Nothing heavy may be imported here: this module is on the path of every command.

The `agents` process also keeps Python's cyclic garbage collector out of its start-up (see
:func:`start_process`): importing SQLAlchemy, pydantic and typer allocates a few hundred thousand
objects that all live until the process ends, and collecting over them while they load, and
once more when the process exits, costs about 50 ms of a 250 ms command.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Entry:
    """A top-level command: the module holding its typer ``app`` and its one line of help."""

    module: str
    help: str


# In the order `agents --help` lists them.
COMMANDS: dict[str, Entry] = {
    "project": Entry("projects", "Projects: the directories plans run over."),
    "action": Entry("actions", "Actions: what a plan runs on each subplan."),
    "plan": Entry("plans", "Plans: an action applied to a project, in parallel."),
    "locks": Entry("locks", "Plan and project locks."),
    "diagnostics": Entry(
        "diagnostics", "Check the database, schema, workers, queue, stuck jobs, locks and plans."
    ),
    "jobs": Entry("jobs", "Background jobs in the async_jobs table."),
    "worker": Entry("workers", "Worker processes that run background jobs."),
    "schedule": Entry("schedules", "Jobs enqueued on a cron expression or an interval."),
    "config": Entry("config", "Settings: defaults < config file < environment < flags."),
    "db": Entry("db", "The database schema."),
}


_in_process = False  # set by start_process(): this is the `agents` process, not a test runner


def start_process() -> None:
    """Called once by the console script before anything is parsed: no cyclic collection until
    the command's module has loaded (then what loaded is frozen out of every later collection,
    as the interpreter's own start-up objects are, and collection resumes for the command's
    work). Not for an embedding process (a test runner): it keeps collecting as it did."""
    global _in_process
    _in_process = True
    gc.disable()


def end_process() -> None:
    """Called by the console script as it exits. When no command ran (help, the version, a usage
    error) nothing was made but the loaded modules: they are frozen too, so the interpreter's
    last collection at exit has nothing to walk. After a command, collection stays as it was:
    whatever the command left behind is finalized as usual."""
    if _in_process and not gc.isenabled():
        gc.freeze()


def help_of(name: str) -> str:
    """The help line of the top-level command ``name`` (its module's typer app uses it)."""
    return COMMANDS[name].help


def load(name: str) -> Any:
    """The click command of ``name``, built from its module's typer ``app``: a group of several
    commands builds each of them only when it is used (typer would read every signature of the
    group first: 10 ms for `agents plan`)."""
    from typer.main import get_command, get_command_name

    # __import__ rather than importlib.import_module: `python -X importtime` then lists the
    # command's module like any other (import_module goes around the timing)
    module = __import__(f"cleveragents.cli.{COMMANDS[name].module}", fromlist=["app"])
    app = module.app
    if len(app.registered_commands) > 1 and not app.registered_groups:
        infos = {
            info.name or get_command_name(info.callback.__name__): info
            for info in app.registered_commands
        }
        command = _lazy_group_class()(name=name, help=help_of(name), no_args_is_help=True)
        command.infos = infos
        command.epilogs = getattr(module, "HELP_EPILOGS", {})
    else:
        command = get_command(app)
    command.name = name
    polish_help(command)
    if _in_process:
        gc.freeze()
        gc.enable()
    return command


def polish_help(command: Any) -> None:
    """How `--help` shows ``command`` and every command under it: each paragraph of a
    docstring flows as one (markdown: a line break in the source is not one on the screen), a
    flag shows no ``<bool>`` (nor a counted flag ``<int>``), and an argument shows as its name in
    capitals (``PLAN_ID``), as in click's own usage lines."""
    from typer.core import TyperArgument, TyperOption

    if getattr(command, "_polished", False):
        return
    command._polished = True
    command.rich_markup_mode = "markdown"
    for param in command.params:
        if isinstance(param, TyperOption) and (param.is_flag or param.count):
            setattr(param, "display_type_rich", _no_type)  # noqa: B010 - this option's own
        elif isinstance(param, TyperArgument) and param.metavar is None and param.name:
            param.metavar = param.name.upper()
    make_help_option = command.get_help_option  # click makes --help anew for each use

    def get_help_option(ctx: Any) -> Any:
        option = make_help_option(ctx)
        if option is not None:
            setattr(option, "display_type_rich", _no_type)  # noqa: B010 - this option's own
            source = getattr(command, "epilog_source", None)
            if source is not None:  # text known only when help is shown (installed kinds)
                show = option.callback

                def callback(ctx: Any, param: Any, value: Any) -> Any:
                    if value and not ctx.resilient_parsing:
                        command.epilog = source()
                    return show(ctx, param, value)

                option.callback = callback
        return option

    setattr(command, "get_help_option", get_help_option)  # noqa: B010 - an instance's own
    for sub in getattr(command, "commands", {}).values():
        polish_help(sub)


def _no_type(ctx: Any) -> None:
    """The type column of a flag: empty."""
    return None


def _lazy_group_class() -> Any:
    """:class:`LazyGroup`, defined on first use (typer's classes are imported lazily here)."""
    from typer.core import TyperGroup
    from typer.main import get_command_from_info

    class LazyGroup(TyperGroup):
        """A group whose commands are built from their typer definitions (``infos``) when
        first used."""

        infos: dict[str, Any]
        epilogs: dict[str, Any]  # command -> a function giving its help's last paragraph

        def list_commands(self, ctx: Any) -> list[str]:
            return list(self.infos)

        def get_command(self, ctx: Any, cmd_name: str) -> Any:
            if cmd_name not in self.commands:
                info = self.infos.get(cmd_name)
                if info is None:
                    return None
                built = get_command_from_info(
                    info, pretty_exceptions_short=True, rich_markup_mode="markdown"
                )
                setattr(built, "epilog_source", self.epilogs.get(cmd_name))  # noqa: B010
                polish_help(built)
                self.commands[cmd_name] = built
            return self.commands[cmd_name]

    return LazyGroup
