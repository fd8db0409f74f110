"""Alembic wrappers: find the revisions, report the current one, upgrade to head on first use."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from cleveragents.store.engine import Database

_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def script_location() -> Path:
    """The Alembic environment: in the package when installed from a wheel, else the checkout's."""
    candidates = (_PACKAGE_ROOT / "_alembic", _PACKAGE_ROOT.parents[1] / "alembic")
    return next(path for path in candidates if path.is_dir())


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    """The newest revision this version of agents knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the Alembic environment has no revisions"
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def current_revision(db: Database) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with db.read() as conn:
        return _current(conn)


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade to ``revision`` in one write transaction; returns (before, after).

    On SQLite the write transaction is ``BEGIN IMMEDIATE`` and DDL is transactional, so two
    processes that start on a fresh database at once cannot both create the tables: the second
    waits, then finds the schema already at head.
    """
    with db.write() as conn:
        before = _current(conn)
        if before != head_revision() or revision != "head":
            command.upgrade(_config(conn), revision)
        after = _current(conn)
    return before, after


def downgrade(db: Database, revision: str) -> None:
    """Downgrade to ``revision`` (``base`` drops everything)."""
    with db.write() as conn:
        command.downgrade(_config(conn), revision)


def ensure_schema(db: Database) -> None:
    """Create or upgrade the schema on first use; cheap when it is already at head."""
    if current_revision(db) != head_revision():
        upgrade(db)
