"""changes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cleveragents.store.tables import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the changes sandboxed subplans leave for review and apply."""
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.String(26), nullable=False),
        sa.Column("subplan_id", sa.String(26), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
        sa.Column("base_sha256", sa.String(64), nullable=True),
        sa.Column("base_mode", sa.Integer(), nullable=True),
        sa.Column("base_content", sa.LargeBinary(), nullable=True),
        sa.Column("new_sha256", sa.String(64), nullable=True),
        sa.Column("new_content", sa.LargeBinary(), nullable=True),
        sa.Column("mode", sa.Integer(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("applied_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "change IN ('created', 'modified', 'deleted')", name=op.f("ck_changes_change")
        ),
        sa.CheckConstraint(
            "(change = 'created' AND base_sha256 IS NULL AND new_sha256 IS NOT NULL)"
            " OR (change = 'modified' AND base_sha256 IS NOT NULL AND new_sha256 IS NOT NULL)"
            " OR (change = 'deleted' AND base_sha256 IS NOT NULL AND new_sha256 IS NULL)",
            name=op.f("ck_changes_shape"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name="fk_changes_plan_id", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subplan_id"], ["subplans.id"], name="fk_changes_subplan_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
        sa.UniqueConstraint("subplan_id", "path", name="uq_changes_subplan_id_path"),
    )
    op.create_index("ix_changes_plan_id_path", "changes", ["plan_id", "path"])


def downgrade() -> None:
    """Drop the changes."""
    op.drop_table("changes")
