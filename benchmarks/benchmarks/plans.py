"""Plan execution: in-process overhead, external commands against their floor and GNU parallel,
and the memory of a 10,000-subplan plan (issue 3, "Speed (asv)").

Every plan is a project of N empty files and an action whose ``flat`` decomposition (one file per
subplan) makes exactly N leaves; ``setup_cache`` builds it once, and each timed call executes a
fresh copy of that database with ``PlanExecutor.execute`` (which journals every transition: the
subplan rows and their ``plan_events``). Goals, from the issue:

- 1,000 ``builtin:noop`` leaves at ``max_parallel = 32``: at least 1,000 subplans/s.
- 1,000 leaves running ``true`` at ``max_parallel = 8``: within 2x of ``ThreadPoolExecutor(8)``
  calling ``subprocess.run(["true"])`` 1,000 times (the bare floor), and so several times faster
  than ``parallel -j 8 true ::: $(seq 1000)`` (GNU parallel, skipped when not installed). The
  ``track_*_ratio`` benchmarks time the sides alternately in one call, as the issue asks; the
  standalone ``benchmarks/compare_parallel.py`` does the same over several rounds.
- A plan of 10,000 subplans executes in under 200 MB (asv's peakmem: the whole benchmark
  process's peak RSS, imports included).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from cleveragents.plans.executor import PlanExecutor

from ._db import open_db
from ._plans import (
    BIG_PLAN_LEAVES,
    EXTERNAL_PARALLEL,
    INPROCESS_PARALLEL,
    PLAN_LEAVES,
    TRUE_ARGV,
    PlanFixture,
    build_plan,
    check_plan_run,
    copy_plan_db,
    gnu_parallel_available,
    gnu_parallel_true,
    run_plan,
    threadpool_true,
)
from ._support import temp_dir

Cache = dict[str, Any]


class _PlanBench:
    """Shared set-up: each call executes a fresh copy of the ``setup_cache`` plan."""

    number = 1  # execute() changes the plan: setup (a fresh copy) before every call
    repeat = (3, 10, 20.0)
    warmup_time = 0.0
    timeout = 180.0

    def setup(self, cache: Cache) -> None:
        self.fixture = PlanFixture(**cache)
        self._tmp = temp_dir("agents-bench-plan-")
        self.db = open_db(copy_plan_db(self.fixture, self._tmp.__enter__()))
        self.executor = PlanExecutor(self.db)

    def teardown(self, cache: Cache) -> None:
        self.db.dispose()
        self._tmp.__exit__(None, None, None)

    def _execute(self) -> None:
        check_plan_run(self.executor.execute(self.fixture.plan_id), self.fixture)


class InProcess(_PlanBench):
    """1,000 ``builtin:noop`` leaves, ``max_parallel = 32`` (goal: >= 1,000 subplans/s)."""

    def setup_cache(self) -> Cache:
        fixture = build_plan(
            Path("inprocess").resolve(),
            PLAN_LEAVES,
            max_parallel=INPROCESS_PARALLEL,
            builtin="noop",
        )
        return fixture.as_dict()

    def time_inprocess_1000_noop_subplans(self, cache: Cache) -> None:
        """execute(): begin, 1,000 leaves run, every transition stored, plan finished."""
        self._execute()

    def track_inprocess_noop_subplans_per_s(self, cache: Cache) -> float:
        """Subplans/s of execute(), the median of 3 runs (each on a fresh copy)."""
        return statistics.median(run_plan(self.fixture).rate for _ in range(3))

    track_inprocess_noop_subplans_per_s.unit = "subplans/s"  # type: ignore[attr-defined]


class External(_PlanBench):
    """1,000 leaves each running ``true``, ``max_parallel = 8`` (goal: within 2x the floor)."""

    def setup_cache(self) -> Cache:
        fixture = build_plan(
            Path("external").resolve(),
            PLAN_LEAVES,
            max_parallel=EXTERNAL_PARALLEL,
            command=list(TRUE_ARGV),
        )
        return fixture.as_dict()

    def time_external_true_1000_subplans_max_parallel_8(self, cache: Cache) -> None:
        """execute(): 1,000 `true` processes, 8 at once, every transition stored."""
        self._execute()

    def track_external_ratio_to_floor(self, cache: Cache) -> float:
        """agents / floor: the two timed back to back (floor first), lower is better."""
        floor = threadpool_true(PLAN_LEAVES, EXTERNAL_PARALLEL)
        ours = run_plan(self.fixture).seconds
        return ours / floor

    track_external_ratio_to_floor.unit = "x"  # type: ignore[attr-defined]


class Floor:
    """The floor: ``ThreadPoolExecutor(8)`` calling ``subprocess.run(["true"])`` 1,000 times."""

    number = 1
    repeat = (3, 10, 20.0)
    warmup_time = 0.0
    timeout = 120.0

    def time_threadpool_floor_true_1000(self) -> None:
        """Pool start -> 1,000 `true` processes exited."""
        threadpool_true(PLAN_LEAVES, EXTERNAL_PARALLEL)


class GnuParallelRatio:
    """The External plan against GNU parallel, back to back; skipped (in setup, as asv expects)
    when GNU parallel is not installed."""

    number = 1
    repeat = 1
    warmup_time = 0.0
    timeout = 180.0

    def setup(self) -> None:
        if not gnu_parallel_available():
            raise NotImplementedError("GNU parallel is not installed (Debian package parallel)")
        self._tmp = temp_dir("agents-bench-parallel-")
        self.fixture = build_plan(
            self._tmp.__enter__() / "external",
            PLAN_LEAVES,
            max_parallel=EXTERNAL_PARALLEL,
            command=list(TRUE_ARGV),
        )

    def teardown(self) -> None:
        if hasattr(self, "_tmp"):  # asv tears down a skipped benchmark too
            self._tmp.__exit__(None, None, None)

    def track_gnu_parallel_ratio_to_external(self) -> float:
        """GNU parallel / agents, timed back to back; above 1 means agents is faster."""
        theirs = gnu_parallel_true(PLAN_LEAVES, EXTERNAL_PARALLEL)
        ours = run_plan(self.fixture).seconds
        return theirs / ours

    track_gnu_parallel_ratio_to_external.unit = "x"  # type: ignore[attr-defined]


class GnuParallel:
    """``parallel -j 8 true ::: $(seq 1000)``; skipped when GNU parallel is not installed."""

    number = 1
    repeat = (3, 10, 30.0)
    warmup_time = 0.0
    timeout = 180.0

    def setup(self) -> None:
        if not gnu_parallel_available():
            raise NotImplementedError("GNU parallel is not installed (Debian package parallel)")

    def time_gnu_parallel_true_1000(self) -> None:
        """Spawn -> 1,000 `true` runs -> GNU parallel exited."""
        gnu_parallel_true(PLAN_LEAVES, EXTERNAL_PARALLEL)


class BigPlan(_PlanBench):
    """A plan of 10,000 ``builtin:noop`` leaves (goal: executes in under 200 MB)."""

    repeat = 1
    timeout = 300.0

    def setup_cache(self) -> Cache:
        fixture = build_plan(
            Path("big").resolve(),
            BIG_PLAN_LEAVES,
            max_parallel=INPROCESS_PARALLEL,
            builtin="noop",
        )
        return fixture.as_dict()

    setup_cache.timeout = 300.0  # type: ignore[attr-defined]

    def peakmem_plan_10000_subplans(self, cache: Cache) -> None:
        """Peak RSS of the benchmark process once it executed the 10,000-leaf plan."""
        self._execute()

    def track_plan_10000_subplans_per_s(self, cache: Cache) -> float:
        """Subplans/s of execute() over the 10,000 leaves (one run)."""
        started = time.perf_counter()
        self._execute()
        return self.fixture.leaves / (time.perf_counter() - started)

    track_plan_10000_subplans_per_s.unit = "subplans/s"  # type: ignore[attr-defined]
