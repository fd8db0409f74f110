"""Steps for `plan apply`: crashes and full disks mid-apply, locks, tampered records, the apply
job, and a plan executed again after a dead run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from behave import then, when
from helpers import execute_sql
from plan_helpers import plan_store, the_plan_id
from sandbox_helpers import plan_job

from cleveragents.domain.locks import ResourceType
from cleveragents.domain.owners import this_host
from cleveragents.domain.plans import PlanPhase, SubplanState
from cleveragents.plans import apply_writer
from cleveragents.plans.apply import ApplyError, PlanApplier
from cleveragents.plans.executor import PlanExecutor
from cleveragents.runtime.tokens import CancellationToken, CancelReason
from cleveragents.store.locks import LockService
from cleveragents.store.projects import ProjectStore


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


@then('the directory "{path}" is gone')
def step_dir_gone(context: Any, path: str) -> None:
    assert not (context.tmp / path).exists(), list((context.tmp / path).iterdir())


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
    owner = f"{this_host()}:{os.getpid()}:other"
    LockService(db).acquire(ResourceType.PROJECT, found.id, owner, 600, _now())


def _now() -> Any:
    from cleveragents.domain.clock import utcnow

    return utcnow()


@then("the scenario has {count:d} plans")
def step_plan_count(context: Any, count: int) -> None:
    assert execute_sql(context, "SELECT count(*) FROM plans")[0][0] == count


@then('the plan\'s job "{kind}" succeeded')
def step_job_ok(context: Any, kind: str) -> None:
    job = plan_job(context)
    assert job.kind == kind and job.status.value == "succeeded", job


@then('the plan\'s job "{kind}" failed with the conflict "{path}"')
def step_job_conflict(context: Any, kind: str, path: str) -> None:
    job = plan_job(context)
    assert job.kind == kind and job.status.value == "failed", job
    assert [c["path"] for c in (job.result or {})["conflicts"]] == [path], job.result


@then('the plan\'s job "{kind}" failed with "{text}"')
def step_job_failed(context: Any, kind: str, text: str) -> None:
    job = plan_job(context)
    assert job.kind == kind and job.status.value == "failed", job
    assert text in (job.error_message or ""), job.error_message


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
        {"owner": f"{this_host()}:999999:dead"},
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
    execute_sql(context, "UPDATE changes SET base_kept = false WHERE path = :p", {"p": path})


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
