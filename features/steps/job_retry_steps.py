"""Steps about retries of failed jobs: backoff bounds on an injected clock, the attempt history,
and what counts against retries and against max_attempts."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from behave import given, then, when
from cli_steps import document
from helpers import DEADLINE_S

from cleveragents.domain.jobs import AttemptOutcome, JobStatus


@given('a "{kind}" job "{label}" with {retries:d} retries and a backoff of {backoff:g} s')
@given(
    'a "{kind}" job "{label}" with {retries:d} retries, a backoff of {backoff:g} s'
    " and max attempts {attempts:d}"
)
def step_enqueue_retries(
    context: Any, kind: str, label: str, retries: int, backoff: float, attempts: int = 3
) -> None:
    payload = {"name": label} if kind in ("gate", "failing_gate") else {}
    job = context.queue.enqueue(
        kind, payload, retries=retries, backoff_s=backoff, max_attempts=attempts
    )
    context.ids[label] = job.id


@given('{count:d} "{kind}" jobs with {retries:d} retries and a backoff of {backoff:g} s')
def step_enqueue_many_retries(
    context: Any, count: int, kind: str, retries: int, backoff: float
) -> None:
    template = context.queue.build(kind, {}, retries=retries, backoff_s=backoff)
    context.bulk_ids = context.queue.enqueue_many([template] * count)


@when('worker "{name}" runs job "{label}" until it ends, claiming it only once it is due')
def step_run_until_done(context: Any, name: str, label: str) -> None:
    """Each round: a queued job is not claimed a millisecond before its time, and is at its
    time. (A retry due at once is claimed again by the very pass that recorded the failure.)"""
    worker, job_id = context.workers[name], context.ids[label]
    context.waits = []
    for _ in range(200):
        job = context.store.get(job_id)
        if job.status.is_terminal:
            return
        if job.status == JobStatus.QUEUED:
            context.clock.now = max(context.clock.now, job.run_after) - timedelta(milliseconds=1)
            assert worker.run_once(context.clock()) == 0, "claimed before its time"
            context.clock.now = job.run_after
            assert worker.run_once(context.clock()) == 1, "not claimed at its time"
        assert worker.wait_for_outcomes(DEADLINE_S), "the run did not finish"
        worker.run_once(context.clock())
        after = context.store.get(job_id)
        if not after.status.is_terminal:
            context.waits.append((after.run_after - context.clock()).total_seconds())
    raise AssertionError("the job never ended")


@then("the waits before its retries were at most {bounds}")
def step_wait_bounds(context: Any, bounds: str) -> None:
    limits = [float(b) for b in bounds.replace(" and ", ", ").split(", ")]
    assert len(context.waits) == len(limits), context.waits
    for wait, limit in zip(context.waits, limits, strict=True):
        assert 0 <= wait <= limit, (context.waits, limits)


@then('job "{label}" kept {n:d} failed attempts, each with error "{text}", the last one final')
def step_history(context: Any, label: str, n: int, text: str) -> None:
    history = context.store.history(context.ids[label])
    assert [a.attempt for a in history] == list(range(1, n + 1)), history
    assert all(a.outcome is AttemptOutcome.FAILED for a in history), history
    assert all(a.error_message and text in a.error_message for a in history), history
    assert all(a.retry_at is not None for a in history[:-1]) and history[-1].retry_at is None


@then('job "{label}" kept no attempts')
def step_no_history(context: Any, label: str) -> None:
    assert context.store.history(context.ids[label]) == []


@then('job "{label}" kept a lost attempt {attempt:d} saying "{text}"')
def step_lost(context: Any, label: str, attempt: int, text: str) -> None:
    history = context.store.history(context.ids[label])
    lost = [a for a in history if a.outcome is AttemptOutcome.LOST]
    assert [a.attempt for a in lost] == [attempt], history
    assert lost[0].error_message and text in lost[0].error_message, lost[0]


@when('worker "{name}" runs every failed bulk job once')
def step_run_bulk_once(context: Any, name: str) -> None:
    worker = context.workers[name]
    while worker.run_once(context.clock()):
        assert worker.wait_for_outcomes(DEADLINE_S), "the runs did not finish"
    assert worker.wait_for_outcomes(DEADLINE_S), "the runs did not finish"
    worker.run_once(context.clock())


@then("their retries wait between 0 and {limit:g} seconds, spread over that range")
def step_spread(context: Any, limit: float) -> None:
    waits = []
    for job_id in context.bulk_ids:
        job = context.store.get(job_id)
        assert job.status == JobStatus.QUEUED and job.failures == 1, job
        waits.append((job.run_after - context.clock()).total_seconds())
    assert all(0 <= w <= limit for w in waits), (min(waits), max(waits))
    # Full jitter, not a fixed delay: with 100 uniform draws, each quarter of the range is hit
    # unless something is wrong (the chance otherwise is below 1e-12).
    quarters = {min(int(w / limit * 4), 3) for w in waits}
    assert quarters == {0, 1, 2, 3}, sorted(waits)


@then('the JSON document\'s "{field}" holds {n:d} items')
def step_json_items(context: Any, field: str, n: int) -> None:
    items = document(context)[field]
    assert isinstance(items, list) and len(items) == n, json.dumps(items)
