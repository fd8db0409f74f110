"""``JobStore.claim``: how it scales with finished rows (target: flat) and with queue depth.

The databases are built once per asv run in ``setup_cache`` (a temp dir asv removes
afterwards): finished rows are bulk-inserted with the stdlib driver, queued jobs go through
``JobQueue.enqueue_many``; no ``ANALYZE`` (a real database has no statistics either). Each
timed call claims 4 jobs (what a 4-thread worker claims when idle); ``setup`` puts them back
to queued before the next call, so every call sees the same table.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from cleveragents.domain.clock import utcnow
from cleveragents.store.engine import Database
from cleveragents.store.jobs import JobStore

from ._db import build_claim_db, open_db, requeue_running
from ._support import env_int

BIG = env_int("AGENTS_BENCH_FINISHED", 1_000_000)
QUEUED = 100
DEPTHS = [100, 10_000, 50_000]

_open: dict[str, Database] = {}


def _db(path: str) -> Database:
    if path not in _open:
        _open[path] = open_db(path)
    return _open[path]


def _build() -> dict[str, Any]:
    here = Path(os.getcwd())  # asv runs setup_cache in a temp dir that the benchmarks share
    finished = {n: str(build_claim_db(here / f"finished-{n}.db", n, QUEUED)) for n in (0, BIG)}
    depth = {n: str(build_claim_db(here / f"queued-{n}.db", 0, n)) for n in DEPTHS}
    return {"finished": finished, "queued": depth}


class _Claim:
    """Shared by both classes, so that asv builds the databases once (one setup_cache key)."""

    number = 1
    repeat = (10, 200, 5.0)
    warmup_time = 0.05
    timeout = 300.0

    def setup_cache(self) -> dict[str, Any]:
        return _build()

    setup_cache.timeout = 900.0  # type: ignore[attr-defined]

    def _prepare(self, path: str) -> None:
        self.db = _db(path)
        self.store = JobStore(self.db)
        self.now = utcnow()
        # One untimed claim first, so that even a --quick run (a single timed call) measures a
        # warm claim: pooled connection open, statements compiled, pages cached.
        requeue_running(self.db)
        self._claim()
        requeue_running(self.db)

    def _claim(self) -> None:
        jobs, _ = self.store.claim("bench-worker", self.now, 4)
        if len(jobs) != 4:
            raise RuntimeError(f"claimed {len(jobs)} jobs instead of 4")


class ClaimFinishedRows(_Claim):
    """Claim 4 of 100 queued jobs with 0 or 1,000,000 finished rows in ``async_jobs``."""

    params: ClassVar[list[int]] = [0, BIG]
    param_names: ClassVar[list[str]] = ["finished_rows"]

    def setup(self, cache: dict[str, Any], finished: int) -> None:
        self._prepare(cache["finished"][finished])

    def time_claim_4(self, cache: dict[str, Any], finished: int) -> None:
        """One ``JobStore.claim(limit=4)`` transaction."""
        self._claim()


class ClaimQueueDepth(_Claim):
    """Claim 4 jobs with 100, 10,000 or 50,000 jobs queued (no finished rows)."""

    params: ClassVar[list[int]] = DEPTHS
    param_names: ClassVar[list[str]] = ["queued"]

    def setup(self, cache: dict[str, Any], queued: int) -> None:
        self._prepare(cache["queued"][queued])

    def time_claim_4(self, cache: dict[str, Any], queued: int) -> None:
        """One ``JobStore.claim(limit=4)`` transaction."""
        self._claim()
