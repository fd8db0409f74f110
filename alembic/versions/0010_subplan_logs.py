"""subplan logs

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Every attempt's output, in compressed chunks (``agents plan logs``)."""
    op.create_table(
        "subplan_logs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.String(length=26), nullable=False),
        sa.Column("subplan_id", sa.String(length=26), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name="fk_subplan_logs_plan_id", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subplan_id"], ["subplans.id"], name="fk_subplan_logs_subplan_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_subplan_logs"),
    )
    op.create_index(
        "ix_subplan_logs_plan_id_subplan_id_attempt",
        "subplan_logs",
        ["plan_id", "subplan_id", "attempt"],
    )


def downgrade() -> None:
    """Drop the logs."""
    op.drop_index("ix_subplan_logs_plan_id_subplan_id_attempt", table_name="subplan_logs")
    op.drop_table("subplan_logs")
