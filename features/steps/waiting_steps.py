"""Steps about waits that outlive a database outage (runtime/waiting.py wait_until)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from behave import then, when
from worker_steps import _Records

from cleveragents.errors import AgentsError, DatabaseCorruptError, StoreError
from cleveragents.runtime.waiting import wait_until

LOST = "database error: server closed the connection"


def _wait(context: Any, script: list[Any], timeout: float | None = 60.0) -> None:
    """Run wait_until over a read that follows ``script`` (a value, or an error to raise; the
    last entry repeats), waiting for "done"."""
    records = _Records()
    logger = logging.getLogger("cleveragents.waiting")
    logger.addHandler(records)
    context.cleanups.append(lambda: logger.removeHandler(records))
    context.wait_log = records
    context.reads = 0

    def read() -> Any:
        step = script[min(context.reads, len(script) - 1)]
        context.reads += 1
        if isinstance(step, Exception):
            raise step
        return step

    done: Callable[[Any], bool] = lambda value: value == "done"  # noqa: E731
    context.waited, context.wait_error = None, None
    try:
        context.waited = wait_until(context.db, read, done, timeout=timeout, reread_s=0.01)
    except AgentsError as error:
        context.wait_error = error


@when('a wait reads "{first}", fails {n:d} times with a database error, then reads "{last}"')
def step_wait_outage(context: Any, first: str, n: int, last: str) -> None:
    _wait(context, [first, *[StoreError(LOST)] * n, last])


@when('a wait of {seconds:g} seconds reads "{first}", then fails with a database error every time')
def step_wait_gone(context: Any, seconds: float, first: str) -> None:
    _wait(context, [first, StoreError(LOST)], timeout=seconds)


@when('a wait reads "{first}", then finds the database damaged')
def step_wait_damaged(context: Any, first: str) -> None:
    _wait(context, [first, DatabaseCorruptError("the database is damaged")])


@when("a wait fails with a database error at its first read")
def step_wait_first(context: Any) -> None:
    _wait(context, [StoreError(LOST), "done"])


@then('the wait returned "{value}" after {n:d} reads')
def step_wait_returned(context: Any, value: str, n: int) -> None:
    assert context.wait_error is None, context.wait_error
    assert (context.waited, context.reads) == (value, n), (context.waited, context.reads)


@then('the wait raised "{text}"')
def step_wait_raised(context: Any, text: str) -> None:
    assert context.wait_error is not None and text in context.wait_error.message, context.wait_error


@then("the wait read {n:d} times")
def step_wait_reads(context: Any, n: int) -> None:
    assert context.reads == n, context.reads


@then('the wait logged "{text}" once')
def step_wait_logged_once(context: Any, text: str) -> None:
    assert sum(text in m for m in context.wait_log.messages) == 1, context.wait_log.messages


@then('the wait logged "{text}"')
def step_wait_logged(context: Any, text: str) -> None:
    assert any(text in m for m in context.wait_log.messages), context.wait_log.messages
