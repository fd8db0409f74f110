"""Steps for plan and project locks: LockService on an injected clock, a race of threads, dead and
live holders, a run that loses its lock, and the `agents locks` commands."""

from __future__ import annotations

import json
import os
import threading
from datetime import timedelta
from typing import Any

import parse
from behave import given, register_type, then, when
from helpers import DEADLINE_S, T0, FakeClock, open_db
from plan_helpers import plan_store, start_background_execution, the_plan_id
from sqlalchemy import event

from cleveragents.domain.clock import utcnow
from cleveragents.domain.locks import Lock, ResourceType
from cleveragents.domain.owners import this_host
from cleveragents.errors import AgentsError, LockConflictError
from cleveragents.plans.locking import LockRenewer, acquire_plan_lock
from cleveragents.store.locks import LockService


@parse.with_pattern(r"plan|project")
def _lock_kind(text: str) -> ResourceType:
    return ResourceType(text)


register_type(LockKind=_lock_kind)

GONE_PID = 999_999_999  # no process has this pid


def service(context: Any) -> LockService:
    """The scenario's LockService, on a Database object of its own."""
    if not hasattr(context, "lock_service"):
        context.lock_service = LockService(open_db(context))
    return context.lock_service  # type: ignore[no-any-return]


def now(context: Any) -> Any:
    return context.clock()


def offset(moment: Any) -> float:
    """Seconds after the fake clock's start."""
    return (moment - T0).total_seconds()


def attempt(context: Any, call: Any) -> None:
    """Run a LockService call; remember what it returned or raised."""
    context.lock_error = None
    context.lock_result = None
    try:
        context.lock_result = call()
    except AgentsError as exc:
        context.lock_error = exc


# -- setting up ---------------------------------------------------------------------------------
@given("a lock service on a fake clock")
def step_fake_clock_service(context: Any) -> None:
    context.clock = FakeClock()
    service(context)


@given("a lock service on the wall clock")
def step_wall_clock_service(context: Any) -> None:
    context.clock = utcnow
    service(context)


@given('"{owner}" holds the {kind:LockKind} lock "{rid}" for {ttl:g} seconds')
@when('"{owner}" holds the {kind:LockKind} lock "{rid}" for {ttl:g} seconds')
def step_holds(context: Any, owner: str, kind: ResourceType, rid: str, ttl: float) -> None:
    service(context).acquire(kind, rid, owner, ttl, now(context))


@given('"{owner}" held the {kind:LockKind} lock "{rid}" for {ttl:g} seconds an hour ago')
def step_held_long_ago(context: Any, owner: str, kind: ResourceType, rid: str, ttl: float) -> None:
    service(context).acquire(kind, rid, owner, ttl, now(context) - timedelta(hours=1))


@given('"{owner}" holds {plans:d} plan locks and {projects:d} project locks for {ttl:g} seconds')
def step_holds_many(context: Any, owner: str, plans: int, projects: int, ttl: float) -> None:
    locks = service(context)
    for n in range(plans):
        locks.acquire(ResourceType.PLAN, f"bulk-plan-{n}", owner, ttl, now(context))
    for n in range(projects):
        locks.acquire(ResourceType.PROJECT, f"bulk-project-{n}", owner, ttl, now(context))


@given('the plan lock "{rid}" is held for {ttl:g} seconds by a process of this host that is gone')
def step_dead_holder(context: Any, rid: str, ttl: float) -> None:
    owner = f"{this_host()}:{GONE_PID}:x"
    service(context).acquire(ResourceType.PLAN, rid, owner, ttl, now(context))


@given('the plan lock "{rid}" is held for {ttl:g} seconds by this process under another nonce')
def step_live_holder(context: Any, rid: str, ttl: float) -> None:
    owner = f"{this_host()}:{os.getpid()}:othernonce"
    service(context).acquire(ResourceType.PLAN, rid, owner, ttl, now(context))


