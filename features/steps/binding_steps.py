"""Steps about binding a job's processes to its claim (runtime/sweep.py, worker/upkeep.py)."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import psutil
from behave import given, then, when
from helpers import DEADLINE_S, make_worker, wait_until
from worker_steps import _capture_worker_logs, _settings_from

from cleveragents.domain.ids import new_id
from cleveragents.domain.markers import WORKER_ID
from cleveragents.domain.owners import this_host

ATTEMPTS = {"first": 1, "second": 2}


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE  # ended, not reaped yet
    except psutil.NoSuchProcess:
        return True


def _job_dir(context: Any, label: str) -> Path:
    path = context.tmp / f"job-{label}"
    path.mkdir(exist_ok=True)
    return path


def _command_job(context: Any, label: str, then: str, timeout_s: float | None = None) -> None:
    """A command that starts a setsid daemon, notes both pids per attempt, then ``then``."""
    folder = _job_dir(context, label)
    script = (
        f"cd {folder} || exit 1; setsid sleep 300 >/dev/null 2>&1 & "
        "echo $! > daemon.tmp && mv daemon.tmp daemon.$AGENTS_JOB_ATTEMPT && "
        "echo $$ > command.tmp && mv command.tmp command.$AGENTS_JOB_ATTEMPT && "
        f"{then}"
    )
    payload: dict[str, Any] = {"argv": ["sh", "-c", script]}
    if timeout_s is not None:
        payload["timeout_s"] = timeout_s
    job = context.queue.enqueue("command", payload)
    context.ids[label] = job.id
    context.cleanups.append(lambda: _kill_recorded(folder))


def _kill_recorded(folder: Path) -> None:
    for pid_file in folder.glob("*.[0-9]*"):
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def _pid(context: Any, label: str, what: str, attempt: int = 1) -> int:
    path = _job_dir(context, label) / f"{what}.{attempt}"
    wait_until(path.exists, f"{path.name} of job {label}")
    return int(path.read_text())


@given('a "command" job "{label}" that starts a setsid daemon and exits')
def step_daemon_job(context: Any, label: str) -> None:
    _command_job(context, label, "exit 0")


@given('a "command" job "{label}" that starts a setsid daemon and runs for 300 seconds')
def step_daemon_long_job(context: Any, label: str) -> None:
    _command_job(context, label, "exec sleep 300")


@given(
    'a "command" job "{label}" that starts a setsid daemon and runs for 300 seconds, '
    "with timeout_s {timeout:g}"
)
def step_daemon_job_timeout(context: Any, label: str, timeout: float) -> None:
    _command_job(context, label, "exec sleep 300", timeout_s=timeout)


@given('a worker "{name}" on this host, with {threads:d} threads and {options}')
@when('a worker "{name}" on this host, with {threads:d} threads and {options}')
def step_worker_here(context: Any, name: str, threads: int, options: str) -> None:
    worker = make_worker(
        context, name, on_this_host=True, max_workers=threads, **_settings_from(options)
    )
    worker.start(now=context.clock(), heartbeat=False)
    # What the job looked like the moment the start-up recovery was over.
    context.released_at = {label: _gone_now(context, label) for label in context.ids}


def _gone_now(context: Any, label: str) -> bool | None:
    path = _job_dir(context, label) / "command.1"
    return _gone(int(path.read_text())) if path.exists() else None


@when('the command of job "{label}" has started')
def step_command_started(context: Any, label: str) -> None:
    _pid(context, label, "command")


@then('the {what:w} of job "{label}" is gone')
@then('the {nth:w} run\'s {what:w} of job "{label}" is gone')
def step_gone(context: Any, what: str, label: str, nth: str = "first") -> None:
    pid = _pid(context, label, what, ATTEMPTS[nth])
    wait_until(lambda: _gone(pid), f"the {what} of job {label} ({pid}) to be gone")


@then('the {what:w} of job "{label}" still runs')
@then('the {nth:w} run\'s {what:w} of job "{label}" still runs')
def step_still_runs(context: Any, what: str, label: str, nth: str = "first") -> None:
    pid = _pid(context, label, what, ATTEMPTS[nth])
    assert not _gone(pid), f"the {what} of job {label} ({pid}) has ended"


@then('the command of job "{label}" was gone before the job was released')
def step_gone_before_release(context: Any, label: str) -> None:
    assert context.released_at[label] is True, "the job was released while its command ran"


@when('worker "{name}" has written no heartbeat for {seconds:g} seconds')
def step_no_heartbeat(context: Any, name: str, seconds: float) -> None:
    upkeep = context.workers[name].upkeep
    upkeep.check_fence(upkeep.last_written + seconds)


@then('worker "{name}" is fenced')
def step_fenced(context: Any, name: str) -> None:
    assert context.workers[name].upkeep.fenced


@then('worker "{name}" is not fenced')
def step_not_fenced(context: Any, name: str) -> None:
    assert not context.workers[name].upkeep.fenced


def _marked_process(context: Any, key: str, owner_id: str) -> None:
    proc = subprocess.Popen(
        ["sleep", "300"], env={**os.environ, WORKER_ID: owner_id}, start_new_session=True
    )
    context.marked = {**getattr(context, "marked", {}), key: proc.pid}

    def stop() -> None:
        proc.kill()
        proc.wait()

    context.cleanups.append(stop)


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@given("a process left running by a dead worker of this host")
def step_orphan(context: Any) -> None:
    _marked_process(context, "dead", f"{this_host()}:{_dead_pid()}:{new_id()}")


@given("a process started for a live worker of this host")
def step_live_owner(context: Any) -> None:
    _marked_process(context, "live", f"{this_host()}:{os.getpid()}:{new_id()}")


@given("a process started for a worker of another host")
def step_other_host(context: Any) -> None:
    _marked_process(context, "other", f"elsewhere:{_dead_pid()}:{new_id()}")


@then("the process of the dead worker is gone")
def step_orphan_gone(context: Any) -> None:
    pid = context.marked["dead"]
    wait_until(lambda: _gone(pid), "the dead worker's process to be gone")


@then("the process of the {who} still runs")
def step_marked_runs(context: Any, who: str) -> None:
    key = {"live worker": "live", "other host's worker": "other"}[who]
    assert not _gone(context.marked[key]), f"the process of the {who} was ended"


@when('the outcome of job "{label}" is recorded while worker "{name}" has not freed its slot yet')
def step_recorded_not_freed(context: Any, label: str, name: str) -> None:
    worker = context.workers[name]
    _capture_worker_logs(context)
    assert worker.wait_for_outcomes(DEADLINE_S), "the job did not finish"
    outcomes, _ = worker.slots.pending_outcomes()
    assert context.store.record_outcomes(worker.id, outcomes) == 1
    assert worker.running_count == 1  # the pass that frees the slot has not come yet


@then('worker "{name}" stopped no run for a lost claim')
def step_no_lost_claim(context: Any, name: str) -> None:
    lost = [m for m in context.log_records.messages if "no longer this worker" in m]
    assert not lost, lost
    assert all(entry.token.reason is None for entry in context.workers[name].slots.entries())


@given("the last pid handed out is {last:d}")
def step_last_pid(context: Any, last: int) -> None:
    fake = context.tmp / "proc"
    (fake / "sys" / "kernel").mkdir(parents=True)
    (fake / "sys" / "kernel" / "ns_last_pid").write_text(f"{last}\n")
    context.fake_proc = str(fake)


@then("a process with pid {pid:d} may have started after pid {since:d}: {verdict}")
def step_pid_window(context: Any, pid: int, since: int, verdict: str) -> None:
    from unittest import mock

    from cleveragents.runtime import sweep

    with mock.patch.object(sweep, "_PROC", context.fake_proc):
        window = sweep._started_after(since)
    assert window(pid) == (verdict == "yes"), (since, pid)
