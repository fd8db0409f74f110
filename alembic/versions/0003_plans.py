"""plans, subplans and plan_events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cleveragents.store.tables import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PHASES = "'created', 'executing', 'executed', 'applying', 'applied', 'failed', 'cancelled'"
STATES = "'pending', 'running', 'completed', 'failed', 'cancelled'"


def upgrade() -> None:
    """Create plans, their subplan trees and their event logs."""
    op.create_table(
        "plans",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("project_id", sa.String(26), nullable=False),
        sa.Column("action_name", sa.String(100), nullable=False),
        sa.Column("action_json", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("profile_json", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("leaf_count", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(26), nullable=True),
        sa.Column("owner", sa.String(255), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.CheckConstraint(f"phase IN ({PHASES})", name=op.f("ck_plans_phase")),
        sa.CheckConstraint("leaf_count >= 0", name=op.f("ck_plans_leaf_count")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_plans_project_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    op.create_index("ix_plans_project_id", "plans", ["project_id"])
    op.create_index("ix_plans_phase", "plans", ["phase"])
    op.create_table(
        "subplans",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("plan_id", sa.String(26), nullable=False),
        sa.Column("parent_id", sa.String(26), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("is_leaf", sa.Boolean(), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("files_json", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("output_tail", sa.Text(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(f"state IN ({STATES})", name=op.f("ck_subplans_state")),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name="fk_subplans_plan_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subplans")),
    )
    op.create_index("ix_subplans_plan_id_position", "subplans", ["plan_id", "position"])
    op.create_index("ix_subplans_plan_id_state", "subplans", ["plan_id", "state"])
    op.create_table(
        "plan_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.String(26), nullable=False),
        sa.Column("subplan_id", sa.String(26), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("data_json", sa.JSON(none_as_null=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name="fk_plan_events_plan_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_events")),
    )
    op.create_index("ix_plan_events_plan_id_id", "plan_events", ["plan_id", "id"])


def downgrade() -> None:
    """Drop plans and everything that hangs off them."""
    op.drop_table("plan_events")
    op.drop_table("subplans")
    op.drop_table("plans")
