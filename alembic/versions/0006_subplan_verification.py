"""subplan verification

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """How each leaf's verification came out (passed, failed, failed on the base too)."""
    op.add_column("subplans", sa.Column("verification", sa.String(32), nullable=True))


def downgrade() -> None:
    """Drop it in place (SQLite 3.35+ and PostgreSQL drop a column without copying the table,
    so no row of ``subplans`` is deleted and re-inserted: no ``ON DELETE CASCADE`` can fire)."""
    op.drop_column("subplans", "verification")
