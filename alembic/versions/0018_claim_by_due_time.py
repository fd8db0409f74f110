"""claim by due time

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = {
    "ix_async_jobs_claim": ["status", "priority", "id"],
    "ix_async_jobs_queue_claim": ["status", "queue", "priority", "id"],
}
AFTER = {
    "ix_async_jobs_claim": ["status", "priority", "run_after", "id"],
    "ix_async_jobs_queue_claim": ["status", "queue", "priority", "run_after", "id"],
}


def _rebuild(indexes: dict[str, list[str]]) -> None:
    for name, columns in indexes.items():
        op.drop_index(name, "async_jobs")
        op.create_index(name, "async_jobs", columns)


def upgrade() -> None:
    """The claim orders by priority, then due time (run_after), then id; its indexes follow, so
    that jobs delayed to later are never stepped over to reach the due ones."""
    _rebuild(AFTER)


def downgrade() -> None:
    """The indexes by priority and id."""
    _rebuild(BEFORE)
