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
    with op.batch_alter_table("subplans") as batch:
        batch.add_column(sa.Column("verification", sa.String(32), nullable=True))


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("subplans") as batch:
        batch.drop_column("verification")
