"""Plans for the measurements: a fixture project of N empty files, an action file whose ``flat``
decomposition gives exactly N one-file leaves, and a stored plan; each run executes a fresh copy
of the fixture's database. Also the floors a plan of external commands is compared with
(a bare thread pool, GNU parallel) and the peak RSS of a process executing a plan.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleveragents.domain.clock import utcnow
from cleveragents.domain.plans import PlanPhase

try:
    from cleveragents.plans.action_files import load_action_file
except ImportError:  # a revision before action files had a module of their own (asv, comparisons)
    from cleveragents.plans.actions import load_action_file  # type: ignore[attr-defined,no-redef]
from cleveragents.plans.creation import create_plan
from cleveragents.plans.executor import PlanExecutor, PlanRunReport
from cleveragents.store.projects import ProjectStore

from ._db import checkpoint, open_db
from ._support import temp_dir

PLAN_LEAVES = 1000  # the in-process and external-command plans
BIG_PLAN_LEAVES = 10_000  # the memory figure
INPROCESS_PARALLEL = 32
EXTERNAL_PARALLEL = 8
TRUE_ARGV = ("true",)
BENCH_DIR = Path(__file__).resolve().parent.parent  # holds the ``benchmarks`` package


@dataclass(frozen=True)
class PlanFixture:
    """A stored, not yet executed plan of ``leaves`` one-file leaves (see :func:`build_plan`).

    Plain strings and ints, so that asv can pickle it from ``setup_cache`` (:meth:`as_dict`).
    """

    db_path: str
    plan_id: str
    project_id: str
    action_path: str
    leaves: int
    max_parallel: int

    def as_dict(self) -> dict[str, Any]:
        """The fixture as a dict of plain values (``PlanFixture(**d)`` reads it back)."""
        return dict(self.__dict__)


def write_leaf_action(path: Path, *, builtin: str | None = None, command: Any = None) -> Path:
    """An action file running ``builtin`` (a name) or ``command`` (an argv) on one file per leaf,
    in place: the dispatcher's overhead against a bare thread pool, which has no sandbox either.

    ``strategy = "flat"`` with at most and at least one file per subplan: N files make exactly
    N leaves under the root (``Decomposer._chunks`` cuts ``max(ceil(N / 1), 2)`` chunks of 1).
    """
    if (builtin is None) == (command is None):
        raise ValueError("give exactly one of builtin or command")
    runs = f"builtin = {json.dumps(builtin)}" if builtin else f"command = {json.dumps(command)}"
    path.write_text(
        f'[action]\ndescription = "benchmark leaf"\n{runs}\nisolation = "in-place"\n\n'
        "[action.decompose]\n"
        'strategy = "flat"\nmax_files_per_subplan = 1\nmin_files_per_subplan = 1\n',
        encoding="utf-8",
    )
    return path


def build_plan(
    directory: Path,
    leaves: int,
    *,
    max_parallel: int,
    builtin: str | None = None,
    command: Any = None,
) -> PlanFixture:
    """Under ``directory``: a project of ``leaves`` empty files, an action file, and a database
    (``fixture.db``, checkpointed into one file) holding the project and a created plan."""
    directory.mkdir(parents=True, exist_ok=True)
    files = directory / "project" / "files"
    files.mkdir(parents=True, exist_ok=True)
    for i in range(leaves):
        (files / f"f{i:05d}.txt").touch()
    action_path = write_leaf_action(directory / "leaf.toml", builtin=builtin, command=command)
    db_path = directory / "fixture.db"
    db = open_db(db_path)
    try:
        project = ProjectStore(db).add(f"bench-{leaves}", str(directory / "project"), utcnow())
        plan, nodes = create_plan(
            db,
            project,
            load_action_file(action_path),
            overrides={"max_parallel": max_parallel},
            global_values={},
            now=utcnow(),
        )
    finally:
        db.dispose()
    made = sum(1 for node in nodes if node.is_leaf)
    if made != leaves:
        raise RuntimeError(f"the fixture plan has {made} leaves, not {leaves}")
    checkpoint(db_path)
    return PlanFixture(str(db_path), plan.id, project.id, str(action_path), leaves, max_parallel)


def copy_plan_db(fixture: PlanFixture, directory: Path) -> Path:
    """A fresh copy of the fixture's database (its plan not executed yet) in ``directory``."""
    target = directory / "agents.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(fixture.db_path, target)
    return target


def check_plan_run(report: PlanRunReport, fixture: PlanFixture) -> None:
    """Raise unless the run executed every leaf: a fast wrong answer is not a figure."""
    if report.plan.phase is not PlanPhase.EXECUTED or report.counts.completed != fixture.leaves:
        raise RuntimeError(
            f"plan ended {report.plan.phase.value}: {report.counts} ({report.error})"
        )


@dataclass
class PlanRun:
    """One execution of a fixture plan."""

    leaves: int
    seconds: float  # PlanExecutor.execute(): begin -> every transition stored -> plan finished
    peak_running: int

    @property
    def rate(self) -> float:
        """Leaf subplans per second."""
        return self.leaves / self.seconds


