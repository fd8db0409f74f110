"""Steps about the queue itself: enqueue, validation, claim order, races, statuses."""

from __future__ import annotations

import json
import threading
from typing import Any

from behave import given, then, when
from helpers import FakeClock, open_db, test_registry

from cleveragents.domain.jobs import JobStatus, check_transition
from cleveragents.errors import AgentsError
from cleveragents.store.jobs import JobStore
from cleveragents.worker.queue import JobQueue


@given("a job queue in a temporary database")
def step_queue(context: Any) -> None:
    context.clock = FakeClock()
    context.gates = {}
    context.started = {}
    context.workers = {}
    context.registry = test_registry(context.gates, context.started)
    context.db = open_db(context)
    context.queue = JobQueue(context.db, context.registry, clock=context.clock)
    context.store = JobStore(context.db)
    context.ids = {}
    context.error = None


def _enqueue(context: Any, kind: str, payload: str, **options: Any) -> None:
    context.error = None
    try:
        job = context.queue.enqueue(kind, json.loads(payload), **options)
    except AgentsError as exc:
        context.error = exc
        return
    context.last_id = job.id


@given('a "{kind}" job "{label}" with payload \'{payload}\'')
@when('I enqueue a "{kind}" job "{label}" with payload \'{payload}\'')
def step_enqueue_labelled(context: Any, kind: str, label: str, payload: str) -> None:
    _enqueue(context, kind, payload)
    assert context.error is None, context.error
    context.ids[label] = context.last_id


@given('a "{kind}" job "{label}" with payload \'{payload}\' and max attempts {n:d}')
def step_enqueue_attempts(context: Any, kind: str, label: str, payload: str, n: int) -> None:
    _enqueue(context, kind, payload, max_attempts=n)
    context.ids[label] = context.last_id


@given('a "{kind}" job "{label}" with priority {priority:d}')
def step_enqueue_priority(context: Any, kind: str, label: str, priority: int) -> None:
    _enqueue(context, kind, "{}", priority=priority)
    context.ids[label] = context.last_id


@given('{count:d} queued "{kind}" jobs')
@when('I enqueue {count:d} "{kind}" jobs in bulk')
def step_bulk(context: Any, count: int, kind: str) -> None:
    job = context.queue.build(kind, {})
    context.bulk_ids = context.queue.enqueue_many([job] * count)


@when("I try to enqueue a \"{kind}\" job with payload '{payload}'")
def step_try_enqueue(context: Any, kind: str, payload: str) -> None:
    _enqueue(context, kind, payload)


@when('I try to enqueue a "{kind}" job with priority {priority:d}')
def step_try_priority(context: Any, kind: str, priority: int) -> None:
    _enqueue(context, kind, "{}", priority=priority)


@when('I try to enqueue a "{kind}" job with max attempts {n:d}')
def step_try_attempts(context: Any, kind: str, n: int) -> None:
    _enqueue(context, kind, "{}", max_attempts=n)


@then('it is refused with "{text}"')
def step_refused(context: Any, text: str) -> None:
    assert context.error is not None, "expected an error"
    assert text in context.error.message, context.error.message
    assert context.error.exit_code == 2


@then("the queue holds {count:d} jobs")
def step_count(context: Any, count: int) -> None:
    total = sum(context.store.count_by_status().values())
    assert total == count, total


@then('job "{label}" is {status:Status}')
def step_status(context: Any, label: str, status: str) -> None:
    job = context.store.get(context.ids[label])
    assert job.status == JobStatus(status), f"{job.status} (error: {job.error_message})"


@then('job "{label}" has {n:d} attempts')
def step_attempts(context: Any, label: str, n: int) -> None:
    job = context.store.get(context.ids[label])
    assert job.attempts == n, job.attempts


@then('job "{label}" has error "{text}"')
def step_error(context: Any, label: str, text: str) -> None:
    job = context.store.get(context.ids[label])
    assert job.error_message is not None and text in job.error_message, job.error_message


@then('job "{label}" has no error')
def step_no_error(context: Any, label: str) -> None:
    job = context.store.get(context.ids[label])
    assert job.error_message is None, job.error_message


@then('job "{label}" has result field "{field}" equal to {value}')
def step_result_field(context: Any, label: str, field: str, value: str) -> None:
    result = context.store.get(context.ids[label]).result
    assert result[field] == json.loads(value), result


@then('job "{label}" has result field "{field}" containing "{text}"')
def step_result_contains(context: Any, label: str, field: str, text: str) -> None:
    result = context.store.get(context.ids[label]).result
    assert text in result[field], result


@then('job "{label}" has result field "{field}" not containing "{text}"')
def step_result_not_contains(context: Any, label: str, field: str, text: str) -> None:
    result = context.store.get(context.ids[label]).result
    assert text not in result[field], result


