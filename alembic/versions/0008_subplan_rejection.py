"""subplan rejection

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Why a leaf's changes were rejected before apply (``agents plan reject``), if they were."""
    op.add_column("subplans", sa.Column("rejection", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop it in place (SQLite 3.35+ and PostgreSQL drop a column without copying the table,
    so no row of ``subplans`` is deleted and re-inserted: no ``ON DELETE CASCADE`` can fire)."""
    op.drop_column("subplans", "rejection")
