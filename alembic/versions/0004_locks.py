"""locks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cleveragents.store.tables import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the plan and project locks."""
    op.create_table(
        "locks",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("owner_id", sa.String(255), nullable=False),
        sa.Column("resource_type", sa.String(16), nullable=False),
        sa.Column("resource_id", sa.String(255), nullable=False),
        sa.Column("acquired_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "resource_type IN ('plan', 'project')", name=op.f("ck_locks_resource_type")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locks")),
        sa.UniqueConstraint(
            "resource_type", "resource_id", name="uq_locks_resource_type_resource_id"
        ),
    )
    op.create_index("ix_locks_owner_id", "locks", ["owner_id"])
    op.create_index("ix_locks_expires_at", "locks", ["expires_at"])


def downgrade() -> None:
    """Drop the locks."""
    op.drop_table("locks")
