"""``agents plan diff`` over repetitive files (issue 13, "Diffs in bounded time").

The case that made difflib quadratic: files of ~40 KB, each one line repeated over and over with
a single line changed. ``setup_cache`` writes a project of such files (``DIFF_FILES``, default
1,000; the issue's case is 3,000, ``AGENTS_BENCH_DIFF_FILES=3000``), runs a sandboxed
``builtin:replace`` plan that changes the one marked line of every file (one leaf per directory of
100 files), and keeps the database. Each timed call then does what ``plan diff`` does in-process:
reads the plan's changes a page at a time (``plans.review.review``) and computes either every
file's line counts (``--stat``, ``--json``) or every file's patch. Goal, from the issue: the
3,000-file case under 10 s for ``plan diff --stat`` (difflib took 131 s).

``time_line_stats_one_repetitive_file`` times the diff core alone on one file of 5,000 identical
lines with one changed. Every benchmark checks its result: a fast wrong answer is not a figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cleveragents.domain.clock import utcnow
from cleveragents.domain.plans import PlanPhase
from cleveragents.plans.actions import builtin_action
from cleveragents.plans.creation import create_plan
from cleveragents.plans.decompose import DecomposeConfig
from cleveragents.plans.executor import PlanExecutor
from cleveragents.plans.patches import line_stats
from cleveragents.plans.review import review
from cleveragents.store.changes import ChangeStore
from cleveragents.store.projects import ProjectStore

from ._db import open_db
from ._support import env_int

DIFF_FILES = env_int("AGENTS_BENCH_DIFF_FILES", 1000)
FILES_PER_DIRECTORY = 100
FILE_BYTES = 40_000
REPEATED = b"the same line of text, repeated all the way down the file\n"
MARK = b"the one line that the plan changes\n"

Cache = dict[str, Any]


def repetitive_text(size: int = FILE_BYTES, line: bytes = REPEATED, mark: bytes = MARK) -> bytes:
    """About ``size`` bytes of ``line`` repeated, with ``mark`` as the middle line."""
    count = max(2, size // len(line))
    lines = [line] * count
    lines[count // 2] = mark
    return b"".join(lines)


def _write_project(root: Path, files: int) -> None:
    data = repetitive_text()
    for index in range(files):
        folder = root / f"d{index // FILES_PER_DIRECTORY:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{index:05d}.txt").write_bytes(data)


def build_diff_fixture(directory: Path, files: int) -> Cache:
    """Under ``directory``: the project, and ``agents.db`` holding the executed plan that changed
    the marked line of each of its ``files`` files."""
    project_root = directory / "project"
    _write_project(project_root, files)
    spec = builtin_action("replace").model_copy(
        update={
            "params": {"pattern": "^the one line that the plan changes$", "replacement": "CHANGED"},
            "decompose": DecomposeConfig(
                strategy="directory",
                max_files_per_subplan=FILES_PER_DIRECTORY,
                min_files_per_subplan=1,
            ),
        }
    )
    db_path = directory / "agents.db"
    db = open_db(db_path)
    try:
        project = ProjectStore(db).add("bench-diffs", str(project_root), utcnow())
        plan, _nodes = create_plan(db, project, spec, overrides={}, global_values={}, now=utcnow())
        report = PlanExecutor(db).execute(plan.id)
    finally:
        db.dispose()
    if report.plan.phase is not PlanPhase.EXECUTED:
        raise RuntimeError(f"plan ended {report.plan.phase.value}: {report.error}")
    return {"db": str(db_path), "plan": plan.id, "root": str(project_root), "files": files}


def diff_stat(cache: Cache) -> tuple[int, int, int]:
    """What ``plan diff --stat`` computes: files, lines added, lines removed."""
    db = open_db(cache["db"])
    try:
        files = added = removed = 0
        for item in review(ChangeStore(db), cache["plan"], cache["root"]):
            plus, minus = item.stats()
            files += 1
            added += plus or 0
            removed += minus or 0
    finally:
        db.dispose()
    return files, added, removed


def diff_patches(cache: Cache) -> int:
    """What ``plan diff`` computes: every file's patch; the total of their lengths."""
    db = open_db(cache["db"])
    try:
        return sum(
            len(item.patch() or "")
            for item in review(ChangeStore(db), cache["plan"], cache["root"])
        )
    finally:
        db.dispose()


class RepetitivePlanDiff:
    """``plan diff --stat`` and ``plan diff`` of a plan that changed one line in each of
    ``DIFF_FILES`` repetitive files of 40 KB."""

    timeout = 600.0
    number = 1
    repeat = 3

    def setup_cache(self) -> Cache:
        # asv runs this in a cache directory of its own, which it removes afterwards
        return build_diff_fixture(Path("diffs").resolve(), DIFF_FILES)

    setup_cache.timeout = 600.0  # type: ignore[attr-defined]

    def time_plan_diff_stat_repetitive(self, cache: Cache) -> None:
        files = cache["files"]
        if diff_stat(cache) != (files, files, files):
            raise RuntimeError(f"--stat of {files} one-line changes: {diff_stat(cache)}")

    def time_plan_diff_patches_repetitive(self, cache: Cache) -> None:
        if diff_patches(cache) == 0:
            raise RuntimeError("no patch rendered")


class OneRepetitiveFile:
    """The diff core alone: one file of 5,000 identical lines with one changed."""

    def setup(self) -> None:
        self.old = REPEATED * 5000
        self.new = REPEATED * 2500 + b"changed\n" + REPEATED * 2499

    def time_line_stats_one_repetitive_file(self) -> None:
        stats = line_stats(self.old, self.new)
        if (stats.added, stats.removed) != (1, 1):
            raise RuntimeError(f"line stats {stats}")
