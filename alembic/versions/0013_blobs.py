"""file contents once per content hash

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

import zlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from cleveragents.store.tables import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE = 200  # changes moved per round trip
LEVEL = 6

blobs = sa.table(
    "blobs",
    sa.column("sha256", sa.String),
    sa.column("size", sa.Integer),
    sa.column("data", sa.LargeBinary),
    sa.column("used_at", UTCDateTime),
)
changes = sa.table(
    "changes",
    sa.column("id", sa.Integer),
    sa.column("base_sha256", sa.String),
    sa.column("base_content", sa.LargeBinary),
    sa.column("new_sha256", sa.String),
    sa.column("new_content", sa.LargeBinary),
    sa.column("base_kept", sa.Boolean),
)


def _pages(bind: sa.Connection, *columns: Any) -> Iterator[list[Any]]:
    """The rows of ``changes`` (its id first, then ``columns``), PAGE at a time, by id."""
    last = 0
    while True:
        rows = bind.execute(
            sa.select(changes.c.id, *columns)
            .where(changes.c.id > last)
            .order_by(changes.c.id)
            .limit(PAGE)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        yield rows


def upgrade() -> None:
    """Move every recorded content into ``blobs`` (once per SHA-256, compressed) and drop the
    content columns of ``changes``. A change whose content before was kept says so
    (``base_kept``: its blob is that of ``base_sha256``); the new content is the blob of
    ``new_sha256``. Columns are added and dropped in place (SQLite 3.35+, PostgreSQL): no row
    of ``changes`` is copied."""
    bind = op.get_bind()
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_blobs")),
    )
    op.add_column(
        "changes",
        sa.Column("base_kept", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    now = datetime.now(UTC)
    for rows in _pages(
        bind,
        changes.c.base_sha256,
        changes.c.base_content,
        changes.c.new_sha256,
        changes.c.new_content,
    ):
        contents: dict[str, bytes] = {}
        with_base: list[dict[str, object]] = []
        for _id, base_sha, base, new_sha, new in rows:
            if new_sha is not None and new is not None:
                contents[new_sha] = new
            if base_sha is not None and base is not None:
                contents[base_sha] = base
                with_base.append({"b_id": _id})
        known = set(
            bind.execute(sa.select(blobs.c.sha256).where(blobs.c.sha256.in_(list(contents))))
            .scalars()
            .all()
        )
        fresh = [
            {"sha256": sha, "size": len(data), "data": zlib.compress(data, LEVEL), "used_at": now}
            for sha, data in contents.items()
            if sha not in known
        ]
        if fresh:
            bind.execute(sa.insert(blobs), fresh)
        if with_base:
            bind.execute(
                changes.update().where(changes.c.id == sa.bindparam("b_id")).values(base_kept=True),
                with_base,
            )
    op.drop_column("changes", "base_content")
    op.drop_column("changes", "new_content")


def downgrade() -> None:
    """Put the contents back into ``changes`` and drop ``blobs``."""
    bind = op.get_bind()
    op.add_column("changes", sa.Column("base_content", sa.LargeBinary(), nullable=True))
    op.add_column("changes", sa.Column("new_content", sa.LargeBinary(), nullable=True))
    kept_base = sa.case((changes.c.base_kept, changes.c.base_sha256), else_=sa.null())
    for rows in _pages(bind, changes.c.new_sha256, kept_base):
        shas = {sha for row in rows for sha in row[1:] if sha}
        data = {
            sha: zlib.decompress(blob)
            for sha, blob in bind.execute(
                sa.select(blobs.c.sha256, blobs.c.data).where(blobs.c.sha256.in_(list(shas)))
            )
        }
        bind.execute(
            changes.update()
            .where(changes.c.id == sa.bindparam("b_id"))
            .values(base_content=sa.bindparam("b_base"), new_content=sa.bindparam("b_new")),
            [
                {"b_id": _id, "b_base": data.get(base or ""), "b_new": data.get(new or "")}
                for _id, new, base in rows
            ],
        )
    op.drop_column("changes", "base_kept")
    op.drop_table("blobs")
