"""Steps for sandboxed subplans, their recorded changes, `plan diff` and `plan apply`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from behave import given, then, when
from helpers import execute_sql
from plan_steps import leaves, plan_store, the_plan_id

from cleveragents.domain.locks import ResourceType
from cleveragents.domain.plans import PlanPhase, SubplanState
from cleveragents.plans import apply_writer
from cleveragents.plans.apply import ApplyError, PlanApplier
from cleveragents.plans.executor import PlanExecutor
from cleveragents.runtime.tokens import CancellationToken, CancelReason
from cleveragents.store.changes import ChangeStore
from cleveragents.store.jobs import JobStore
from cleveragents.store.locks import LockService
from cleveragents.store.projects import ProjectStore

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


def _changes(context: Any) -> list[Any]:
    return ChangeStore(plan_store(context).db).for_plan(the_plan_id(context))


def _recorded(context: Any) -> dict[str, bytes | None]:
    """Path -> the new content the plan recorded (None for a deletion)."""
    found = _changes(context)
    contents = ChangeStore(plan_store(context).db).contents([c.id for c in found])
    return {change.path: new for change, (_old, new) in zip(found, contents, strict=True)}


def _git(context: Any, cwd: Path, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(context.tmp)}
    done = subprocess.run(
        [*GIT, *args], cwd=cwd, input=stdin, capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@given('a sandboxed action "{name}" running')
def step_sandboxed_action(context: Any, name: str) -> None:
    script = " ".join(context.text.split("\n"))
    literal = "'''" + script + "'''"  # a TOML literal string: no escapes
    (context.tmp / name).write_text(
        f'[action]\nname = "{Path(name).stem}"\ncommand = ["sh", "-c", {literal}]\n',
        encoding="utf-8",
    )
    context.before = snapshot(context.tmp / "repo")


@given('a sandboxed action "{name}" running one leaf per file, each writing "{path}"')
def step_action_per_file(context: Any, name: str, path: str) -> None:
    (context.tmp / name).write_text(
        f'[action]\nname = "both"\ncommand = ["sh", "-c", "echo $AGENTS_SUBPLAN_ID > {path}"]\n'
        "[action.decompose]\nmax_files_per_subplan = 1\nmin_files_per_subplan = 1\n",
        encoding="utf-8",
    )
    context.before = snapshot(context.tmp / "repo")


@given('the project "{project}" is a git repository with everything committed')
def step_git_repo(context: Any, project: str) -> None:
    root = context.tmp / project
    _git(context, root, "init", "-q")
    _git(context, root, "add", "-A")
    _git(context, root, "commit", "-qm", "base")


@given('the project "{project}" has a symlink "{link}" to a directory outside it')
def step_symlink_out(context: Any, project: str, link: str) -> None:
    context.outside = Path(tempfile.mkdtemp(prefix="agents-outside-"))
    context.cleanups.append(lambda: shutil.rmtree(context.outside, ignore_errors=True))
    (context.tmp / project / link).symlink_to(context.outside, target_is_directory=True)
    context.before = snapshot(context.tmp / project)


@then('the project "{project}" is byte for byte as it was')
def step_unchanged(context: Any, project: str) -> None:
    assert snapshot(context.tmp / project) == context.before


@then('the project "{project}" is byte for byte as it was after the edits')
def step_unchanged_after_edits(context: Any, project: str) -> None:
    assert snapshot(context.tmp / project) == context.after_edits


@then("the plan's recorded changes are")
def step_recorded(context: Any) -> None:
    got = [
        (c.path, c.kind.value, "" if c.mode is None else f"{c.mode:o}") for c in _changes(context)
    ]
    wanted = [(row["path"], row["change"], row["mode"]) for row in context.table]
    assert got == wanted, got


@then("the plan has no recorded changes")
def step_no_changes(context: Any) -> None:
    assert _changes(context) == [], _changes(context)


@then("each recorded change has the base hash of the project's file and the new content's hash")
def step_hashes(context: Any) -> None:
    recorded = _recorded(context)
    for change in _changes(context):
        base = context.before.get(change.path)
        if base is None:
            assert change.base_sha256 is None, change
        else:
            assert change.base_sha256 == hashlib.sha256(base[0]).hexdigest(), change
            assert change.base_mode == base[1], change
        new = recorded[change.path]
        assert change.new_sha256 == (None if new is None else hashlib.sha256(new).hexdigest())


@then("no sandbox of the plan is left in TMPDIR")
def step_no_sandbox(context: Any) -> None:
    left = list(Path(tempfile.gettempdir()).glob(f"agents-plan-{the_plan_id(context)}-*"))
    assert not left, left


@then('`git apply --check` accepts the diff in the project "{project}"')
def step_git_check(context: Any, project: str) -> None:
    _git(context, context.tmp / project, "apply", "--check", "-", stdin=context.result.stdout)


@then(
    'after `git apply` of the diff a copy of the project "{project}" holds what the plan recorded'
)
def step_git_apply(context: Any, project: str) -> None:
    copy = context.tmp / "copy"
    shutil.copytree(context.tmp / project, copy, symlinks=True)
    _git(context, copy, "apply", "-", stdin=context.result.stdout)
    _holds_recorded(context, copy)


def _holds_recorded(context: Any, root: Path) -> None:
    for change in _changes(context):
        target = root / change.path
        new = _recorded(context)[change.path]
        if new is None:
            assert not target.exists(), change.path
        else:
            assert target.read_bytes() == new, change.path
            assert target.stat().st_mode & 0o777 == change.mode, (change.path, change.mode)


@then('the project "{project}" holds what the plan recorded')
def step_project_recorded(context: Any, project: str) -> None:
    _holds_recorded(context, context.tmp / project)


@then('the file "{path}" has mode {mode}')
def step_mode(context: Any, path: str, mode: str) -> None:
    assert (context.tmp / path).stat().st_mode & 0o777 == int(mode, 8)


@then('no temp file of an apply is left in the project "{project}"')
def step_no_temp(context: Any, project: str) -> None:
    left = [p for p in (context.tmp / project).rglob("*.tmp") if ".agents-" in p.name]
    assert not left, left


@then('the leaf\'s output lists exactly its own files and "{text}"')
def step_workspace_listing(context: Any, text: str) -> None:
    (leaf,) = leaves(context)
    lines = (leaf.output_tail or "").splitlines()
    assert lines[-1] == text, lines
    assert sorted(line.removeprefix("./") for line in lines[:-1]) == sorted(leaf.files), lines


@then('the plan\'s only leaf failed with "{text}"')
def step_only_leaf_failed(context: Any, text: str) -> None:
    (leaf,) = leaves(context)
    assert leaf.state.value == "failed" and text in (leaf.error_message or ""), leaf


@when('the project\'s file "{path}" is {what}')
def step_edit_project(context: Any, path: str, what: str) -> None:
    target = context.tmp / "repo" / path
    if what == "edited":
        target.write_bytes(target.read_bytes() + b"edited by hand\n")
    elif what == "deleted":
        target.unlink()
    elif what == "created":
        target.write_bytes(b"made by hand\n")
    else:  # replaced by a directory
        target.unlink()
        target.mkdir()
    context.after_edits = snapshot(context.tmp / "repo")


@then('the project\'s file "{path}" holds "{text}"')
def step_file_holds(context: Any, path: str, text: str) -> None:
    got = (context.tmp / "repo" / path).read_bytes()
    assert got == text.encode().decode("unicode_escape").encode(), got


@when('a recorded change is rewritten to the path "{path}"')
def step_tamper(context: Any, path: str) -> None:
    execute_sql(
        context,
        "UPDATE changes SET path = :path WHERE id = (SELECT min(id) FROM changes)",
        {"path": path},
    )
    if "/" in path and not path.startswith(("/", "..")) and "evil" in path:
        # a creation through the symlink: the change no longer has a base in the project
        execute_sql(
            context,
            "UPDATE changes SET change = 'created', base_sha256 = NULL, base_mode = NULL"
            " WHERE path = :path",
            {"path": path},
        )


@then('nothing was written outside the project "{project}"')
def step_nothing_outside(context: Any, project: str) -> None:
    assert not (context.tmp / "evil.txt").exists()
    assert not Path("/tmp/evil.txt").exists()
    assert list(context.outside.iterdir()) == []


class _Crash(BaseException):
    """The process dying mid-apply (what kill -9 would do), as far as the files can tell."""


@when("an apply of the plan crashes after writing {count:d} file, leaving its temp file behind")
def step_crash(context: Any, count: int) -> None:
    real = apply_writer._commit
    calls = {"n": 0}
    torn: list[str] = []

    def commit(temp: str, target: str) -> None:
        calls["n"] += 1
        if calls["n"] > count:
            torn.append(temp)
            raise _Crash()
        real(temp, target)

    apply_writer._commit = commit  # type: ignore[assignment]
    try:
        PlanApplier(plan_store(context).db).apply(the_plan_id(context))
    except _Crash:
        pass
    else:
        raise AssertionError("the apply did not reach the crash")
    finally:
        apply_writer._commit = real  # type: ignore[assignment]
    # kill -9 runs no clean-up: what it leaves is the temp file of the file it was renaming.
    Path(torn[0]).write_bytes(b"half of it")


@when("the disk is full from the second file written on")
def step_disk_full(context: Any) -> None:
    real = apply_writer.write_all
    calls = {"n": 0}

    def write_all(fd: int, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] >= 2:
            os.write(fd, data[: len(data) // 2])
            raise OSError(28, "No space left on device")
        real(fd, data)

    apply_writer.write_all = write_all  # type: ignore[assignment]
    context.restore_disk = lambda: setattr(apply_writer, "write_all", real)
    context.cleanups.append(context.restore_disk)


@when("the disk has room again")
def step_disk_room(context: Any) -> None:
    context.restore_disk()


@when('another live process holds the lock of the project "{project}"')
def step_project_locked(context: Any, project: str) -> None:
    db = plan_store(context).db
    found = ProjectStore(db).get(project)
    owner = f"{os.uname().nodename}:{os.getpid()}:other"
    LockService(db).acquire(ResourceType.PROJECT, found.id, owner, 600, _now())


def _now() -> Any:
    from cleveragents.domain.clock import utcnow

    return utcnow()


@then("the scenario has {count:d} plans")
def step_plan_count(context: Any, count: int) -> None:
    assert execute_sql(context, "SELECT count(*) FROM plans")[0][0] == count


@then('the plan\'s job "{kind}" succeeded')
def step_job_ok(context: Any, kind: str) -> None:
    job = _plan_job(context)
    assert job.kind == kind and job.status.value == "succeeded", job


@then('the plan\'s job "{kind}" failed with the conflict "{path}"')
def step_job_conflict(context: Any, kind: str, path: str) -> None:
    job = _plan_job(context)
    assert job.kind == kind and job.status.value == "failed", job
    assert [c["path"] for c in (job.result or {})["conflicts"]] == [path], job.result


def _plan_job(context: Any) -> Any:
    plan = plan_store(context).get(the_plan_id(context))
    assert plan.job_id, plan
    return JobStore(plan_store(context).db).get(plan.job_id)


@when("the plan's leaf is put back to {state:w} under a dead run")
def step_dead_run(context: Any, state: str) -> None:
    execute_sql(
        context,
        "UPDATE subplans SET state = :state WHERE is_leaf = :yes",
        {"state": SubplanState(state).value, "yes": True},
    )
    execute_sql(
        context,
        "UPDATE plans SET phase = 'executing', owner = :owner",
        {"owner": f"{os.uname().nodename}:999999:dead"},
    )


@when("the plan is executed again")
def step_execute_again(context: Any) -> None:
    report = PlanExecutor(plan_store(context).db).execute(the_plan_id(context))
    context.report = report


@then('the plan\'s phase after that is "{phase}"')
def step_phase_after(context: Any, phase: str) -> None:
    assert context.report.plan.phase is PlanPhase(phase), context.report.plan


@when('the recorded old content of "{path}" is lost')
def step_lose_base(context: Any, path: str) -> None:
    execute_sql(context, "UPDATE changes SET base_content = NULL WHERE path = :p", {"p": path})


@then('the directory "{path}" is gone')
def step_dir_gone(context: Any, path: str) -> None:
    assert not (context.tmp / path).exists(), list((context.tmp / path).iterdir())


@when("an apply of the plan runs with a token that is already cancelled")
def step_cancelled_apply(context: Any) -> None:
    token = CancellationToken()
    token.cancel(CancelReason.CANCELLED)
    try:
        PlanApplier(plan_store(context).db).apply(the_plan_id(context), token=token)
    except ApplyError as exc:
        context.apply_error = exc.message
    else:
        raise AssertionError("a cancelled apply completed")


@then('the apply stopped with "{text}"')
def step_apply_stopped(context: Any, text: str) -> None:
    assert text in context.apply_error, context.apply_error


@given('the project "{project}" has a symlink "{link}" to its file "{target}"')
def step_inside_link(context: Any, project: str, link: str, target: str) -> None:
    (context.tmp / project / link).symlink_to(target)


@when('the project\'s symlink "{link}" is pointed outside the project')
def step_link_outside(context: Any, link: str) -> None:
    path = context.tmp / "repo" / link
    path.unlink()
    outside = Path(tempfile.mkdtemp(prefix="agents-outside-"))
    context.cleanups.append(lambda: shutil.rmtree(outside, ignore_errors=True))
    (outside / "secret.txt").write_text("secret\n", encoding="utf-8")
    path.symlink_to(outside / "secret.txt")


@then('the plan\'s job "{kind}" failed with "{text}"')
def step_job_failed(context: Any, kind: str, text: str) -> None:
    job = _plan_job(context)
    assert job.kind == kind and job.status.value == "failed", job
    assert text in (job.error_message or ""), job.error_message


@then("the plan's only leaf's output is \"{text}\"")
def step_only_leaf_output(context: Any, text: str) -> None:
    (leaf,) = leaves(context)
    assert (leaf.output_tail or "").strip() == text, leaf.output_tail


@then('every line of stdout is one JSON document, the last one with "{field}" "{value}"')
def step_json_lines(context: Any, field: str, value: str) -> None:
    documents = [json.loads(line) for line in context.result.stdout.splitlines()]
    assert documents and documents[-1][field] == value, documents[-1:]


@when('the project\'s file "{path}" gets mode {mode}')
def step_chmod(context: Any, path: str, mode: str) -> None:
    (context.tmp / "repo" / path).chmod(int(mode, 8))
