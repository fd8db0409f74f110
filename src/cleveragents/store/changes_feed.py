"""Cheap detection of new work, so an idle worker reacts in milliseconds without hammering queries.

SQLite: ``PRAGMA data_version`` on a connection of its own changes whenever another connection
commits; checking it costs one tiny statement and touches no table.

PostgreSQL: every write transaction ends with ``NOTIFY agents`` (see ``engine.py``); a connection
of our own ``LISTEN``s, and checking is a non-blocking look at its socket: no round trip at all
until a notification has arrived.
"""

from __future__ import annotations

import select
from typing import Any

from cleveragents.store.engine import NOTIFY_CHANNEL, Database


class ChangeDetector:
    """Tells whether anything was committed to the database since the last look."""

    def __init__(self, db: Database) -> None:
        self._raw: Any = db.engine.raw_connection()
        self._listening = db.notifies
        if self._listening:
            driver: Any = self._raw.driver_connection
            driver.autocommit = True  # a LISTEN outside any transaction, for as long as we live
            driver.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self._last = 0
        else:
            self._last = self._version()

    def _version(self) -> int:
        cursor = self._raw.cursor()
        try:
            cursor.execute("PRAGMA data_version")
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    def _notified(self) -> bool:
        driver: Any = self._raw.driver_connection
        readable, _, _ = select.select([driver.fileno()], [], [], 0)
        if not readable:
            return False
        # Read what arrived; the notifications themselves only say "something was committed".
        return any(True for _ in driver.notifies(timeout=0))

    def changed(self) -> bool:
        """True if some other connection committed since the previous call."""
        if self._listening:
            return self._notified()
        version = self._version()
        if version != self._last:
            self._last = version
            return True
        return False

    def close(self) -> None:
        """Give the connection back (on PostgreSQL, closed: it is in LISTEN mode)."""
        if self._listening:
            self._raw.invalidate()  # never back into the pool with LISTEN and autocommit on
            return
        self._raw.close()
