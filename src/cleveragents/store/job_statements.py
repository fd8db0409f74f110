"""The queue's hot statements, written once as SQLAlchemy Core and compiled once per dialect
(``store/hot.py``): the claim (from any queue, or from one), the recording of an outcome, and
the bulk insert of ``enqueue_many``."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    bindparam,
    insert,
    literal_column,
    select,
    update,
)

from cleveragents.domain.jobs import JobStatus
from cleveragents.store.hot import CompiledStatement
from cleveragents.store.tables import async_jobs

# A literal, not a bound parameter: the planner sees which status the claim reads.
_QUEUED: ColumnElement[str] = literal_column(f"'{JobStatus.QUEUED.value}'")
_c = async_jobs.c


BULK_COLUMNS = (
    "id", "kind", "plan_id", "phase", "status", "priority", "payload_json", "attempts",
    "max_attempts", "run_after", "cancel_requested", "created_at", "retries", "backoff_s",
    "queue",
)  # fmt: skip
_PLACEHOLDERS = {"qmark": "?", "format": "%s"}  # SQLite's, and PostgreSQL's as engine.py sets it


def bulk_insert_sql(paramstyle: str) -> str:
    """The driver-level INSERT of ``BULK_COLUMNS``, in the driver's placeholder style."""
    marker = _PLACEHOLDERS[paramstyle]
    return (
        f"INSERT INTO async_jobs ({', '.join(BULK_COLUMNS)}) "
        f"VALUES ({', '.join(marker for _ in BULK_COLUMNS)})"
    )


RECORD_OUTCOME = (
    update(async_jobs)
    .where(
        _c.id == bindparam("b_id"),
        _c.status == JobStatus.RUNNING.value,
        _c.worker_id == bindparam("b_worker"),
        _c.attempts == bindparam("b_attempt"),  # fenced by the claim, not only by the worker
    )
    .values(
        status=bindparam("b_status"),
        finished_at=bindparam("b_finished"),
        result_json=bindparam("b_result"),
        error_message=bindparam("b_error"),
    )
)


# Built once: the claim runs on every worker pass, and building the statement costs more than
# SQLite takes to run it. One takes from any queue, one from the queue named by b_queue; a claim
# from every queue but some (a worker serving '*' with limits) is built when used.
def claim_statement(*where: ColumnElement[bool]) -> Any:
    return (
        update(async_jobs)
        .where(
            _c.id.in_(
                select(_c.id)
                .where(_c.status == _QUEUED, *where, _c.run_after <= bindparam("b_now"))
                .order_by(_c.priority, _c.run_after, _c.id)
                .limit(bindparam("b_limit"))
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
        )
        .values(
            status=JobStatus.RUNNING.value,
            worker_id=bindparam("b_worker"),
            attempts=_c.attempts + 1,
            started_at=bindparam("b_now"),
            last_heartbeat=bindparam("b_now"),
        )
        .returning(*async_jobs.c)
    )


CLAIM = claim_statement()
CLAIM_QUEUE = claim_statement(_c.queue == bindparam("b_queue"))


COLUMN_NAMES = [column.name for column in async_jobs.c]
ROW_COLUMNS = (*BULK_COLUMNS, "unique_key")  # what a new job's row sets (job_rows.row_values)
# One job, as `jobs enqueue` adds it: the same row as the Core insert, without its per-call cost.
INSERT_ONE = insert(async_jobs).values({name: bindparam(f"b_{name}") for name in ROW_COLUMNS})


class Hot(NamedTuple):
    """The hot statements, compiled for one dialect."""

    claim_any: CompiledStatement  # from any queue
    claim_queue: CompiledStatement  # from the queue b_queue
    record: CompiledStatement  # a run's outcome, fenced by its claim
    insert_one: CompiledStatement  # one new job


_HOT: dict[str, Hot] = {}
_HOT_PARAMS = {
    "b_now": _c.started_at,
    "b_finished": _c.finished_at,
    "b_result": _c.result_json,
    **{f"b_{name}": _c[name] for name in ROW_COLUMNS},
}


def compiled(conn: Connection) -> Hot:
    """The hot statements for this connection's dialect."""
    dialect = conn.dialect
    if dialect.name not in _HOT:  # compiling twice in a race is harmless
        _HOT[dialect.name] = Hot(
            CompiledStatement(CLAIM, dialect, _HOT_PARAMS, list(_c)),
            CompiledStatement(CLAIM_QUEUE, dialect, _HOT_PARAMS, list(_c)),
            CompiledStatement(RECORD_OUTCOME, dialect, _HOT_PARAMS),
            CompiledStatement(INSERT_ONE, dialect, _HOT_PARAMS),
        )
    return _HOT[dialect.name]