def run_plan(fixture: PlanFixture, profile: Any = None) -> PlanRun:
    """Execute a fresh copy of the fixture's plan; time ``PlanExecutor.execute`` alone."""
    with temp_dir("agents-bench-plan-") as tmp:
        db = open_db(copy_plan_db(fixture, tmp))
        try:
            executor = PlanExecutor(db)
            if profile is not None:
                profile.enable()
            started = time.perf_counter()
            report = executor.execute(fixture.plan_id)
            seconds = time.perf_counter() - started
            if profile is not None:
                profile.disable()
        finally:
            db.dispose()
    check_plan_run(report, fixture)
    return PlanRun(fixture.leaves, seconds, report.peak_running)


def threadpool_true(count: int = PLAN_LEAVES, workers: int = EXTERNAL_PARALLEL) -> float:
    """The bare floor: seconds for ``ThreadPoolExecutor(workers)`` to ``subprocess.run(["true"])``
    ``count`` times (pool start-up included)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        codes = list(pool.map(lambda _: subprocess.run(list(TRUE_ARGV)).returncode, range(count)))
    seconds = time.perf_counter() - started
    if any(codes):
        raise RuntimeError(f"{sum(1 for c in codes if c)} of {count} `true` runs failed")
    return seconds


def gnu_parallel_argv(count: int = PLAN_LEAVES, jobs: int = EXTERNAL_PARALLEL) -> list[str]:
    """``parallel -j JOBS true ::: $(seq COUNT)`` as an argv (``--will-cite``: no notice)."""
    return ["parallel", "--will-cite", "-j", str(jobs), *TRUE_ARGV, ":::", *map(str, range(count))]


def gnu_parallel_available() -> bool:
    """Whether GNU parallel (Debian package ``parallel``) is on PATH."""
    return shutil.which("parallel") is not None


def gnu_parallel_true(count: int = PLAN_LEAVES, jobs: int = EXTERNAL_PARALLEL) -> float:
    """Seconds for GNU parallel to run ``true`` ``count`` times, ``jobs`` at once."""
    started = time.perf_counter()
    subprocess.run(gnu_parallel_argv(count, jobs), check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


@dataclass
class PlanMemory:
    """Peak RSS of a child process that executed (or created and executed) a fixture plan."""

    hwm_bytes: int  # the child's VmHWM (peak RSS of its own address space), from /proc
    baseline_bytes: int  # its VmHWM once the modules were imported, before the plan was touched
    seconds: float  # its execute() (and create_plan(), when it created the plan)

    @property
    def peak_mb(self) -> float:
        """Peak RSS in MiB."""
        return self.hwm_bytes / (1 << 20)

    @property
    def baseline_mb(self) -> float:
        """Peak RSS after the imports, in MiB."""
        return self.baseline_bytes / (1 << 20)


def vm_hwm_bytes() -> int:
    """This process's peak RSS (``VmHWM`` in /proc/self/status).

    Read from /proc because nothing portable gives the same figure: psutil has no high-water
    mark (``memory_info().rss`` is the current RSS, ``memory_full_info()`` adds USS/PSS/swap),
    and ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` is not equivalent: on Linux it keeps the
    RSS the process had before ``exec``, i.e. the parent's at fork/vfork time, so a child of a
    big parent would report the parent's size.
    """
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def plan_peak_rss(fixture: PlanFixture, create: bool = False) -> PlanMemory:
    """Run a fresh copy of the fixture's plan in a child Python process; its peak RSS.

    The child imports this module, opens a copy of the fixture's database and executes the plan
    (with ``create``, first creates a new plan of the same project and action, as
    ``agents plan run`` would), then reports its ``VmHWM`` (see :func:`vm_hwm_bytes`).
    """
    with temp_dir("agents-bench-rss-") as tmp:
        db_path = copy_plan_db(fixture, tmp)
        code = (
            f"import sys; sys.path.insert(0, {str(BENCH_DIR)!r}); "
            "from benchmarks._plans import _plan_child; _plan_child()"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code, str(db_path), json.dumps(fixture.as_dict()), str(create)],
            stdout=subprocess.PIPE,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"the plan child exited {proc.returncode}: {proc.stdout!r}")
    result = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    return PlanMemory(result["hwm_bytes"], result["baseline_bytes"], result["seconds"])


def _plan_child() -> None:
    """The child of :func:`plan_peak_rss`: argv is DB_PATH FIXTURE_JSON CREATE."""
    baseline = vm_hwm_bytes()
    db_path, raw, create = sys.argv[1], sys.argv[2], sys.argv[3] == "True"
    fixture = PlanFixture(**json.loads(raw))
    db = open_db(db_path)
    started = time.perf_counter()
    plan_id = fixture.plan_id
    if create:
        project = ProjectStore(db).get(fixture.project_id)
        plan, _ = create_plan(
            db,
            project,
            load_action_file(Path(fixture.action_path)),
            overrides={"max_parallel": fixture.max_parallel},
            global_values={},
            now=utcnow(),
        )
        plan_id = plan.id
    report = PlanExecutor(db).execute(plan_id)
    seconds = time.perf_counter() - started
    db.dispose()
    check_plan_run(report, fixture)
    print(json.dumps({"seconds": seconds, "hwm_bytes": vm_hwm_bytes(), "baseline_bytes": baseline}))
