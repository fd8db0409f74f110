"""What the sandbox and apply step modules share: snapshots of a project, the changes a plan
recorded, git, and the plan's job."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from plan_helpers import plan_store, the_plan_id

from cleveragents.store.changes import ChangeStore
from cleveragents.store.jobs import JobStore

GIT = ["git", "-c", "core.quotePath=true", "-c", "user.name=t", "-c", "user.email=t@example.com"]


def snapshot(root: Path) -> dict[str, Any]:
    """Every file's bytes and mode, and every symlink's target, under ``root``."""
    found: dict[str, Any] = {}
    for directory, dirs, files in os.walk(root):
        for name in [*files, *dirs]:
            path = Path(directory) / name
            rel = path.relative_to(root).as_posix()
            if rel.startswith(".git/") or rel == ".git":
                continue
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_file():
                found[rel] = (path.read_bytes(), path.stat().st_mode & 0o777)
    return found


def plan_changes(context: Any) -> list[Any]:
    return ChangeStore(plan_store(context).db).for_plan(the_plan_id(context))


def recorded_contents(context: Any) -> dict[str, bytes | None]:
    """Path -> the new content the plan recorded (None for a deletion)."""
    found = plan_changes(context)
    contents = ChangeStore(plan_store(context).db).contents([c.id for c in found])
    return {change.path: new for change, (_old, new) in zip(found, contents, strict=True)}


def run_git(context: Any, cwd: Path, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(context.tmp)}
    done = subprocess.run(
        [*GIT, *args], cwd=cwd, input=stdin, capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def holds_recorded(context: Any, root: Path) -> None:
    for change in plan_changes(context):
        target = root / change.path
        new = recorded_contents(context)[change.path]
        if new is None:
            assert not target.exists(), change.path
        else:
            assert target.read_bytes() == new, change.path
            assert target.stat().st_mode & 0o777 == change.mode, (change.path, change.mode)


def plan_job(context: Any) -> Any:
    plan = plan_store(context).get(the_plan_id(context))
    assert plan.job_id, plan
    return JobStore(plan_store(context).db).get(plan.job_id)
