"""Alembic wrappers: find the revisions, report the current one, upgrade to head on first use.

Alembic is imported only when a migration actually runs: every `agents` command checks the
schema, and importing Alembic costs more than the rest of a quick command.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

from cleveragents.errors import DatabaseUnavailableError
from cleveragents.store.engine import Database

if TYPE_CHECKING:
    from alembic.config import Config

# The newest revision in alembic/versions. A behave scenario checks it against Alembic's own
# view of the scripts, so a new revision without this bump fails the suite.
HEAD_REVISION = "0018"

MIGRATION_LOCK_KEY = 0x6167656E7473  # "agents": the PostgreSQL advisory lock migrations hold
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def script_location() -> Path:
    """The Alembic environment: in the package when installed from a wheel, else the checkout's."""
    candidates = (_PACKAGE_ROOT / "_alembic", _PACKAGE_ROOT.parents[1] / "alembic")
    return next(path for path in candidates if path.is_dir())


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def scripts_head() -> str | None:
    """The head revision according to the scripts themselves (imports Alembic)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def _current(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def current_revision(db: Database) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with db.read() as conn:
        return _current(conn)


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade to ``revision`` in one write transaction; returns (before, after).

    On SQLite the write transaction is ``BEGIN IMMEDIATE`` and DDL is transactional, so two
    processes that start on a fresh database at once cannot both create the tables: the second
    waits, then finds the schema already at head. PostgreSQL gets the same from an advisory lock.
    """
    with db.write() as conn:
        if conn.dialect.name == "postgresql":
            # One migrator at a time (held until commit); the next then finds the schema at head.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        before = _current(conn)
        if before != HEAD_REVISION or revision != "head":
            from alembic import command
            from alembic.util import CommandError

            try:
                command.upgrade(_config(conn), revision)
            except CommandError as error:
                raise DatabaseUnavailableError(
                    f"cannot use database {db.safe_url}: its schema is at revision {before!r}, "
                    f"which this version of agents does not know ({error}); is it newer?"
                ) from None
        after = _current(conn)
    return before, after


def downgrade(db: Database, revision: str) -> None:
    """Downgrade to ``revision`` (``base`` drops everything)."""
    from alembic import command

    with db.write() as conn:
        command.downgrade(_config(conn), revision)


def ensure_schema(db: Database) -> None:
    """Create or upgrade the schema on first use; one cheap query when it is already at head."""
    if current_revision(db) != HEAD_REVISION:
        upgrade(db)
