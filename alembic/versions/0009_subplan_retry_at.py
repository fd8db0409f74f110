"""subplan retry time

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cleveragents.store.tables import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """When a leaf whose attempt failed will be tried again (it waits without holding a slot)."""
    op.add_column("subplans", sa.Column("retry_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Drop it in place (as 0008 does: no row of ``subplans`` is copied)."""
    op.drop_column("subplans", "retry_at")