@then("job \"{label}\" is stored with payload '{payload}'")
def step_payload(context: Any, label: str, payload: str) -> None:
    job = context.store.get(context.ids[label])
    assert job.payload == json.loads(payload), job.payload


@then("the bulk jobs are all queued in the order they were given")
def step_bulk_order(context: Any) -> None:
    assert context.bulk_ids == sorted(context.bulk_ids)
    assert len(set(context.bulk_ids)) == len(context.bulk_ids)
    queued = context.store.count_by_status()[JobStatus.QUEUED]
    assert queued == len(context.bulk_ids), queued


@when("{threads:d} threads race to claim {per_claim:d} jobs at a time until the queue is empty")
def step_race(context: Any, threads: int, per_claim: int) -> None:
    claimed: dict[str, list[str]] = {}
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def claimer(n: int) -> None:
        store = JobStore(open_db(context))
        mine = claimed.setdefault(f"t{n}", [])
        try:
            barrier.wait()
            while True:
                jobs, _ = store.claim(f"racer-{n}", context.clock(), per_claim)
                if not jobs:
                    return
                mine.extend(job.id for job in jobs)
        except BaseException as exc:
            errors.append(exc)

    racers = [threading.Thread(target=claimer, args=(n,)) for n in range(threads)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert not errors, errors
    context.claimed = claimed


@then("every job was claimed exactly once")
def step_exactly_once(context: Any) -> None:
    every = [job_id for ids in context.claimed.values() for job_id in ids]
    assert len(every) == len(set(every)), "a job was claimed twice"
    assert sorted(every) == sorted(context.bulk_ids), (len(every), len(context.bulk_ids))
    busy = [name for name, ids in context.claimed.items() if ids]
    assert len(busy) > 1, f"only {busy} claimed anything: the race did not happen"


@when("a worker claims {n:d} jobs")
def step_claim_n(context: Any, n: int) -> None:
    jobs, _ = context.store.claim("claimer", context.clock(), n)
    context.claimed_jobs = jobs


@then("the claimed jobs are {labels}")
def step_claimed_labels(context: Any, labels: str) -> None:
    wanted = [context.ids[label.strip()] for label in labels.split(",")]
    got = [job.id for job in context.claimed_jobs]
    assert got == wanted, (got, wanted)


@then("no job is claimed")
def step_none_claimed(context: Any) -> None:
    assert context.claimed_jobs == [], context.claimed_jobs


@given('job "{label}" may run only after {seconds:d} seconds')
def step_delay(context: Any, label: str, seconds: int) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from cleveragents.store.tables import async_jobs

    with context.db.write() as conn:
        conn.execute(
            update(async_jobs)
            .where(async_jobs.c.id == context.ids[label])
            .values(run_after=context.clock() + timedelta(seconds=seconds))
        )


@given('a job row "{label}" of unknown kind "{kind}" written by another version')
def step_unknown_row(context: Any, label: str, kind: str) -> None:
    from cleveragents.domain.jobs import NewJob

    context.ids[label] = context.store.enqueue(NewJob(kind=kind, payload={}), context.clock()).id


@given('a job row "{label}" of kind "{kind}" with payload \'{payload}\' written by another version')
def step_bad_row(context: Any, label: str, kind: str, payload: str) -> None:
    from cleveragents.domain.jobs import NewJob

    job = NewJob(kind=kind, payload=json.loads(payload))
    context.ids[label] = context.store.enqueue(job, context.clock()).id


@then("a job may go from {current} to {target}")
def step_allowed(context: Any, current: str, target: str) -> None:
    check_transition(JobStatus(current), JobStatus(target))


@then("a job may not go from {current} to {target}")
def step_refused_transition(context: Any, current: str, target: str) -> None:
    try:
        check_transition(JobStatus(current), JobStatus(target), "J1")
    except AgentsError as exc:
        assert exc.exit_code == 3
        assert f"from {current} to {target}" in exc.message, exc.message
    else:
        raise AssertionError(f"{current} -> {target} was allowed")


@then("a job enqueued alone and one enqueued in bulk are stored byte for byte alike")
def step_bulk_same_row(context: Any) -> None:
    from sqlalchemy import text

    alone = context.queue.enqueue("sleep", {"seconds": 1.5}).id
    (bulk,) = context.queue.enqueue_many([context.queue.build("sleep", {"seconds": 1.5})])
    db = open_db(context)
    with db.engine.connect() as conn:  # the stored values as the database holds them
        rows = [
            tuple(
                conn.execute(text("SELECT * FROM async_jobs WHERE id = :id"), {"id": job_id}).one()[
                    1:
                ]
            )
            for job_id in (alone, bulk)
        ]
    assert rows[0] == rows[1], rows
