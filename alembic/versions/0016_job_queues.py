"""named queues

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """A job's queue (every existing job in `default`), the claim's index by queue, and the
    queues each worker serves. Columns are added in place."""
    op.add_column(
        "async_jobs",
        sa.Column("queue", sa.String(64), nullable=False, server_default=sa.text("'default'")),
    )
    op.create_index(
        "ix_async_jobs_queue_claim", "async_jobs", ["status", "queue", "priority", "id"]
    )
    op.add_column("workers", sa.Column("queues", sa.String(1000), nullable=True))


def downgrade() -> None:
    """Drop the index and the columns (in place)."""
    op.drop_column("workers", "queues")
    op.drop_index("ix_async_jobs_queue_claim", "async_jobs")
    op.drop_column("async_jobs", "queue")
