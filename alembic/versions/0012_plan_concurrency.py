"""plan concurrency

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """How many leaves a plan runs at once now, once rate limits lowered it (AIMD)."""
    op.add_column("plans", sa.Column("concurrency", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop it in place (SQLite 3.35+ and PostgreSQL drop a column without copying the table,
    so no row of ``plans`` is deleted and re-inserted: no ``ON DELETE CASCADE`` can fire)."""
    op.drop_column("plans", "concurrency")
