"""Databases for the measurements: SQLite files and PostgreSQL databases alike.

A *target* is where a measurement's database lives: a ``Path`` (or a plain path string) of an
SQLite file, or a database URL (``sqlite:///...``, ``postgresql+psycopg://...``). Every helper
here takes one, so that the SQLite benchmarks and the PostgreSQL ones run the same code.
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from cleveragents.domain.clock import utcnow
from cleveragents.domain.jobs import JobStatus
from cleveragents.settings import SQLiteSettings
from cleveragents.store.engine import Database
from cleveragents.store.jobs import JobStore
from cleveragents.store.migrations import ensure_schema
from cleveragents.worker.queue import JobQueue

from ._support import ENQUEUE_MANY_JOBS, ENQUEUE_ONE_CALLS, temp_dir

Target = Path | str
CLAIM_QUEUED = 100
CLAIM_CALLS = 200


def db_url(target: Target) -> str:
    """The SQLAlchemy URL of a target (an SQLite file's path, or a URL as it is)."""
    if isinstance(target, str) and "://" in target:
        return target
    return f"sqlite:///{target}"


def open_db(target: Target) -> Database:
    """Open (and migrate to head) the target's database; SQLite at its default settings."""
    db = Database(db_url(target), SQLiteSettings())
    db.open()
    ensure_schema(db)
    return db


@contextmanager
def fresh_db(url: str | None = None) -> Iterator[Database]:
    """The open, migrated database at ``url``, or (without one) a new SQLite file in a temp
    directory that is removed afterwards; disposed of at the end."""
    with ExitStack() as stack:
        target = url if url is not None else stack.enter_context(temp_dir()) / "agents.db"
        db = open_db(target)
        try:
            yield db
        finally:
            db.dispose()


def enqueue_noops(db: Database, count: int) -> list[str]:
    """``count`` queued ``noop`` jobs in one transaction (the bulk API)."""
    queue = JobQueue(db)
    return queue.enqueue_many(queue.build("noop", {}) for _ in range(count))


def enqueue_noops_inprocess(target: Target, count: int) -> None:
    """``count`` queued noops in one transaction (``JobQueue.enqueue_many``), migrating first."""
    db = open_db(target)
    try:
        enqueue_noops(db, count)
    finally:
        db.dispose()


def requeue_running(db: Database) -> None:
    """Put every running job back to queued (resets a claim benchmark between calls)."""
    with db.write() as conn:
        conn.exec_driver_sql(
            "UPDATE async_jobs SET status = 'queued', worker_id = NULL, started_at = NULL, "
            "last_heartbeat = NULL, attempts = 0 WHERE status = 'running'"
        )


def _epoch(value: datetime | str) -> float:
    # SQLite hands the stored text back, PostgreSQL a datetime; naive ones are UTC.
    stamp = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def succeeded_span(where: Database | Target) -> tuple[float, float, int]:
    """First ``started_at``, last ``finished_at`` (epoch seconds) and count of succeeded jobs."""
    db = where if isinstance(where, Database) else Database(db_url(where), SQLiteSettings())
    try:
        with db.read() as conn:
            first, last, done = conn.execute(
                text(
                    "SELECT MIN(started_at), MAX(finished_at), COUNT(*) FROM async_jobs "
                    "WHERE status = 'succeeded'"
                )
            ).one()
    finally:
        if db is not where:
            db.dispose()
    if not done:
        return float("nan"), float("nan"), 0
    return _epoch(first), _epoch(last), int(done)


# -- the claim ------------------------------------------------------------------------------

_ROW_COLUMNS = (
    "id, kind, plan_id, phase, status, priority, payload_json, attempts, max_attempts, "
    "run_after, worker_id, last_heartbeat, cancel_requested, created_at, started_at, "
    "finished_at, error_message, result_json"
)


def _finished_row(i: int) -> tuple[Any, ...]:
    # Ids sort before any ULID minted today ("01F" < "01K"), like jobs that finished long ago;
    # timestamps in SQLAlchemy's SQLite format, one every half second from 2026-10-01.
    sec = i // 2
    stamp = (
        f"2026-10-{1 + sec // 86_400:02d} {sec // 3600 % 24:02d}:{sec // 60 % 60:02d}:"
        f"{sec % 60:02d}.{(i % 2) * 500_000:06d}"
    )
    return (
        *(f"01F{i:023d}", "noop", None, None, "succeeded", 0, '{"schema_version": 1}'),
        *(1, 3, stamp, "bench-old-worker", stamp, 0, stamp, stamp, stamp, None, None),
    )


def checkpoint(path: Path | str) -> None:
    """Fold an SQLite file's write-ahead log into the file itself."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def build_claim_db(path: Path, finished: int, queued: int) -> Path:
    """A migrated SQLite file holding ``finished`` succeeded jobs and ``queued`` queued noops.

    The finished rows are bulk-inserted with the stdlib driver (secondary indexes dropped during
    the load and recreated from the schema's own ``CREATE INDEX`` statements); the queued jobs
    go through ``JobQueue.enqueue_many``. No ``ANALYZE`` is run: a real database has no
    ``sqlite_stat1`` either, and statistics would change SQLite's query plans.
    """
    open_db(path).dispose()
    if finished:
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous=OFF")  # only while building the fixture
            indexes = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'async_jobs' AND sql IS NOT NULL"
            ).fetchall()
            for name, _ in indexes:
                conn.execute(f"DROP INDEX {name}")
            insert = f"INSERT INTO async_jobs ({_ROW_COLUMNS}) VALUES ({', '.join('?' * 18)})"
            batch = 100_000
            for start in range(0, finished, batch):
                conn.execute("BEGIN")
                conn.executemany(
                    insert, (_finished_row(i) for i in range(start, min(start + batch, finished)))
                )
                conn.execute("COMMIT")
            for _, sql in indexes:
                conn.execute(sql)
        finally:
            conn.close()
        checkpoint(path)
    if queued:
        enqueue_noops_inprocess(path, queued)
    return path


def claim_us(target: Target, calls: int = CLAIM_CALLS, queued: int = CLAIM_QUEUED) -> float:
    """Median µs of ``JobStore.claim(limit=4)`` with ``queued`` jobs queued; the claimed jobs go
    back to queued between calls (untimed), so every call sees the same table."""
    db = open_db(target)
    try:
        enqueue_noops(db, queued)
        store = JobStore(db)
        now = utcnow()
        samples = []
        for i in range(calls + 1):
            requeue_running(db)
            started = time.perf_counter()
            jobs, _ = store.claim("bench-worker", now, 4)
            elapsed = time.perf_counter() - started
            if len(jobs) != 4:
                raise RuntimeError(f"claimed {len(jobs)} jobs instead of 4")
            if i:  # the first call warms the connection and the statement caches
                samples.append(elapsed)
    finally:
        db.dispose()
    return statistics.median(samples) * 1e6


# -- enqueue --------------------------------------------------------------------------------


def enqueue_one_rate(calls: int = ENQUEUE_ONE_CALLS, url: str | None = None) -> float:
    """Jobs/s of ``calls`` consecutive ``JobQueue.enqueue("noop", {})`` calls (each one commit),
    on the database at ``url`` or a fresh SQLite file."""
    with fresh_db(url) as db:
        queue = JobQueue(db)
        queue.enqueue("noop", {})  # connection and statement cache outside the timing
        started = time.perf_counter()
        for _ in range(calls):
            queue.enqueue("noop", {})
        seconds = time.perf_counter() - started
    return calls / seconds


def enqueue_many_rate(
    jobs: int = ENQUEUE_MANY_JOBS, include_build: bool = False, url: str | None = None
) -> float:
    """Jobs/s of one ``JobQueue.enqueue_many`` of ``jobs`` noops (optionally with ``build``)."""
    with fresh_db(url) as db:
        queue = JobQueue(db)
        queue.enqueue("noop", {})
        built = None if include_build else [queue.build("noop", {}) for _ in range(jobs)]
        started = time.perf_counter()
        if built is None:
            queue.enqueue_many(queue.build("noop", {}) for _ in range(jobs))
        else:
            queue.enqueue_many(built)
        seconds = time.perf_counter() - started
        counts = JobStore(db).count_by_status()
    if counts[JobStatus.QUEUED] != jobs + 1:
        raise RuntimeError(f"enqueue_many stored {counts[JobStatus.QUEUED] - 1} of {jobs} jobs")
    return jobs / seconds