# -- the verbs ----------------------------------------------------------------------------------
@when('"{owner}" acquires the {kind:LockKind} lock "{rid}" for {ttl:g} seconds')
def step_acquire(context: Any, owner: str, kind: ResourceType, rid: str, ttl: float) -> None:
    attempt(context, lambda: service(context).acquire(kind, rid, owner, ttl, now(context)))


@when('"{owner}" takes the plan lock "{rid}" for its run for {ttl:g} seconds')
def step_acquire_plan_lock(context: Any, owner: str, rid: str, ttl: float) -> None:
    attempt(context, lambda: acquire_plan_lock(service(context), rid, owner, ttl, now(context)))


@when('"{owner}" renews the {kind:LockKind} lock "{rid}" for {ttl:g} seconds')
def step_renew(context: Any, owner: str, kind: ResourceType, rid: str, ttl: float) -> None:
    attempt(context, lambda: service(context).renew(kind, rid, owner, ttl, now(context)))


@when('"{owner}" renews all its locks, plans for {plan_ttl:g} s and projects for {project_ttl:g} s')
def step_renew_all(context: Any, owner: str, plan_ttl: float, project_ttl: float) -> None:
    locks = service(context)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    ttl = {ResourceType.PLAN: plan_ttl, ResourceType.PROJECT: project_ttl}
    event.listen(locks.db.engine, "before_cursor_execute", seen)
    try:
        attempt(context, lambda: locks.renew_all(owner, ttl, now(context)))
    finally:
        event.remove(locks.db.engine, "before_cursor_execute", seen)
    context.lock_statements = [s for s in statements if not s.upper().startswith("BEGIN")]


@when('"{owner}" releases the {kind:LockKind} lock "{rid}"')
def step_release(context: Any, owner: str, kind: ResourceType, rid: str) -> None:
    attempt(context, lambda: service(context).release(kind, rid, owner))


@when('"{owner}" releases all its locks')
def step_release_all(context: Any, owner: str) -> None:
    attempt(context, lambda: service(context).release_all_for_owner(owner))


@when("expired locks are cleaned up")
def step_cleanup(context: Any) -> None:
    attempt(context, lambda: service(context).cleanup_expired(now(context)))


def _renewer(context: Any, owner: str, rid: str, ttl: float) -> LockRenewer:
    """The scenario's renewer (made once), on its fake clocks, recording its lost calls."""
    if getattr(context, "renewer", None) is None:
        context.lost_calls = []
        context.mono = [1000.0]
        context.renewer = LockRenewer(
            service(context),
            ResourceType.PLAN,
            rid,
            owner,
            ttl,
            context.clock,
            on_lost=context.lost_calls.append,
            monotonic=lambda: context.mono[0],
        )
    return context.renewer


@when('the renewer of "{owner}" for the plan lock "{rid}" with a TTL of {ttl:g} s renews once')
def step_renewer_once(context: Any, owner: str, rid: str, ttl: float) -> None:
    context.renewed = _renewer(context, owner, rid, ttl).renew_once()


@when(
    'the renewer of "{owner}" for the plan lock "{rid}" with a TTL of {ttl:g} s has not renewed'
    " for {silent:g} seconds"
)
def step_renewer_silent(context: Any, owner: str, rid: str, ttl: float, silent: float) -> None:
    renewer = _renewer(context, owner, rid, ttl)
    context.mono[0] = 1000.0 + silent
    context.renewed = not renewer.check_silence()


# -- outcomes -----------------------------------------------------------------------------------
@then("the lock call returned {value}")
def step_returned(context: Any, value: str) -> None:
    assert context.lock_error is None, context.lock_error
    assert context.lock_result == json.loads(value), context.lock_result


@then('the lock call raised {error} saying "{text}"')
def step_raised(context: Any, error: str, text: str) -> None:
    exc = context.lock_error
    assert exc is not None, f"no error; it returned {context.lock_result!r}"
    assert type(exc).__name__ == error, (type(exc).__name__, exc.message)
    assert text in exc.message, exc.message
    assert "\n" not in exc.message, exc.message


@then("the conflict names this host and this process's pid")
def step_conflict_names_me(context: Any) -> None:
    exc = context.lock_error
    assert isinstance(exc, LockConflictError), exc
    expected = f"{this_host()}:{os.getpid()}:othernonce (host {this_host()}, pid {os.getpid()})"
    assert expected in exc.message, exc.message


