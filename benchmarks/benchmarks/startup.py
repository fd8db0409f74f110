"""The cost of an ``agents`` command as a user pays it: a real process, started and run to its
exit, on an SQLite database at head holding one executed plan.

- ``agents --version`` and ``agents --help``: the root alone (no command module, no database);
- ``agents jobs enqueue noop`` and ``agents plan status PLAN``: the hot commands (SQLAlchemy,
  the settings, one short transaction);
- the floors, measured in the same run: ``python -c pass`` (this interpreter started and ended)
  and the libraries those commands cannot do without (typer with the pydantic adapters it
  converts parameters with, and SQLAlchemy) imported by a bare process the way ``agents`` loads
  them (no cyclic collection while loading, see cli/commands.py).

Nothing here asserts a figure; ``benchmarks/compare_startup.py`` prints them side by side.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ._processes import PYCACHE, agents_argv, worker_env

Cache = dict[str, Any]
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sample-project"
LIBRARY_FLOOR = (
    "import gc; gc.disable(); import typer.main, typer._adapters, sqlalchemy; gc.freeze()"
)
COMMANDS: dict[str, tuple[str, ...]] = {
    "version": ("--version",),
    "help": ("--help",),
    "jobs_enqueue": ("jobs", "enqueue", "noop"),
    "plan_status": ("plan", "status", "{plan}"),
}


def _agents(db: Path, *args: str) -> str:
    done = subprocess.run(
        agents_argv(*args), env=worker_env(db), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"agents {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done.stdout.strip()


def make_state(directory: Path) -> Cache:
    """A database at head with the sample project registered and one executed plan."""
    db = directory / "agents.db"
    _agents(db, "project", "add", str(SAMPLE), "--name", "sample")
    plan = _agents(db, "plan", "create", "--project", "sample", "--action", "builtin:count-lines")
    _agents(db, "plan", "execute", plan)
    return {"db": str(db), "plan": plan}


def command_argv(name: str, state: Cache) -> list[str]:
    """The argv of the measured command ``name`` (one of :data:`COMMANDS`)."""
    return agents_argv(*(arg.format(plan=state["plan"]) for arg in COMMANDS[name]))


def run_command(name: str, state: Cache) -> None:
    """Run the measured command ``name`` to its exit; raise if it fails."""
    subprocess.run(
        command_argv(name, state),
        env=worker_env(Path(state["db"])),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )


def run_floor(code: str) -> None:
    """``python -c CODE`` with the bytecode cache the ``agents`` processes use."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(PYCACHE)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


class Startup:
    """Commands run to their exit, one process per sample."""

    number = 1
    repeat = (5, 20, 20.0)
    warmup_time = 0.0
    timeout = 120.0

    def setup_cache(self) -> Cache:
        state = make_state(Path(tempfile.mkdtemp(prefix="agents-startup-")))
        for name in COMMANDS:  # fills the bytecode cache for every path measured
            run_command(name, state)
        run_floor(LIBRARY_FLOOR)
        return state

    def time_version(self, state: Cache) -> None:
        """``agents --version``."""
        run_command("version", state)

    def time_help(self, state: Cache) -> None:
        """``agents --help``."""
        run_command("help", state)

    def time_jobs_enqueue(self, state: Cache) -> None:
        """``agents jobs enqueue noop`` (one job added per sample)."""
        run_command("jobs_enqueue", state)

    def time_plan_status(self, state: Cache) -> None:
        """``agents plan status PLAN`` of an executed plan of the sample project."""
        run_command("plan_status", state)

    def time_python_floor(self, state: Cache) -> None:
        """The floor: ``python -c pass``."""
        run_floor("pass")

    def time_library_floor(self, state: Cache) -> None:
        """typer (with its pydantic adapters) and SQLAlchemy imported, as ``agents`` loads them."""
        run_floor(LIBRARY_FLOOR)
