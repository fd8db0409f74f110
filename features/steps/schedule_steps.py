"""Steps about schedules: slots on an injected clock, workers racing over them, catch-up after
downtime, time zones, and the worker's own check."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from behave import given, then, when
from helpers import DEADLINE_S, open_db

from cleveragents.domain.schedules import CatchUp, Schedule
from cleveragents.store.schedules import ScheduleStore


def _store(context: Any) -> ScheduleStore:
    if not hasattr(context, "schedule_store"):
        context.schedule_store = ScheduleStore(context.db)
    store: ScheduleStore = context.schedule_store
    return store


def _add(context: Any, name: str, kind: str, **when: Any) -> None:
    now = context.clock()
    payload = context.queue.build(kind, {}).payload
    schedule = Schedule(
        name=name, kind=kind, payload=payload, created_at=now, next_run_at=now, **when
    )
    _store(context).add(schedule)


@given('a schedule "{name}" of "{kind}" jobs every {seconds:g} seconds')
@given('a schedule "{name}" of "{kind}" jobs every {seconds:g} seconds, catching up "{catch_up}"')
def step_every(
    context: Any, name: str, kind: str, seconds: float, catch_up: str = "latest"
) -> None:
    _add(context, name, kind, every_s=seconds, catch_up=CatchUp(catch_up))


@given('a schedule "{name}" of "{kind}" jobs on cron "{cron}" in "{zone}"')
def step_cron(context: Any, name: str, kind: str, cron: str, zone: str) -> None:
    _add(context, name, kind, cron=cron, timezone=zone)


@given("the clock is at {moment}")
@when("the clock is at {moment}")
def step_clock_at(context: Any, moment: str) -> None:
    context.clock.now = datetime.fromisoformat(moment.replace("Z", "+00:00"))


@when("due schedules are enqueued")
def step_enqueue_due(context: Any) -> None:
    context.due_report = _store(context).enqueue_due(context.clock())
    context.enqueued = context.due_report.enqueued


@then("{n:d} scheduled jobs were enqueued")
def step_enqueued_count(context: Any, n: int) -> None:
    assert len(context.enqueued) == n, context.enqueued


@then("the scheduled job was for the slot {moment}")
def step_enqueued_slot(context: Any, moment: str) -> None:
    slots = [slot for _, slot, _ in context.enqueued]
    wanted = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    assert slots == [wanted], slots


@then('schedule "{name}" runs next at {moment}')
def step_next_run(context: Any, name: str, moment: str) -> None:
    wanted = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    found = _store(context).get(name).next_run_at
    assert found == wanted, found


@when("{workers:d} workers race over the next {slots:d} slots, one second apart")
def step_race(context: Any, workers: int, slots: int) -> None:
    """Each round moves the clock a second on, then every racer checks at that same moment."""
    stores = [ScheduleStore(open_db(context)) for _ in range(workers)]
    start = context.clock()
    barrier = threading.Barrier(workers)
    context.enqueued = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def racer(store: ScheduleStore) -> None:
        try:
            for k in range(1, slots + 1):
                barrier.wait(DEADLINE_S)
                got = store.enqueue_due(start + timedelta(seconds=k)).enqueued
                with lock:
                    context.enqueued.extend(got)
        except BaseException as exc:  # reported below, on the step's thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=racer, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_S * 10)
    assert not errors, errors
    context.clock.now = start + timedelta(seconds=slots)


@then("every one of the {slots:d} slots has exactly one job, and the queue holds just those")
def step_one_per_slot(context: Any, slots: int) -> None:
    found = [slot for _, slot, _ in context.enqueued]
    assert len(found) == slots and len(set(found)) == slots, (len(found), len(set(found)))
    job_ids = {job_id for _, _, job_id in context.enqueued}
    assert len(context.store.find(limit=100_000)) == slots == len(job_ids)


@when('schedule "{name}" is paused')
def step_pause(context: Any, name: str) -> None:
    _store(context).set_paused(name, True, context.clock())


@when('schedule "{name}" is resumed')
def step_resume(context: Any, name: str) -> None:
    _store(context).set_paused(name, False, context.clock())


@given('worker "{name}" counts its schedule checks')
def step_count_checks(context: Any, name: str) -> None:
    worker = context.workers[name]
    real = worker.schedule_check.store.enqueue_due
    context.schedule_checks = 0

    def counted(now: datetime) -> Any:
        context.schedule_checks += 1
        return real(now)

    worker.schedule_check.store.enqueue_due = counted  # type: ignore[method-assign]


@then("the worker checked the schedules {n:d} times")
def step_checks(context: Any, n: int) -> None:
    assert context.schedule_checks == n, context.schedule_checks


@given('the time zone of schedule "{name}" is "{zone}" in the database')
def step_zone_in_db(context: Any, name: str, zone: str) -> None:
    from helpers import execute_sql

    sql = "UPDATE schedules SET timezone = :zone WHERE name = :name"
    execute_sql(context, sql, {"zone": zone, "name": name})


@then('schedule "{name}" was paused because "{text}"')
def step_paused_because(context: Any, name: str, text: str) -> None:
    reasons = dict(context.due_report.paused)
    assert name in reasons and text in reasons[name], context.due_report
    assert _store(context).get(name).paused
