"""Steps about the AsyncWorker: passes driven with an injected clock, heartbeats, recovery,
cancellation, timeouts, shutdown and TTL cleanup."""

from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import timedelta
from typing import Any

from behave import given, then, when
from helpers import DEADLINE_S, make_worker, open_db, settings, wait_until

from cleveragents.domain.jobs import JobOutcome, JobStatus, WorkerStatus
from cleveragents.errors import AgentsError, StoreError
from cleveragents.runtime.tokens import CancelReason
from cleveragents.store.jobs import JobStore
from cleveragents.store.workers import WorkerStore


def _settings_from(text: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for part in (text or "").split(","):
        if part.strip():
            key, _, value = part.partition("=")
            values[key.strip()] = float(value) if "." in value else int(value)
    return values


@given('worker "{name}" with {threads:d} threads')
@when('worker "{name}" with {threads:d} threads')
@given('worker "{name}" with {threads:d} threads and {options}')
@when('worker "{name}" with {threads:d} threads and {options}')
def step_worker(context: Any, name: str, threads: int, options: str | None = None) -> None:
    worker = make_worker(context, name, max_workers=threads, **_settings_from(options))
    worker.start(now=context.clock(), heartbeat=False)


@when('worker "{name}" runs one pass')
@given('worker "{name}" runs one pass')
def step_run_once(context: Any, name: str) -> None:
    context.claimed_count = context.workers[name].run_once(context.clock())


@when('worker "{name}" runs one pass after the jobs finish')
@given('worker "{name}" runs one pass after the jobs finish')
def step_run_after_finish(context: Any, name: str) -> None:
    worker = context.workers[name]
    assert worker.wait_for_outcomes(DEADLINE_S), "jobs did not finish"
    context.claimed_count = worker.run_once(context.clock())


@when('worker "{name}" runs one pass after {count:d} job finishes')
def step_run_after_one(context: Any, name: str, count: int) -> None:
    worker = context.workers[name]
    assert worker.wait_for_outcomes(DEADLINE_S, count), "no job finished"
    context.claimed_count = worker.run_once(context.clock())


@then("{n:d} jobs were claimed")
def step_claimed(context: Any, n: int) -> None:
    assert context.claimed_count == n, context.claimed_count


@then('worker "{name}" is running {n:d} jobs')
def step_running(context: Any, name: str, n: int) -> None:
    assert context.workers[name].running_count == n, context.workers[name].running_count


@given('gate "{gate}" has started')
@when('gate "{gate}" has started')
def step_gate_started(context: Any, gate: str) -> None:
    event = context.started.setdefault(gate, threading.Event())
    assert event.wait(DEADLINE_S), f"gate job {gate} never started"


@when('gate "{gate}" opens')
def step_gate_open(context: Any, gate: str) -> None:
    context.gates.setdefault(gate, threading.Event()).set()


@given("{seconds:g} seconds pass")
@when("{seconds:g} seconds pass")
def step_time_passes(context: Any, seconds: float) -> None:
    context.clock.advance(seconds)


@when('worker "{name}" sends a heartbeat')
def step_beat(context: Any, name: str) -> None:
    context.workers[name].beat(context.clock())


@then('job "{label}" has a heartbeat from now')
def step_job_heartbeat(context: Any, label: str) -> None:
    job = context.store.get(context.ids[label])
    assert job.last_heartbeat == context.clock(), (job.last_heartbeat, context.clock())


@then('worker "{name}" is registered as {status:WorkerStatus} with a heartbeat from now')
def step_worker_row(context: Any, name: str, status: str) -> None:
    worker = context.workers[name]
    rows = {w.id: w for w in WorkerStore(context.db).find(include_stopped=True)}
    row = rows[worker.id]
    assert row.status == WorkerStatus(status), row.status
    assert row.last_heartbeat == context.clock(), (row.last_heartbeat, context.clock())
    assert row.hostname == f"host-{name}" and row.max_workers == worker.max_workers


@then('worker "{name}" is registered as {status:WorkerStatus}')
def step_worker_status(context: Any, name: str, status: str) -> None:
    rows = {w.id: w for w in WorkerStore(context.db).find(include_stopped=True)}
    assert rows[context.workers[name].id].status == WorkerStatus(status)


@then('worker "{name}" counted {n:d} {what} jobs')
def step_counter(context: Any, name: str, n: int, what: str) -> None:
    rows = {w.id: w for w in WorkerStore(context.db).find(include_stopped=True)}
    row = rows[context.workers[name].id]
    assert getattr(row, f"jobs_{what}") == n, row


@when('worker "{name}" does its housekeeping')
def step_housekeeping(context: Any, name: str) -> None:
    context.report = context.workers[name].housekeeping(context.clock(), force=True)


@when("stale jobs are recovered")
def step_recover(context: Any) -> None:
    context.report = context.store.recover_stale(context.clock(), 30.0)


@then('the recovery requeued "{label}"')
def step_report_requeued(context: Any, label: str) -> None:
    assert context.report.requeued == [context.ids[label]], context.report


@then('the recovery failed "{label}"')
def step_report_failed(context: Any, label: str) -> None:
    assert context.report.failed == [context.ids[label]], context.report


@then("the recovery did nothing")
def step_report_empty(context: Any) -> None:
    assert context.report.empty, context.report


@then('job "{label}" belongs to worker "{name}"')
def step_owner(context: Any, label: str, name: str) -> None:
    job = context.store.get(context.ids[label])
    assert job.worker_id == context.workers[name].id, job.worker_id


@then('job "{label}" belongs to no worker')
def step_no_owner(context: Any, label: str) -> None:
    job = context.store.get(context.ids[label])
    assert job.worker_id is None and job.started_at is None, job


@when('I cancel job "{label}"')
def step_cancel(context: Any, label: str) -> None:
    context.error = None
    try:
        context.cancel_result = context.store.cancel(context.ids[label], context.clock())
    except AgentsError as exc:
        context.error = exc


@then("the cancel is refused as a conflict")
def step_cancel_refused(context: Any) -> None:
    assert context.error is not None and context.error.exit_code == 3, context.error
    assert "cannot be cancelled" in context.error.message


@then('job "{label}" has a cancel request')
def step_cancel_requested(context: Any, label: str) -> None:
    assert context.store.get(context.ids[label]).cancel_requested


@then('the token of job "{label}" on worker "{name}" is cancelled for {reason}')
def step_token(context: Any, label: str, name: str, reason: str) -> None:
    (entry,) = context.workers[name].slots.entries({context.ids[label]})
    assert entry.token.reason == CancelReason(reason), entry.token.reason


@when('worker "{name}" shuts down')
def step_shutdown(context: Any, name: str) -> None:
    context.workers[name].shutdown()


@when('worker "{name}" is asked to stop')
def step_stop(context: Any, name: str) -> None:
    context.workers[name].stop()


@when('worker "{name}" runs in burst mode')
def step_burst(context: Any, name: str) -> None:
    worker = context.workers[name]
    done = threading.Event()
    thread = threading.Thread(target=lambda: (worker.run(burst=True), done.set()))
    thread.start()
    assert done.wait(DEADLINE_S), "burst run did not end"
    thread.join()


@given('worker "{name}" runs in the background with {threads:d} threads')
def step_background(context: Any, name: str, threads: int) -> None:
    # An hour between polls, far past DEADLINE_S: a job it runs within the deadline was picked
    # up because the worker noticed it, never by a poll that came round.
    _background(context, name, threads, poll_interval=3600.0)


@given(
    'worker "{name}" runs in the background with {threads:d} threads, '
    "polling every {seconds:g} seconds, its first queue pass failing with a database error"
)
def step_background_first_pass_fails(context: Any, name: str, threads: int, seconds: float) -> None:
    _capture_worker_logs(context)
    _background(context, name, threads, poll_interval=seconds, fail_first_pass=True)


def _background(
    context: Any, name: str, threads: int, poll_interval: float, fail_first_pass: bool = False
) -> None:
    worker = make_worker(context, name, max_workers=threads, poll_interval=poll_interval)
    if fail_first_pass:  # armed before the loop starts, so no pass can slip in first
        real = worker.run_once

        def fail_once(now: Any = None) -> int:
            worker.run_once = real  # type: ignore[method-assign]
            raise StoreError("database is locked (injected)")

        worker.run_once = fail_once  # type: ignore[method-assign]
    context.clock = context.clock  # the real loop stamps times with the scenario clock
    thread = threading.Thread(target=worker.run, name=f"worker-{name}")
    thread.start()
    context.threads = {**getattr(context, "threads", {}), name: thread}
    wait_until(lambda: worker._started, "the worker to start")


@then('the background worker "{name}" stops within the deadline')
def step_background_stops(context: Any, name: str) -> None:
    thread = context.threads[name]
    thread.join(DEADLINE_S)
    assert not thread.is_alive(), "worker did not stop"


@when('I wait for job "{label}" to finish')
def step_wait(context: Any, label: str) -> None:
    context.waited = context.queue.wait(context.ids[label], timeout=DEADLINE_S)


@when('I wait for job "{label}" for {seconds:g} seconds')
def step_wait_timeout(context: Any, label: str, seconds: float) -> None:
    context.waited = context.queue.wait(context.ids[label], timeout=seconds)


@then("the wait returned a {status:Status} job")
def step_waited(context: Any, status: str) -> None:
    assert context.waited.status == JobStatus(status), context.waited


@given('{count:d} "{kind}" jobs finished {days:d} days ago')
def step_old_jobs(context: Any, count: int, kind: str, days: int) -> None:
    store = JobStore(open_db(context))
    ids = context.queue.enqueue_many([context.queue.build(kind, {})] * count)
    jobs, _ = store.claim("old-worker", context.clock(), count)
    assert len(jobs) == count
    finished = context.clock() - timedelta(days=days)
    store.record_outcomes(
        "old-worker",
        [
            JobOutcome(
                job_id=j.id, attempt=j.attempts, status=JobStatus.SUCCEEDED, finished_at=finished
            )
            for j in jobs
        ],
    )
    context.old_ids = {**getattr(context, "old_ids", {}), days: ids}


@when("finished jobs older than {days:d} days are pruned in batches of {batch:d}")
def step_prune(context: Any, days: int, batch: int) -> None:
    context.pruned = context.store.prune(context.clock() - timedelta(days=days), batch=batch)


@then("{n:d} jobs were pruned")
def step_pruned(context: Any, n: int) -> None:
    assert context.pruned == n, context.pruned


@then("the jobs finished {days:d} days ago are {state}")
def step_old_state(context: Any, days: int, state: str) -> None:
    counts = {"gone": 0, "kept": len(context.old_ids[days])}
    present = sum(1 for i in context.old_ids[days] if _exists(context, i))
    assert present == counts[state], present


def _exists(context: Any, job_id: str) -> bool:
    try:
        context.store.get(job_id)
    except AgentsError:
        return False
    return True


@when('worker "{name}" heartbeat thread breaks')
def step_break_heartbeat(context: Any, name: str) -> None:
    worker = context.workers[name]

    def broken(now: Any = None) -> None:
        raise RuntimeError("disk on fire")

    worker.upkeep.beat = broken  # type: ignore[method-assign]


@then('worker "{name}" stopped because of "{text}"')
def step_fatal(context: Any, name: str, text: str) -> None:
    worker = context.workers[name]
    wait_until(lambda: worker.fatal_error is not None, "the heartbeat thread to die")
    assert text in str(worker.fatal_error)
    wait_until(lambda: not context.threads[name].is_alive(), "the worker to stop")


@when('worker "{name}" gives stopped jobs {seconds:g} seconds to return')
def step_token_wait(context: Any, name: str, seconds: float) -> None:
    context.workers[name].token_wait_s = seconds


@then('worker "{name}" has {n:d} thread that did not stop')
def step_unfinished(context: Any, name: str, n: int) -> None:
    assert context.workers[name].unfinished_threads == n


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@given('worker "{name}" runs in the background on a database that gives up on locks quickly')
def step_background_impatient(context: Any, name: str) -> None:
    _background_impatient(context, name, poll_interval=0.02)  # passes retried quickly


@when('worker "{name}" receives {signame}')
def step_signal_flag(context: Any, name: str, signame: str) -> None:
    context.workers[name].request_stop(signame)  # what the signal handler does: a flag only


def _capture_worker_logs(context: Any) -> None:
    records = _Records()
    logger = logging.getLogger("cleveragents.worker")
    logger.addHandler(records)
    context.cleanups.append(lambda: logger.removeHandler(records))
    context.log_records = records


def _background_impatient(context: Any, name: str, poll_interval: float) -> None:
    _capture_worker_logs(context)
    worker = make_worker(
        context,
        name,
        busy_timeout_ms=20,
        max_workers=1,
        poll_interval=poll_interval,
        heartbeat_interval=0.05,
        stale_after=30,
    )
    thread = threading.Thread(target=worker.run, name=f"worker-{name}")
    thread.start()
    context.threads = {**getattr(context, "threads", {}), name: thread}
    # Not just `_started`: start() goes on with lock clean-up and housekeeping (writes) and
    # starts the heartbeat last; a write lock taken before that would hit start-up, not the loop.
    wait_until(lambda: worker.upkeep.started, "the worker to finish starting")


@when("another process holds the database write lock")
def step_hold_lock(context: Any) -> None:
    path = context.db_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    context.lock_holder = holder
    context.cleanups.append(holder.close)


@then('the worker logs "{text}"')
def step_logged(context: Any, text: str) -> None:
    wait_until(
        lambda: any(text in m for m in context.log_records.messages), f"a log line with {text!r}"
    )


@when("the lock is released")
def step_release_lock(context: Any) -> None:
    context.lock_holder.rollback()


@when('worker "{name}" starts on the host and with the pid worker "{old}" had, with stale_after=30')
def step_worker_restarted(context: Any, name: str, old: str) -> None:
    from cleveragents.worker.worker import AsyncWorker

    before = context.workers[old]
    worker = AsyncWorker(
        open_db(context),
        settings(max_workers=1, stale_after=30),
        registry=context.registry,
        clock=context.clock,
        hostname=before.hostname,
        pid=before.pid,
    )
    context.workers[name] = worker
    worker.start(now=context.clock(), heartbeat=False)


@then('worker "{name}" has an id of its own, not worker "{old}"\'s')
def step_new_identity(context: Any, name: str, old: str) -> None:
    new, before = context.workers[name], context.workers[old]
    assert (new.hostname, new.pid) == (before.hostname, before.pid)
    assert new.id != before.id, new.id


@given('the next clean-up of expired locks fails with "{message}"')
def step_cleanup_fails(context: Any, message: str) -> None:
    from cleveragents.errors import DatabaseUnavailableError
    from cleveragents.store.locks import LockService

    real = LockService.cleanup_expired

    def fail_once(self: LockService, now: Any) -> int:
        LockService.cleanup_expired = real  # type: ignore[method-assign]
        raise DatabaseUnavailableError(message)

    LockService.cleanup_expired = fail_once  # type: ignore[method-assign]
    context.cleanups.append(lambda: setattr(LockService, "cleanup_expired", real))
    _capture_worker_logs(context)


@when('worker "{name}" runs one pass that began {seconds:d} seconds ago')
def step_late_pass(context: Any, name: str, seconds: int) -> None:
    # What a pass that waited (for the write lock, a connection, the CPU) before its claim sees.
    context.claimed_count = context.workers[name].run_once(
        context.clock() - timedelta(seconds=seconds)
    )


@then('job "{label}" started now')
def step_job_started_now(context: Any, label: str) -> None:
    job = context.store.get(context.ids[label])
    assert job.started_at == context.clock(), (job.started_at, context.clock())
