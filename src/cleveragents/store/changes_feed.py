"""Cheap detection of new work, so an idle worker reacts in milliseconds without hammering queries.

``PRAGMA data_version`` on a connection of its own changes whenever another connection commits:
checking it costs one tiny statement and touches no table. (PostgreSQL will use LISTEN/NOTIFY.)
"""

from __future__ import annotations

from typing import Any

from cleveragents.store.engine import Database


class ChangeDetector:
    """Tells whether anything was committed to the database since the last look."""

    def __init__(self, db: Database) -> None:
        self._raw: Any = db.engine.raw_connection()
        self._last = self._version()

    def _version(self) -> int:
        cursor = self._raw.cursor()
        try:
            cursor.execute("PRAGMA data_version")
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    def changed(self) -> bool:
        """True if some other connection committed since the previous call."""
        version = self._version()
        if version != self._last:
            self._last = version
            return True
        return False

    def close(self) -> None:
        """Give the connection back."""
        self._raw.close()
