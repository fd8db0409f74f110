"""async_jobs and workers

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cleveragents.store.tables import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the job queue and the worker registry."""
    op.create_table(
        "async_jobs",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("plan_id", sa.String(26), nullable=True),
        sa.Column("phase", sa.String(16), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("payload_json", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", UTCDateTime(), nullable=False),
        sa.Column("worker_id", sa.String(64), nullable=True),
        sa.Column("last_heartbeat", UTCDateTime(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("result_json", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')",
            name=op.f("ck_async_jobs_status"),
        ),
        sa.CheckConstraint(
            "phase IS NULL OR phase IN ('execute', 'apply')", name=op.f("ck_async_jobs_phase")
        ),
        sa.CheckConstraint("priority >= 0", name=op.f("ck_async_jobs_priority")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_async_jobs_attempts")),
        sa.CheckConstraint("max_attempts >= 1", name=op.f("ck_async_jobs_max_attempts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_async_jobs")),
    )
    op.create_index("ix_async_jobs_claim", "async_jobs", ["status", "priority", "id"])
    op.create_index("ix_async_jobs_status_id", "async_jobs", ["status", "id"])
    op.create_index("ix_async_jobs_worker_id_status", "async_jobs", ["worker_id", "status"])
    op.create_index("ix_async_jobs_finished_at", "async_jobs", ["finished_at"])
    op.create_index("ix_async_jobs_plan_id", "async_jobs", ["plan_id"])
    op.create_table(
        "workers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("max_workers", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("last_heartbeat", UTCDateTime(), nullable=False),
        sa.Column("stopped_at", UTCDateTime(), nullable=True),
        sa.Column("jobs_running", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("jobs_succeeded", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("jobs_failed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("jobs_cancelled", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("jobs_requeued", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(
            "status IN ('running', 'stopped', 'lost')", name=op.f("ck_workers_status")
        ),
        sa.CheckConstraint("max_workers >= 1", name=op.f("ck_workers_max_workers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    op.create_index("ix_workers_status_last_heartbeat", "workers", ["status", "last_heartbeat"])


def downgrade() -> None:
    """Drop the job queue and the worker registry."""
    op.drop_index("ix_workers_status_last_heartbeat", table_name="workers")
    op.drop_table("workers")
    for name in (
        "ix_async_jobs_plan_id",
        "ix_async_jobs_finished_at",
        "ix_async_jobs_worker_id_status",
        "ix_async_jobs_status_id",
        "ix_async_jobs_claim",
    ):
        op.drop_index(name, table_name="async_jobs")
    op.drop_table("async_jobs")
