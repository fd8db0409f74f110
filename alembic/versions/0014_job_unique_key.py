"""job unique key

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text("status IN ('queued', 'running')")


def upgrade() -> None:
    """A job's unique key, held by one queued or running job at a time (a partial unique
    index); the column is added in place, every existing job without one."""
    op.add_column("async_jobs", sa.Column("unique_key", sa.String(255), nullable=True))
    op.create_index(
        "uq_async_jobs_unique_key",
        "async_jobs",
        ["unique_key"],
        unique=True,
        sqlite_where=LIVE,
        postgresql_where=LIVE,
    )


def downgrade() -> None:
    """Drop the index and the column (in place)."""
    op.drop_index("uq_async_jobs_unique_key", "async_jobs")
    op.drop_column("async_jobs", "unique_key")
