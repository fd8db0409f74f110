"""Shared helpers for the step modules: clocks, databases, workers and test job kinds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import parse
from behave import register_type
from pydantic import BaseModel, ConfigDict

from cleveragents.runtime.tokens import JobCancelled
from cleveragents.settings import AsyncSettings, SQLiteSettings
from cleveragents.store.engine import Database
from cleveragents.store.migrations import ensure_schema
from cleveragents.worker.builtin_kinds import default_registry
from cleveragents.worker.kinds import JobContext, JobKind, KindRegistry
from cleveragents.worker.worker import AsyncWorker


@parse.with_pattern(r"queued|running|succeeded|failed|cancelled")
def _status(text: str) -> str:
    return text


@parse.with_pattern(r"running|stopped|lost")
def _worker_status(text: str) -> str:
    return text


register_type(Status=_status, WorkerStatus=_worker_status)

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
DEADLINE_S = 60.0
"""Seconds a step waits for anything before it fails: generous, never reached when all is well
(it only bounds a failure, and a loaded machine may take many seconds for what takes one)."""
POLL_S = 0.01
"""Seconds :func:`wait_until` pauses between two checks."""


class FakeClock:
    """A clock the scenario moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class GatePayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


class BoomPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = "boom"


def test_registry(
    gates: dict[str, threading.Event], started: dict[str, threading.Event]
) -> KindRegistry:
    """The built-in kinds plus `gate` (runs until its gate opens or it is cancelled) and `boom`."""
    registry = default_registry()

    def run_gate(payload: GatePayload, ctx: JobContext) -> dict[str, str]:
        gate = gates.setdefault(payload.name, threading.Event())
        started.setdefault(payload.name, threading.Event()).set()
        ctx.token.on_cancel(gate.set)
        gate.wait()
        if ctx.token.cancelled:
            raise JobCancelled(str(ctx.token.reason))
        return {"gate": payload.name}

    def run_boom(payload: BoomPayload, ctx: JobContext) -> None:
        raise RuntimeError(payload.message)

    def run_stubborn(payload: GatePayload, ctx: JobContext) -> None:
        started.setdefault(payload.name, threading.Event()).set()
        gates.setdefault(payload.name, threading.Event()).wait()  # ignores its token

    registry.register(JobKind("gate", GatePayload, run_gate, "waits for its gate"))
    registry.register(JobKind("stubborn", GatePayload, run_stubborn, "ignores its token"))

    def run_failing_gate(payload: GatePayload, ctx: JobContext) -> None:
        started.setdefault(payload.name, threading.Event()).set()
        gates.setdefault(payload.name, threading.Event()).wait()
        raise RuntimeError("gave up")  # whatever its token says

    registry.register(JobKind("boom", BoomPayload, run_boom, "raises"))
    registry.register(
        JobKind("failing_gate", GatePayload, run_failing_gate, "fails once its gate opens")
    )
    return registry


def open_db(context: Any, busy_timeout_ms: int = 10_000) -> Database:
    """A new Database object (own engine and connections) on the scenario's file, at head."""
    db = Database(context.db_url, SQLiteSettings(busy_timeout_ms=busy_timeout_ms))
    db.open()
    ensure_schema(db)
    context.cleanups.append(db.dispose)
    return db


def settings(**overrides: Any) -> AsyncSettings:
    """Async settings with test-friendly defaults."""
    values: dict[str, Any] = {"heartbeat_interval": 5.0, "stale_after": 30.0, "shutdown_grace": 0}
    values.update(overrides)
    return AsyncSettings(**values)


def make_worker(
    context: Any,
    name: str = "A",
    busy_timeout_ms: int = 10_000,
    on_this_host: bool = False,
    **overrides: Any,
) -> AsyncWorker:
    """A worker on its own Database object, with the scenario's clock and test kinds; on a
    made-up host, or (``on_this_host``) on this one with this process's pid, as a real one."""
    worker = AsyncWorker(
        open_db(context, busy_timeout_ms),
        settings(**overrides),
        registry=context.registry,
        clock=context.clock,
        hostname=None if on_this_host else f"host-{name}",
        pid=None if on_this_host else 1000 + len(context.workers),
    )
    context.workers[name] = worker

    def stop() -> None:
        for gate in context.gates.values():
            gate.set()
        worker.stop()
        worker.shutdown()

    context.cleanups.append(stop)
    return worker


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = DEADLINE_S) -> None:
    """The behave tier's one poll helper: check ``predicate`` every :data:`POLL_S` seconds until
    it holds; fail with ``what`` once ``timeout`` seconds have passed without it.

    For what signals nothing a step could block on (a gauge, a flag, a process group, rows
    another connection writes); where the code under test sets an event or ends a thread, steps
    wait on that instead, with :data:`DEADLINE_S`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(POLL_S)


def execute_sql(context: Any, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Run one statement on the scenario's database (SQLite or PostgreSQL) and commit; the rows
    it returned. For steps that damage or inspect what the code under test stored."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    if not hasattr(context, "sql_engine"):
        context.sql_engine = create_engine(context.db_url, poolclass=NullPool)
        context.cleanups.append(context.sql_engine.dispose)
    with context.sql_engine.begin() as conn:
        result = conn.execute(text(sql), params or {})
        return list(result) if result.returns_rows else []
