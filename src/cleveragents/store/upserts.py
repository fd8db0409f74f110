"""``INSERT … ON CONFLICT``, which SQLAlchemy spells per dialect: the one place that picks it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table


def insert_on_conflict(dialect_name: str, table: Table) -> Any:
    """An insert into ``table`` with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` for
    this dialect (PostgreSQL or SQLite; each dialect's module is imported on first use, the
    PostgreSQL one costing 20 ms)."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
