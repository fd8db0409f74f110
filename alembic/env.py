"""Alembic environment: the same revisions run from the `alembic` command and from `agents`.

`agents` passes an open connection in ``config.attributes["connection"]``; the `alembic` command
gets its URL from agents' settings. ``render_as_batch`` lets SQLite alter tables by copy-and-move.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from cleveragents.settings import load_settings
from cleveragents.store.engine import Database
from cleveragents.store.schedule_tables import schedules  # noqa: F401 - its tables join the metadata
from cleveragents.store.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the given connection, or open the configured database."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    loaded = load_settings()
    database = Database(loaded.settings.database_url, loaded.settings.sqlite)
    database.open()
    try:
        with database.engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        database.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
