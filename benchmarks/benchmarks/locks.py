"""Plan and project locks (issue 4, "Speed (asv)"): the acquire + release round trip, and the
renewal of every lock an owner holds in one statement.

Each measurement uses a fresh temporary SQLite file at default settings (WAL,
``synchronous=normal``), opened once in ``setup``; one untimed round trip first, so that even a
``--quick`` run (a single timed call) measures warm calls: pooled connection open, statements
compiled, pages cached. Every call reads the clock (``utcnow()``), as the callers do. Goals:

- acquire + release: at least 2,000 round trips/s (``track_acquire_release_per_s``); the
  ``time_*`` figure is one batch of 1,000 round trips.
- ``renew_all`` of 100 held locks (plan and project locks, each type its own TTL) in one
  statement; ``setup`` checks that it is one ``UPDATE`` that extends exactly those 100 while
  another owner's locks stay as they were.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from sqlalchemy import event

from cleveragents.domain.clock import utcnow
from cleveragents.domain.locks import ResourceType
from cleveragents.store.engine import Database
from cleveragents.store.locks import LockService

from ._db import open_db
from ._support import temp_dir

ROUND_TRIPS = 1000
HELD = 100
OWNER = "bench-host:4242:bench"  # host:pid:nonce, as a real holder's id
OTHER_OWNER = "bench-host:4343:other"
TTL_S = {ResourceType.PLAN: 300.0, ResourceType.PROJECT: 600.0}  # the settings' defaults

RESOURCES = ["distinct", "same"]


def resource_ids(count: int, resource: str) -> list[str]:
    """``count`` resource ids: all different (``distinct``) or one id again and again."""
    if resource == "same":
        return ["bench-plan"] * count
    return [f"bench-plan-{i:05d}" for i in range(count)]


def round_trips(locks: LockService, ids: Sequence[str]) -> None:
    """Acquire and release a plan lock on each id in turn; raises if a release found nothing
    (a fast wrong answer is not a figure)."""
    ttl = TTL_S[ResourceType.PLAN]
    for resource_id in ids:
        locks.acquire(ResourceType.PLAN, resource_id, OWNER, ttl, utcnow())
        if not locks.release(ResourceType.PLAN, resource_id, OWNER):
            raise RuntimeError(f"release of plan {resource_id} found no lock")


def round_trip_rate(count: int = ROUND_TRIPS, resource: str = "distinct") -> float:
    """Round trips/s of ``count`` consecutive acquire + release pairs on a fresh database."""
    with temp_dir("agents-bench-locks-") as tmp:
        db = open_db(tmp / "agents.db")
        try:
            locks = LockService(db)
            ids = resource_ids(count, resource)
            round_trips(locks, ids[:1])
            started = time.perf_counter()
            round_trips(locks, ids)
            seconds = time.perf_counter() - started
            left = locks.find()
        finally:
            db.dispose()
    if left:
        raise RuntimeError(f"{len(left)} locks left after {count} round trips")
    return count / seconds


@contextmanager
def statements_on_locks(db: Database) -> Iterator[list[str]]:
    """The statements that write to ``locks`` through the engine while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("UPDATE LOCKS", "INSERT INTO LOCKS")):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


class LockRoundTrip:
    """``LockService.acquire`` then ``release``, 1,000 times per timed call; on 1,000 distinct
    plans, or on one plan again and again (the row inserted and deleted each time)."""

    params: ClassVar[list[str]] = RESOURCES
    param_names: ClassVar[list[str]] = ["resource"]
    number = 1
    repeat = (3, 20, 10.0)
    warmup_time = 0.0
    timeout = 120.0

    def setup(self, resource: str) -> None:
        self._tmp = temp_dir("agents-bench-locks-")
        self.db = open_db(self._tmp.__enter__() / "agents.db")
        self.locks = LockService(self.db)
        self.ids = resource_ids(ROUND_TRIPS, resource)
        round_trips(self.locks, self.ids[:1])

    def teardown(self, resource: str) -> None:
        self.db.dispose()
        self._tmp.__exit__(None, None, None)

    def time_acquire_release_round_trip(self, resource: str) -> None:
        """1,000 acquire + release pairs (two write transactions each)."""
        round_trips(self.locks, self.ids)

    def track_acquire_release_per_s(self, resource: str) -> float:
        """Round trips/s, the median of 3 batches of 1,000 (each on a fresh database)."""
        return statistics.median(round_trip_rate(ROUND_TRIPS, resource) for _ in range(3))

    track_acquire_release_per_s.unit = "round trips/s"  # type: ignore[attr-defined]


class RenewAll:
    """``LockService.renew_all`` for an owner holding 100 locks (50 plans, 50 projects), next
    to another owner's 100 that it must leave alone."""

    number = 1
    repeat = (10, 200, 5.0)
    warmup_time = 0.05
    timeout = 120.0

    def setup(self) -> None:
        self._tmp = temp_dir("agents-bench-locks-")
        self.db = open_db(self._tmp.__enter__() / "agents.db")
        self.locks = LockService(self.db)
        now = utcnow()
        for owner in (OWNER, OTHER_OWNER):
            for i in range(HELD):
                kind = ResourceType.PLAN if i % 2 else ResourceType.PROJECT
                self.locks.acquire(kind, f"{owner}-{i:03d}", owner, TTL_S[kind], now)
        others = {lock.id: lock.expires_at for lock in self.locks.find()}
        with statements_on_locks(self.db) as seen:
            renewed = self.locks.renew_all(OWNER, TTL_S, utcnow())
        if renewed != HELD or len(seen) != 1:
            raise RuntimeError(f"renew_all extended {renewed} locks in {len(seen)} statements")
        moved = [
            lock
            for lock in self.locks.find()
            if lock.owner_id == OTHER_OWNER and lock.expires_at != others[lock.id]
        ]
        if moved:
            raise RuntimeError(f"renew_all extended {len(moved)} locks of another owner")

    def teardown(self) -> None:
        self.db.dispose()
        self._tmp.__exit__(None, None, None)

    def time_renew_100_held_locks_one_statement(self) -> None:
        """One ``renew_all``: one UPDATE over the owner's 100 locks, in one transaction."""
        if self.locks.renew_all(OWNER, TTL_S, utcnow()) != HELD:
            raise RuntimeError("renew_all did not extend the 100 held locks")
