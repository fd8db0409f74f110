"""Plan execution against the bare floor and GNU parallel, measured in the same sitting.

Each round runs, one after the other (the order rotates every round, so drift and other load hit
every side alike):

- agents: a plan of 1,000 leaves each running ``true``, ``max_parallel = 8``, executed by
  ``PlanExecutor.execute`` on a fresh copy of a stored plan (every transition journalled: the
  subplan rows and their ``plan_events``), timed from ``execute()`` to its return;
- the floor: ``ThreadPoolExecutor(8)`` calling ``subprocess.run(["true"])`` 1,000 times;
- GNU parallel (if installed): ``parallel --will-cite -j 8 true ::: $(seq 1000)``.

Then, once per round as well: the in-process overhead (1,000 ``builtin:noop`` leaves at
``max_parallel = 32``, subplans/s) and the peak RSS of a child process that executes a stored plan
of 10,000 ``builtin:noop`` leaves (and of one that creates it first, as ``agents plan run`` does),
its ``VmHWM`` from /proc (not ``ru_maxrss``, which on Linux keeps the parent's size at fork).

Before each round the script waits (up to ``--max-wait`` s) for the machine to be idle; during
it, it measures the CPU time processes other than this one and its children used, and prints the
worst share. Prints the medians over the rounds and the two ratios the issue asks for
(agents / floor, GNU parallel / agents); ``--out`` writes every value as JSON.

    python benchmarks/compare_parallel.py                 # from the repository root
    python benchmarks/compare_parallel.py --runs 5 --out /tmp/parallel.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmarks import _plans
from benchmarks._machine import add_quiet_options, log, measured, wait_quiet, write_json

GOALS = {
    "inprocess_rate": 1000.0,  # subplans/s, at least
    "ratio_to_floor": 2.0,  # agents / floor, at most
    "big_plan_mb": 200.0,  # MiB, under
}


def one_round(
    rnd: int,
    external: _plans.PlanFixture,
    inprocess: _plans.PlanFixture,
    big: _plans.PlanFixture,
    gnu: bool,
) -> dict[str, float]:
    """One value of every figure."""
    sides: list[tuple[str, Callable[[], float]]] = [
        ("agents_s", lambda: _plans.run_plan(external).seconds),
        ("floor_s", lambda: _plans.threadpool_true()),
    ]
    if gnu:
        sides.append(("gnu_parallel_s", lambda: _plans.gnu_parallel_true()))
    shift = rnd % len(sides)
    values: dict[str, float] = {}
    for key, run in sides[shift:] + sides[:shift]:
        values[key] = run()
    values["inprocess_rate"] = _plans.run_plan(inprocess).rate
    executed = _plans.plan_peak_rss(big)
    created = _plans.plan_peak_rss(big, create=True)
    values["big_plan_mb"] = executed.peak_mb
    values["big_plan_s"] = executed.seconds
    values["big_plan_baseline_mb"] = executed.baseline_mb
    values["big_plan_create_mb"] = created.peak_mb
    values["big_plan_create_s"] = created.seconds
    gnu_text = f", GNU parallel {values['gnu_parallel_s']:.3f} s" if gnu else ""
    log(
        f"  agents {values['agents_s']:.3f} s, floor {values['floor_s']:.3f} s{gnu_text}; "
        f"in-process {values['inprocess_rate']:,.0f} subplans/s; 10,000-leaf plan "
        f"{executed.peak_mb:.1f} MiB ({executed.seconds:.2f} s; {executed.baseline_mb:.1f} MiB "
        f"after imports), created + executed {created.peak_mb:.1f} MiB ({created.seconds:.2f} s)"
    )
    return values


def table(
    med: dict[str, float], values: dict[str, list[float]], gnu: bool
) -> list[tuple[str, str, str]]:
    """Rows: figure, median, goal."""
    ratio = med["agents_s"] / med["floor_s"]
    per_round = statistics.median(
        ours / floor for ours, floor in zip(values["agents_s"], values["floor_s"], strict=True)
    )
    rows = [
        (
            "agents: 1,000 leaves running `true`, max_parallel 8, every transition stored",
            f"{med['agents_s']:.3f} s",
            "",
        ),
        (
            "floor: ThreadPoolExecutor(8), 1,000 x subprocess.run(['true'])",
            f"{med['floor_s']:.3f} s",
            "",
        ),
        ("agents / floor", f"{ratio:.2f}x", f"<= {GOALS['ratio_to_floor']:g}x"),
        ("agents / floor, median of the rounds' own ratios", f"{per_round:.2f}x", ""),
    ]
    if gnu:
        rows += [
            ("GNU parallel -j 8 true ::: $(seq 1000)", f"{med['gnu_parallel_s']:.3f} s", ""),
            (
                "GNU parallel / agents (above 1: agents faster)",
                f"{med['gnu_parallel_s'] / med['agents_s']:.2f}x",
                "",
            ),
        ]
    rows += [
        (
            "in-process: 1,000 builtin:noop leaves, max_parallel 32",
            f"{med['inprocess_rate']:,.0f} subplans/s",
            f">= {GOALS['inprocess_rate']:,.0f} /s",
        ),
        (
            "peak RSS, child process executing a stored 10,000-leaf plan",
            f"{med['big_plan_mb']:.1f} MiB",
            f"< {GOALS['big_plan_mb']:g} MB",
        ),
        (
            "  of which the child's peak after its imports, before the plan",
            f"{med['big_plan_baseline_mb']:.1f} MiB",
            "",
        ),
        (
            "peak RSS, child process creating then executing it",
            f"{med['big_plan_create_mb']:.1f} MiB",
            "",
        ),
        ("10,000-leaf plan, execute() in that child", f"{med['big_plan_s']:.2f} s", ""),
    ]
    return rows


def render(rows: list[tuple[str, str, str]]) -> str:
    """A Markdown table."""
    lines = ["| figure (medians) | value | goal |", "|---|---:|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, build the fixtures, run the rounds, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds (every side once per round)")
    add_quiet_options(parser, max_wait=120.0, retries=False)
    args = parser.parse_args()

    gnu = _plans.gnu_parallel_available()
    if not gnu:
        log("GNU parallel is not installed (Debian package parallel): left out")
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    values: dict[str, list[float]] = defaultdict(list)
    foreign: list[float] = []
    with tempfile.TemporaryDirectory(prefix="agents-compare-parallel-") as tmp:
        log("building the fixture plans")
        external = _plans.build_plan(
            Path(tmp) / "external",
            _plans.PLAN_LEAVES,
            max_parallel=_plans.EXTERNAL_PARALLEL,
            command=list(_plans.TRUE_ARGV),
        )
        inprocess = _plans.build_plan(
            Path(tmp) / "inprocess",
            _plans.PLAN_LEAVES,
            max_parallel=_plans.INPROCESS_PARALLEL,
            builtin="noop",
        )
        big = _plans.build_plan(
            Path(tmp) / "big",
            _plans.BIG_PLAN_LEAVES,
            max_parallel=_plans.INPROCESS_PARALLEL,
            builtin="noop",
        )
        _plans.run_plan(external)  # warm-up: imports, caches, the page cache
        _plans.threadpool_true()
        for rnd in range(args.runs):
            log(f"round {rnd + 1}/{args.runs}")
            wait_quiet(args.max_wait, args.max_foreign)
            mine, load = measured(lambda r=rnd: one_round(r, external, inprocess, big, gnu))
            foreign.append(load)
            for key, value in mine.items():
                values[key].append(value)
    finished = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    med = {key: statistics.median(vals) for key, vals in values.items()}
    rows = table(med, values, gnu)
    print(
        f"\nSame sitting, {started} .. {finished}, {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}; {args.runs} rounds, sides alternating; medians over the "
        f"rounds. Other processes used at most {max(foreign):.1%} of the machine during a "
        f"round.\n"
    )
    print(render(rows))
    write_json(
        args.out,
        {
            "started": started,
            "finished": finished,
            "args": vars(args),
            "values": values,
            "medians": med,
            "foreign_load": foreign,
            "table": rows,
        },
    )


if __name__ == "__main__":
    main()