@then(
    'the {kind:LockKind} lock "{rid}" belongs to "{owner}", '
    "acquired at {acquired:g} s and expiring at {expires:g} s"
)
def step_belongs(
    context: Any, kind: ResourceType, rid: str, owner: str, acquired: float, expires: float
) -> None:
    lock = service(context).get(kind, rid)
    assert lock is not None, f"no lock on {kind} {rid}"
    seen = (lock.owner_id, offset(lock.acquired_at), offset(lock.expires_at))
    assert seen == (owner, acquired, expires), seen


@then('the {kind:LockKind} lock "{rid}" belongs to "{owner}"')
def step_belongs_only(context: Any, kind: ResourceType, rid: str, owner: str) -> None:
    lock = service(context).get(kind, rid)
    assert lock is not None and lock.owner_id == owner, lock


@then('the {kind:LockKind} lock "{rid}" is locked now')
def step_is_locked(context: Any, kind: ResourceType, rid: str) -> None:
    assert service(context).is_locked(kind, rid, now(context))


@then('the {kind:LockKind} lock "{rid}" is free now')
def step_is_free(context: Any, kind: ResourceType, rid: str) -> None:
    assert not service(context).is_locked(kind, rid, now(context))


@then('there is no {kind:LockKind} lock "{rid}"')
def step_no_lock(context: Any, kind: ResourceType, rid: str) -> None:
    lock = service(context).get(kind, rid)
    assert lock is None, lock


@then("the stale lock count is {n:d}")
def step_stale_count(context: Any, n: int) -> None:
    assert service(context).count_stale(now(context)) == n


@then("the locks table holds {n:d} locks")
def step_table_holds(context: Any, n: int) -> None:
    found = service(context).find()
    assert len(found) == n, [(lock.resource_type, lock.resource_id) for lock in found]


@then("renewing them took one statement")
def step_one_statement(context: Any) -> None:
    # PostgreSQL: the transaction's NOTIFY (see engine.py) is not a statement on the locks.
    statements = [sql for sql in context.lock_statements if not sql.startswith("NOTIFY")]
    assert len(statements) == 1, statements
    assert statements[0].upper().startswith("UPDATE"), statements


@then(
    'every bulk lock of "{owner}" expires at {plan_at:g} s for plans '
    "and {project_at:g} s for projects"
)
def step_bulk_expiry(context: Any, owner: str, plan_at: float, project_at: float) -> None:
    bulk = [lock for lock in service(context).find() if lock.resource_id.startswith("bulk-")]
    assert bulk
    wanted = {ResourceType.PLAN: plan_at, ResourceType.PROJECT: project_at}
    wrong = [
        (lock.resource_id, offset(lock.expires_at))
        for lock in bulk
        if lock.owner_id != owner or offset(lock.expires_at) != wanted[lock.resource_type]
    ]
    assert not wrong, wrong


@then("the renewal kept the lock")
def step_renewer_kept(context: Any) -> None:
    assert context.renewed and context.renewer.lost is None and context.lost_calls == []


@then('the renewer lost the lock saying "{text}" and called back once')
def step_renewer_lost(context: Any, text: str) -> None:
    renewer = context.renewer
    assert not context.renewed
    assert renewer.lost is not None and text in renewer.lost, renewer.lost
    assert context.lost_calls == [renewer.lost], context.lost_calls


