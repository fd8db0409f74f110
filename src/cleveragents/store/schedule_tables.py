"""The tables of schedules (`agents schedule`): each schedule, and each slot it has run, whose
primary key is what makes a slot run once however many workers check at the same moment."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    false,
    text,
)

from cleveragents.store.tables import UTCDateTime, metadata

schedules = Table(
    "schedules",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("kind", String(100), nullable=False),
    Column("payload_json", JSON(none_as_null=True), nullable=False),
    Column("job_json", JSON(none_as_null=True), nullable=False),  # queue, priority, retries...
    Column("cron", String(200), nullable=True),
    Column("timezone", String(64), nullable=True),
    Column("every_s", Float(), nullable=True),
    Column("catch_up", String(16), nullable=False, server_default=text("'latest'")),
    Column("paused", Boolean(), nullable=False, server_default=false()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("next_run_at", UTCDateTime(), nullable=False),
    Column("last_run_at", UTCDateTime(), nullable=True),
    Column("last_job_id", String(26), nullable=True),
    CheckConstraint("(cron IS NULL) <> (every_s IS NULL)", name="cron_or_every"),
)
# The check each worker makes (at most once a second): are any schedules due?
Index("ix_schedules_paused_next_run_at", schedules.c.paused, schedules.c.next_run_at)

schedule_runs = Table(
    "schedule_runs",
    metadata,
    Column(
        "schedule_name",
        String(100),
        ForeignKey("schedules.name", name="fk_schedule_runs_schedule_name", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("slot", UTCDateTime(), primary_key=True),
    Column("job_id", String(26), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)
Index("ix_schedule_runs_created_at", schedule_runs.c.created_at)
