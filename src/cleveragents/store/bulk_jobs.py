"""Acting on many jobs at once: retry the failed, cancel the queued, purge the finished.

A selection names jobs by id or by filters (status, kind, age). Each operation picks the jobs it
may act on (a retry takes only failed or cancelled jobs, a purge only finished ones), then acts
with updates that check the status again, so a job that changed meanwhile is left alone. With
``dry_run`` nothing is written: the ids it would act on are returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, func, select, true, update
from sqlalchemy.exc import IntegrityError

from cleveragents.domain.jobs import RETRYABLE_STATUSES, TERMINAL_STATUSES, JobStatus
from cleveragents.errors import ConflictError, InvalidJobTransitionError
from cleveragents.store.engine import Database
from cleveragents.store.tables import UNIQUE_WHILE_LIVE, async_jobs

CHUNK = 500  # ids per statement: well inside every driver's parameter limit
_c = async_jobs.c
_RETRYABLE = [s.value for s in RETRYABLE_STATUSES]
_TERMINAL = [s.value for s in TERMINAL_STATUSES]


@dataclass(frozen=True)
class JobSelection:
    """Which jobs: these ids (when given), narrowed by every filter that is set. Ages compare
    with when a job finished (when it was created, for one that has not)."""

    ids: tuple[str, ...] = ()
    status: JobStatus | None = None
    kind: str | None = None
    queue: str | None = None
    since: datetime | None = None  # at or after
    before: datetime | None = None  # strictly before

    @property
    def empty(self) -> bool:
        """True when nothing narrows the selection: every job."""
        return not self.ids and self == JobSelection()

    def where(self) -> ColumnElement[bool]:
        """The selection as a condition on ``async_jobs`` (ids aside: see :func:`_chunks`)."""
        when = func.coalesce(_c.finished_at, _c.created_at)
        conditions: list[ColumnElement[bool]] = [true()]
        if self.status is not None:
            conditions.append(_c.status == self.status.value)
        if self.kind is not None:
            conditions.append(_c.kind == self.kind)
        if self.queue is not None:
            conditions.append(_c.queue == self.queue)
        if self.since is not None:
            conditions.append(when >= self.since)
        if self.before is not None:
            conditions.append(when < self.before)
        return and_(*conditions)


@dataclass(frozen=True)
class BulkResult:
    """What an operation did (or, dry, would do): the jobs it acted on, and those it left.
    Jobs named by id are all acted on or none is (:class:`InvalidJobTransitionError`)."""

    ids: list[str]
    skipped: dict[str, str]  # job id -> why it was left alone
    dry_run: bool

    def to_json(self) -> dict[str, object]:
        """The result as a JSON-ready dict."""
        return {
            "count": len(self.ids),
            "ids": self.ids,
            "skipped": self.skipped,
            "dry_run": self.dry_run,
        }


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _each_chunk(conn: Connection, ids: Sequence[str], statement: Any) -> list[str]:
    """Run ``statement`` (an UPDATE or DELETE with its own conditions) on ``ids``, a chunk at a
    time; the ids it touched, sorted."""
    done: list[str] = []
    for chunk in _chunks(ids):
        done.extend(conn.execute(statement.where(_c.id.in_(chunk)).returning(_c.id)).scalars())
    return sorted(done)


def _matching(conn: Connection, selection: JobSelection) -> list[tuple[str, str, str | None]]:
    """(id, status, unique key) of the selected jobs, oldest first."""
    query = select(_c.id, _c.status, _c.unique_key).where(selection.where()).order_by(_c.id)
    if not selection.ids:
        return [(row[0], row[1], row[2]) for row in conn.execute(query)]
    found: list[tuple[str, str, str | None]] = []
    for chunk in _chunks(selection.ids):
        found.extend(
            (row[0], row[1], row[2]) for row in conn.execute(query.where(_c.id.in_(chunk)))
        )
    return sorted(found)


def _split(
    rows: list[tuple[str, str, str | None]], allowed: list[str], why: str
) -> tuple[list[str], dict[str, str]]:
    take = [job_id for job_id, status, _ in rows if status in allowed]
    skipped = {
        job_id: f"it is {status}: {why}" for job_id, status, _ in rows if status not in allowed
    }
    return take, skipped


def _refuse(selection: JobSelection, skipped: dict[str, str], verb: str) -> None:
    """Jobs named by id must all be fit for ``verb``: otherwise none is touched."""
    if selection.ids and skipped:
        job_id, why = next(iter(sorted(skipped.items())))
        others = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
        raise InvalidJobTransitionError(
            f"job {job_id} cannot be {verb}: {why}{others}; nothing was changed"
        )


class BulkJobs:
    """The bulk verbs over ``async_jobs``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def retry(self, selection: JobSelection, now: datetime, dry_run: bool = False) -> BulkResult:
        """Queue failed and cancelled jobs again, to run now with their retries and lost runs
        counted afresh (their attempt history stays). A job whose unique key a live job holds
        now is left alone, as is the older of two selected jobs sharing a key."""
        try:
            return self._retry(selection, now, dry_run)
        except IntegrityError:  # a job took one of their unique keys meanwhile: nothing changed
            raise ConflictError(
                "a job with the unique key of one of them was enqueued meanwhile; try again"
            ) from None

    def _retry(self, selection: JobSelection, now: datetime, dry_run: bool) -> BulkResult:
        with self.db.write() as conn:
            rows = _matching(conn, selection)
            take, skipped = _split(rows, _RETRYABLE, "only failed or cancelled jobs are retried")
            keys = {job_id: key for job_id, _, key in rows if key is not None and job_id in take}
            held = set(
                conn.scalars(
                    select(_c.unique_key).where(
                        _c.unique_key.in_(set(keys.values())), UNIQUE_WHILE_LIVE
                    )
                )
            )
            newest: dict[str, str] = {}
            for job_id in take:  # oldest first: the newest of a key wins
                if job_id in keys:
                    newest[keys[job_id]] = job_id
            for job_id, key in keys.items():
                if key in held:
                    skipped[job_id] = f"a live job holds its unique key {key!r}"
                elif newest[key] != job_id:
                    skipped[job_id] = f"a newer selected job has its unique key {key!r}"
            take = [job_id for job_id in take if job_id not in skipped]
            _refuse(selection, skipped, "retried")
            if not dry_run:
                take = self._requeue(conn, take, now)
        return BulkResult(take, skipped, dry_run)

    @staticmethod
    def _requeue(conn: Connection, ids: list[str], now: datetime) -> list[str]:
        return _each_chunk(
            conn,
            ids,
            update(async_jobs)
            .where(_c.status.in_(_RETRYABLE))
            .values(
                status=JobStatus.QUEUED.value,
                run_after=now,
                failures=0,
                lost=0,
                worker_id=None,
                started_at=None,
                last_heartbeat=None,
                finished_at=None,
                cancel_requested=False,
                error_message=None,
                result_json=None,
            ),
        )

    def cancel(self, selection: JobSelection, now: datetime, dry_run: bool = False) -> BulkResult:
        """Cancel queued jobs at once and ask the workers of running ones to stop them."""
        live = [JobStatus.QUEUED.value, JobStatus.RUNNING.value]
        act = lambda conn, ids: self._cancel(conn, ids, now)  # noqa: E731 - one use
        return self._act(selection, (live, "it has finished", "cancelled"), dry_run, act)

    def _act(
        self,
        selection: JobSelection,
        rule: tuple[list[str], str, str],
        dry_run: bool,
        act: Callable[[Connection, list[str]], list[str]],
    ) -> BulkResult:
        """Select, keep the jobs whose status ``rule`` allows (statuses, why not, verb), refuse
        named jobs that do not fit, then ``act`` on the rest unless dry: one transaction."""
        allowed, why, verb = rule
        with self.db.write() as conn:
            take, skipped = _split(_matching(conn, selection), allowed, why)
            _refuse(selection, skipped, verb)
            if not dry_run:
                take = act(conn, take)
        return BulkResult(take, skipped, dry_run)

    @staticmethod
    def _cancel(conn: Connection, ids: list[str], now: datetime) -> list[str]:
        queued = (
            update(async_jobs)
            .where(_c.status == JobStatus.QUEUED.value)
            .values(status=JobStatus.CANCELLED.value, finished_at=now, cancel_requested=True)
        )
        running = (
            update(async_jobs)
            .where(_c.status == JobStatus.RUNNING.value)
            .values(cancel_requested=True)
        )
        return sorted(_each_chunk(conn, ids, queued) + _each_chunk(conn, ids, running))

    def purge(self, selection: JobSelection, dry_run: bool = False) -> BulkResult:
        """Delete finished jobs (with their attempt history)."""
        finished = delete(async_jobs).where(_c.status.in_(_TERMINAL))
        rule = (_TERMINAL, "only finished jobs are purged", "purged")
        act = lambda conn, ids: _each_chunk(conn, ids, finished)  # noqa: E731 - one use
        return self._act(selection, rule, dry_run, act)