# -- 8 threads, one lock ------------------------------------------------------------------------
@when(
    '{threads:d} threads, each on its own database, race for the plan lock "{rid}" '
    "for {rounds:d} rounds"
)
def step_race(context: Any, threads: int, rid: str, rounds: int) -> None:
    clock = context.clock
    databases = [open_db(context) for _ in range(threads)]
    barrier = threading.Barrier(threads, timeout=DEADLINE_S)
    guard = threading.Lock()
    winners: list[list[str]] = [[] for _ in range(rounds)]
    conflicts = [0] * rounds
    errors: list[str] = []

    def contend(n: int) -> None:
        locks = LockService(databases[n])
        me = f"racer-{n}"
        try:
            for round_ in range(rounds):
                barrier.wait()  # everyone starts the round together
                try:
                    locks.acquire(ResourceType.PLAN, rid, me, 60, clock())
                except LockConflictError as exc:
                    won = False
                    with guard:
                        conflicts[round_] += 1
                        if "is locked by racer-" not in exc.message:
                            errors.append(f"round {round_}: {exc.message}")
                else:
                    won = True
                    with guard:
                        winners[round_].append(me)
                barrier.wait()  # everyone has tried
                if won:
                    held: Lock | None = locks.get(ResourceType.PLAN, rid)
                    if held is None or held.owner_id != me:
                        errors.append(f"round {round_}: {me} won but the row says {held}")
                    if not locks.release(ResourceType.PLAN, rid, me):
                        errors.append(f"round {round_}: {me} could not release its lock")
                barrier.wait()  # the lock is free again before the next round
        except Exception as exc:  # a broken barrier or store error: fail, never hang
            with guard:
                errors.append(f"{me}: {exc!r}")
            barrier.abort()

    racers = [
        threading.Thread(target=contend, args=(n,), name=f"racer-{n}", daemon=True)
        for n in range(threads)
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(DEADLINE_S)
    assert not any(racer.is_alive() for racer in racers), "a racer is still running"
    context.race = {"winners": winners, "conflicts": conflicts, "errors": errors}


@then("every round had exactly one winner and {losers:d} lock conflicts")
def step_race_outcome(context: Any, losers: int) -> None:
    race = context.race
    assert not race["errors"], race["errors"]
    assert all(len(won) == 1 for won in race["winners"]), race["winners"]
    assert all(count == losers for count in race["conflicts"]), race["conflicts"]


# -- a run that loses its lock -----------------------------------------------------------------
@when("the plan executes in the background with a plan lock TTL of {ttl:g} seconds")
def step_background_ttl(context: Any, ttl: float) -> None:
    start_background_execution(context, plan_lock_ttl_s=ttl)


@when('"{owner}" force-releases the lock of the plan and takes it for {ttl:g} seconds')
def step_steal(context: Any, owner: str, ttl: float) -> None:
    locks = LockService(plan_store(context).db)
    plan_id = the_plan_id(context)
    taken = locks.force_release(ResourceType.PLAN, plan_id)
    assert taken is not None, "the run held no lock"
    locks.acquire(ResourceType.PLAN, plan_id, owner, ttl, utcnow())


@then('the background run\'s report says "{text}"')
def step_report_error(context: Any, text: str) -> None:
    context.background_thread.join(DEADLINE_S)
    assert not context.background_thread.is_alive(), "the run did not end within the deadline"
    report = context.background["report"]
    assert text in (report.error or ""), report.error


@then('the lock of the plan belongs to "{owner}"')
def step_plan_lock_owner(context: Any, owner: str) -> None:
    lock = LockService(plan_store(context).db).get(ResourceType.PLAN, the_plan_id(context))
    assert lock is not None and lock.owner_id == owner, lock


# -- the CLI -----------------------------------------------------------------------------------
@then("the JSON document's lock names this host and this process")
def step_json_lock_is_mine(context: Any) -> None:
    doc = json.loads(context.result.stdout)
    assert len(doc) == 1, doc
    lock = doc[0]
    assert (lock["resource_type"], lock["resource_id"]) == ("plan", the_plan_id(context)), lock
    assert (lock["host"], lock["pid"], lock["stale"]) == (this_host(), os.getpid(), False), lock
    assert lock["owner_id"].startswith(f"{this_host()}:{os.getpid()}:"), lock


@then('the row of "{resource}" in stdout says stale "{stale}"')
def step_table_row(context: Any, resource: str, stale: str) -> None:
    rows = [line.split("\t") for line in context.result.stdout.splitlines()]
    found = [row for row in rows if row[0] == resource]
    assert len(found) == 1, context.result.stdout
    assert found[0][-1] == stale, found[0]
