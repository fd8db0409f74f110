"""Table definitions. Every change here comes with an Alembic revision in ``alembic/versions``."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.types import TypeDecorator

from cleveragents.domain.changes import ChangeKind
from cleveragents.domain.jobs import JobPhase, JobStatus, WorkerStatus
from cleveragents.domain.locks import ResourceType
from cleveragents.domain.plans import PlanPhase, SubplanState

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes in and out.

    Values are converted to UTC before they are stored; SQLite keeps them as text in one fixed
    format, which compares correctly as strings (the claim, heartbeat and TTL queries rely on it).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC; refuse naive datetimes, which would be ambiguous."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Hand back aware UTC datetimes."""
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)


def _values(enum: type[StrEnum]) -> tuple[str, ...]:
    """The enum's values in member order: the CHECK constraints below list them in that order,
    so reordering an enum's members changes the rendered SQL (and ``alembic check`` says so)."""
    return tuple(member.value for member in enum)


JOB_STATUSES = _values(JobStatus)
JOB_PHASES = _values(JobPhase)
WORKER_STATUSES = _values(WorkerStatus)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


async_jobs = Table(
    "async_jobs",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("kind", String(100), nullable=False),
    Column("plan_id", String(26), nullable=True),
    Column("phase", String(16), nullable=True),
    Column("status", String(16), nullable=False),
    Column("priority", Integer, nullable=False, server_default=text("0")),
    Column("payload_json", JSON(none_as_null=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("max_attempts", Integer, nullable=False),
    Column("run_after", UTCDateTime(), nullable=False),
    Column("worker_id", String(64), nullable=True),
    Column("last_heartbeat", UTCDateTime(), nullable=True),
    Column("cancel_requested", Boolean(), nullable=False, server_default=false()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime(), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("error_message", Text(), nullable=True),
    Column("result_json", JSON(none_as_null=True), nullable=True),
    Column("unique_key", String(255), nullable=True),
    Column("retries", Integer, nullable=False, server_default=text("0")),
    Column("backoff_s", Float(), nullable=False, server_default=text("5")),
    Column("failures", Integer, nullable=False, server_default=text("0")),
    Column("lost", Integer, nullable=False, server_default=text("0")),
    Column("queue", String(64), nullable=False, server_default=text("'default'")),
    CheckConstraint(_in("status", JOB_STATUSES), name="status"),
    CheckConstraint("phase IS NULL OR " + _in("phase", JOB_PHASES), name="phase"),
    CheckConstraint("priority >= 0", name="priority"),
    CheckConstraint("attempts >= 0", name="attempts"),
    CheckConstraint("max_attempts >= 1", name="max_attempts"),
)

# The claim seeks straight to the queued rows, already in claim order (priority, then when due,
# then id), however many finished rows the table holds; within a priority the due rows come
# first, so jobs delayed to later are never stepped over. (A partial index WHERE status =
# 'queued' would be smaller, but SQLite's planner prefers the (status, id) index below and then
# sorts every queued row on each claim.)
Index(
    "ix_async_jobs_claim",
    async_jobs.c.status,
    async_jobs.c.priority,
    async_jobs.c.run_after,
    async_jobs.c.id,
)
# The same for a worker that serves named queues (every worker, by default: `default`).
Index(
    "ix_async_jobs_queue_claim",
    async_jobs.c.status,
    async_jobs.c.queue,
    async_jobs.c.priority,
    async_jobs.c.run_after,
    async_jobs.c.id,
)
Index("ix_async_jobs_status_id", async_jobs.c.status, async_jobs.c.id)
Index("ix_async_jobs_worker_id_status", async_jobs.c.worker_id, async_jobs.c.status)
Index("ix_async_jobs_finished_at", async_jobs.c.finished_at)
Index("ix_async_jobs_plan_id", async_jobs.c.plan_id)
# One queued or running job per unique key, whoever enqueues it (`jobs enqueue --unique-key`):
# the database decides, there is no check-then-insert.
LIVE_JOB_STATUSES = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
UNIQUE_WHILE_LIVE = async_jobs.c.status.in_(LIVE_JOB_STATUSES)
Index(
    "uq_async_jobs_unique_key",
    async_jobs.c.unique_key,
    unique=True,
    sqlite_where=UNIQUE_WHILE_LIVE,
    postgresql_where=UNIQUE_WHILE_LIVE,
)

# A job's runs that did not succeed (failed, or lost with their worker), for `jobs show`.
job_attempts = Table(
    "job_attempts",
    metadata,
    Column(
        "job_id",
        String(26),
        ForeignKey("async_jobs.id", name="fk_job_attempts_job_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("attempt", Integer, primary_key=True),
    Column("outcome", String(16), nullable=False),
    Column("worker_id", String(64), nullable=True),
    Column("started_at", UTCDateTime(), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=False),
    Column("error_message", Text(), nullable=True),
    Column("retry_at", UTCDateTime(), nullable=True),
)

workers = Table(
    "workers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("hostname", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("max_workers", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("last_heartbeat", UTCDateTime(), nullable=False),
    Column("stopped_at", UTCDateTime(), nullable=True),
    Column("jobs_running", Integer, nullable=False, server_default=text("0")),
    Column("jobs_succeeded", Integer, nullable=False, server_default=text("0")),
    Column("jobs_failed", Integer, nullable=False, server_default=text("0")),
    Column("jobs_cancelled", Integer, nullable=False, server_default=text("0")),
    Column("jobs_requeued", Integer, nullable=False, server_default=text("0")),
    Column("queues", String(1000), nullable=True),  # what it serves: "default", "a,b=2", "*"
    CheckConstraint(_in("status", WORKER_STATUSES), name="status"),
    CheckConstraint("max_workers >= 1", name="max_workers"),
)
Index("ix_workers_status_last_heartbeat", workers.c.status, workers.c.last_heartbeat)

projects = Table(
    "projects",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("root_path", Text(), nullable=False, unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

PLAN_PHASES = _values(PlanPhase)
SUBPLAN_STATES = _values(SubplanState)

plans = Table(
    "plans",
    metadata,
    Column("id", String(26), primary_key=True),
    Column(
        "project_id",
        String(26),
        ForeignKey("projects.id", name="fk_plans_project_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("action_name", String(100), nullable=False),
    Column("action_json", JSON(none_as_null=True), nullable=False),
    Column("profile_json", JSON(none_as_null=True), nullable=False),
    Column("phase", String(16), nullable=False),
    Column("leaf_count", Integer, nullable=False),
    Column("job_id", String(26), nullable=True),
    Column("owner", String(255), nullable=True),
    Column("cancel_requested", Boolean(), nullable=False, server_default=false()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime(), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("error_message", Text(), nullable=True),
    Column("concurrency", Integer, nullable=True),  # effective, once rate limits lowered it
    CheckConstraint(_in("phase", PLAN_PHASES), name="phase"),
    CheckConstraint("leaf_count >= 0", name="leaf_count"),
)
Index("ix_plans_project_id", plans.c.project_id)
Index("ix_plans_phase", plans.c.phase)

subplans = Table(
    "subplans",
    metadata,
    Column("id", String(26), primary_key=True),
    Column(
        "plan_id",
        String(26),
        ForeignKey("plans.id", name="fk_subplans_plan_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("parent_id", String(26), nullable=True),
    Column("depth", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Column("label", Text(), nullable=False),
    Column("is_leaf", Boolean(), nullable=False),
    Column("file_count", Integer, nullable=False),
    Column("files_json", JSON(none_as_null=True), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("exit_code", Integer, nullable=True),
    Column("error_message", Text(), nullable=True),
    Column("output_tail", Text(), nullable=True),
    Column("verification", String(32), nullable=True),
    Column("rejection", Text(), nullable=True),
    Column("retry_at", UTCDateTime(), nullable=True),
    Column("result_json", JSON(none_as_null=True), nullable=True),  # the latest attempt's
    Column("result_error", Text(), nullable=True),  # why the latest result was invalid
    Column("cost_usd", Float(), nullable=True),  # summed over the leaf's attempts
    Column("input_tokens", Integer, nullable=True),
    Column("output_tokens", Integer, nullable=True),
    Column("started_at", UTCDateTime(), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    CheckConstraint(_in("state", SUBPLAN_STATES), name="state"),
)
Index("ix_subplans_plan_id_position", subplans.c.plan_id, subplans.c.position)
Index("ix_subplans_plan_id_state", subplans.c.plan_id, subplans.c.state)

plan_events = Table(
    "plan_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "plan_id",
        String(26),
        ForeignKey("plans.id", name="fk_plan_events_plan_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("subplan_id", String(26), nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("data_json", JSON(none_as_null=True), nullable=False),
)
Index("ix_plan_events_plan_id_id", plan_events.c.plan_id, plan_events.c.id)

LOCK_RESOURCE_TYPES = _values(ResourceType)

locks = Table(
    "locks",
    metadata,
    Column("id", String(26), primary_key=True),
    Column("owner_id", String(255), nullable=False),
    Column("resource_type", String(16), nullable=False),
    Column("resource_id", String(255), nullable=False),
    Column("acquired_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    CheckConstraint(_in("resource_type", LOCK_RESOURCE_TYPES), name="resource_type"),
    UniqueConstraint("resource_type", "resource_id", name="uq_locks_resource_type_resource_id"),
)
Index("ix_locks_owner_id", locks.c.owner_id)
Index("ix_locks_expires_at", locks.c.expires_at)

CHANGE_KINDS = _values(ChangeKind)
_CREATED, _MODIFIED, _DELETED = (
    repr(kind.value) for kind in (ChangeKind.CREATED, ChangeKind.MODIFIED, ChangeKind.DELETED)
)

changes = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "plan_id",
        String(26),
        ForeignKey("plans.id", name="fk_changes_plan_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "subplan_id",
        String(26),
        ForeignKey("subplans.id", name="fk_changes_subplan_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("path", Text(), nullable=False),
    Column("change", String(16), nullable=False),
    Column("base_sha256", String(64), nullable=True),
    Column("base_mode", Integer, nullable=True),
    # Whether the content before was kept (in the blob of base_sha256; a diff shows it); the
    # new content always is, in the blob of new_sha256.
    Column("base_kept", Boolean(), nullable=False, server_default=false()),
    Column("new_sha256", String(64), nullable=True),
    Column("mode", Integer, nullable=True),
    Column("size", Integer, nullable=False),
    Column("applied_at", UTCDateTime(), nullable=True),
    # One of its leaf's own files; false for a change kept by an action with scope = "project".
    Column("in_scope", Boolean(), nullable=False, server_default=true()),
    CheckConstraint(_in("change", CHANGE_KINDS), name="change"),
    CheckConstraint(
        f"(change = {_CREATED} AND base_sha256 IS NULL AND new_sha256 IS NOT NULL)"
        f" OR (change = {_MODIFIED} AND base_sha256 IS NOT NULL AND new_sha256 IS NOT NULL)"
        f" OR (change = {_DELETED} AND base_sha256 IS NOT NULL AND new_sha256 IS NULL)",
        name="shape",
    ),
    UniqueConstraint("subplan_id", "path", name="uq_changes_subplan_id_path"),
)
Index("ix_changes_plan_id_path", changes.c.plan_id, changes.c.path)

# File contents, once per content hash, zlib-compressed: the changes of every leaf and plan that
# recorded the same bytes share one row (20 runs of a codemod over a project store its files
# once). ``used_at`` is when a change last referred to it: the collector (store/blobs.py) keeps
# a blob a recording transaction may be about to refer to.
blobs = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary(), nullable=False),
    Column("used_at", UTCDateTime(), nullable=False),
)

# Each attempt's output, in the order it was written: chunks of redacted UTF-8 text, compressed
# (zlib). ``size`` is the chunk's length before compression.
subplan_logs = Table(
    "subplan_logs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "plan_id",
        String(26),
        ForeignKey("plans.id", name="fk_subplan_logs_plan_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "subplan_id",
        String(26),
        ForeignKey("subplans.id", name="fk_subplan_logs_subplan_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("attempt", Integer, nullable=False),
    Column("data", LargeBinary(), nullable=False),
    Column("size", Integer, nullable=False),
)
Index(
    "ix_subplan_logs_plan_id_subplan_id_attempt",
    subplan_logs.c.plan_id,
    subplan_logs.c.subplan_id,
    subplan_logs.c.attempt,
)
