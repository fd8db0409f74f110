"""job retries

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cleveragents.store.tables import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("retries", "backoff_s", "failures", "lost")


def upgrade() -> None:
    """Retries of failed jobs (how many, the backoff, failures so far), lost runs counted apart
    from them, and the history of the runs that did not succeed. Columns are added in place,
    with defaults every existing job takes."""
    for column, kind, default in (
        ("retries", sa.Integer(), "0"),
        ("backoff_s", sa.Float(), "5"),
        ("failures", sa.Integer(), "0"),
        ("lost", sa.Integer(), "0"),
    ):
        op.add_column(
            "async_jobs",
            sa.Column(column, kind, nullable=False, server_default=sa.text(default)),
        )
    op.create_table(
        "job_attempts",
        sa.Column("job_id", sa.String(26), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("worker_id", sa.String(64), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("retry_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["async_jobs.id"], name="fk_job_attempts_job_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "attempt", name="pk_job_attempts"),
    )


def downgrade() -> None:
    """Drop the history and the columns (in place)."""
    op.drop_table("job_attempts")
    for column in COLUMNS:
        op.drop_column("async_jobs", column)
