"""schedules

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cleveragents.store.tables import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Schedules, and the slots each has run (one row per slot: its primary key)."""
    op.create_table(
        "schedules",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("payload_json", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("job_json", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("cron", sa.String(200), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("every_s", sa.Float(), nullable=True),
        sa.Column("catch_up", sa.String(16), nullable=False, server_default=sa.text("'latest'")),
        sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("next_run_at", UTCDateTime(), nullable=False),
        sa.Column("last_run_at", UTCDateTime(), nullable=True),
        sa.Column("last_job_id", sa.String(26), nullable=True),
        sa.CheckConstraint(
            "(cron IS NULL) <> (every_s IS NULL)", name=op.f("ck_schedules_cron_or_every")
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_schedules")),
    )
    op.create_index("ix_schedules_paused_next_run_at", "schedules", ["paused", "next_run_at"])
    op.create_table(
        "schedule_runs",
        sa.Column("schedule_name", sa.String(100), nullable=False),
        sa.Column("slot", UTCDateTime(), nullable=False),
        sa.Column("job_id", sa.String(26), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_name"],
            ["schedules.name"],
            name="fk_schedule_runs_schedule_name",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("schedule_name", "slot", name=op.f("pk_schedule_runs")),
    )
    op.create_index("ix_schedule_runs_created_at", "schedule_runs", ["created_at"])


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("schedule_runs")
    op.drop_table("schedules")
