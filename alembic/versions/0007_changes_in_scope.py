"""changes in scope

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Mark each change in or out of its leaf's own files; every change recorded so far is in.

    A plain ``ADD COLUMN`` with a constant default, so SQLite keeps the table (and its contents)
    where it is instead of copying it.
    """
    op.add_column(
        "changes", sa.Column("in_scope", sa.Boolean(), server_default=sa.true(), nullable=False)
    )


def downgrade() -> None:
    """Drop the mark (SQLite copies the table without it)."""
    with op.batch_alter_table("changes") as batch_op:
        batch_op.drop_column("in_scope")
