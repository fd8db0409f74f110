"""subplan results

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("result_json", "result_error", "cost_usd", "input_tokens", "output_tokens")


def upgrade() -> None:
    """A leaf's latest result (or why it was invalid) and what its attempts cost in all."""
    op.add_column("subplans", sa.Column("result_json", sa.JSON(none_as_null=True), nullable=True))
    op.add_column("subplans", sa.Column("result_error", sa.Text(), nullable=True))
    op.add_column("subplans", sa.Column("cost_usd", sa.Float(), nullable=True))
    op.add_column("subplans", sa.Column("input_tokens", sa.Integer(), nullable=True))
    op.add_column("subplans", sa.Column("output_tokens", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop them in place (as 0008 does: no row of ``subplans`` is copied)."""
    for name in reversed(_COLUMNS):
        op.drop_column("subplans", name)
