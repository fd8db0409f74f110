"""What an ``agents`` command costs to start, beside its floors, measured in one sitting.

Each command of ``benchmarks/benchmarks/startup.py`` (``--version``, ``--help``, ``jobs enqueue
noop``, ``plan status PLAN``) runs as a real process to its exit, interleaved with the floors
(``python -c pass``; typer, its pydantic adapters and SQLAlchemy imported by a bare process), in
rounds (``--runs``, default 15) so that the machine's drift spreads over all of them. Prints a
Markdown table: median and minimum wall time in milliseconds, and the issue's goal where it
has one (nothing is asserted).

    python benchmarks/compare_startup.py            # from the repository root
    python benchmarks/compare_startup.py --runs 30
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmarks.startup import (
    COMMANDS,
    LIBRARY_FLOOR,
    make_state,
    run_command,
    run_floor,
)

GOALS_MS = {"version": 150, "help": 150, "jobs_enqueue": 300, "plan_status": 300}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="rounds (one sample each)")
    args = parser.parse_args()
    state = make_state(Path(tempfile.mkdtemp(prefix="agents-startup-")))
    measured: dict[str, Callable[[], None]] = {
        "python -c pass": lambda: run_floor("pass"),
        "libraries (typer + pydantic adapters + SQLAlchemy)": lambda: run_floor(LIBRARY_FLOOR),
    }
    for name in COMMANDS:
        measured[name] = lambda name=name: run_command(name, state)  # type: ignore[misc]
    for run in measured.values():  # warm: the bytecode cache and the page cache
        run()
    samples: dict[str, list[float]] = {name: [] for name in measured}
    for _ in range(args.runs):
        for name, run in measured.items():
            started = time.perf_counter()
            run()
            samples[name].append((time.perf_counter() - started) * 1000)
    print("| what | median ms | min ms | goal ms |")
    print("|---|---:|---:|---:|")
    for name, values in samples.items():
        label = name if " " in name else f"agents {' '.join(COMMANDS[name])}"
        goal = GOALS_MS.get(name)
        print(
            f"| {label} | {statistics.median(values):.0f} | {min(values):.0f} | "
            f"{goal if goal else ''} |"
        )


if __name__ == "__main__":
    main()
