"""Cheap detection of new work, so an idle worker reacts in milliseconds without hammering queries.

SQLite: ``PRAGMA data_version`` on a connection of its own changes whenever another connection
commits; checking it costs one tiny statement and touches no table. Between commits a waiter
need not check at all: it blocks on an inotify watch of the database's files
(``file_watch.py``) and checks again once they are written.

PostgreSQL: every write transaction ends with ``NOTIFY agents`` (see ``engine.py``); a connection
of our own ``LISTEN``s, and checking is a non-blocking look at its socket: no round trip at all
until a notification has arrived. A waiter blocks on that socket (``blocking_fd``).

The connection is long-lived, so it can be lost: a server restart, a failover, an administrator's
``pg_terminate_backend``, a network blip. Then the detector closes it and opens a new one, at
once and then with a growing back-off (:data:`BACKOFF_FIRST_S` doubling up to
:data:`BACKOFF_MAX_S`), never raising. It cannot know what was committed while it was
deaf, so it reports a change when it finds the connection lost and at every attempt to open
a new one, successful or not: the waiter re-reads the database (and, if the database is down,
meets and handles that failure on its own connection, as it does any other). Between two
attempts it reports nothing; every waiter also re-reads on its own timeout.
"""

from __future__ import annotations

import logging
import select
import time
from collections.abc import Callable
from typing import Any

from cleveragents.store.engine import NOTIFY_CHANNEL, Database
from cleveragents.store.failures import first_line
from cleveragents.store.file_watch import FileWatch

log = logging.getLogger("cleveragents.store")

BACKOFF_FIRST_S = 0.05  # after a failed reconnect; the first attempt is immediate
BACKOFF_MAX_S = 2.0


class ChangeDetector:
    """Tells whether anything was committed to the database since the last look."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._db = db
        self._clock = clock
        self._listening = db.notifies
        self._raw: Any = None
        self._last = 0
        self._backoff = 0.0
        self._next_attempt = 0.0
        self._lost_at: float | None = None
        self.reconnects = 0  # how many times a lost connection was replaced
        # What a lost connection raises: the driver's errors (SQLAlchemy's wrappers around them
        # when connecting), an OSError from the socket, ValueError from select() on a closed fd.
        self._failures: tuple[type[BaseException], ...] = (*db.failures, OSError, ValueError)
        # Watching starts before the first look, so no commit falls between the two.
        self._watch = None if db.path is None else FileWatch.open(db.path)
        self._connect()

    # -- the connection ---------------------------------------------------------------------

    def _connect(self) -> bool:
        """Open the connection (LISTEN on PostgreSQL); False, with the next attempt scheduled,
        when the database cannot be reached."""
        raw: Any = None
        try:
            raw = self._db.engine.raw_connection()
            if self._listening:
                driver: Any = raw.driver_connection
                driver.autocommit = True  # a LISTEN outside any transaction, for as long as we live
                driver.execute(f"LISTEN {NOTIFY_CHANNEL}")
                self._last = 0
            else:
                self._last = _version(raw)
        except self._failures as error:
            self._discard(raw)
            self._backoff = min(max(self._backoff * 2, BACKOFF_FIRST_S), BACKOFF_MAX_S)
            self._next_attempt = self._clock() + self._backoff
            log.debug("change feed: cannot connect (%s); next try in %g s", error, self._backoff)
            return False
        self._raw = raw
        self._backoff = 0.0
        if self._lost_at is not None:
            self.reconnects += 1
            log.info(
                "change feed: reconnected %.3f s after its connection was lost",
                self._clock() - self._lost_at,
            )
            self._lost_at = None
        return True

    def _lost(self, error: BaseException) -> None:
        """The connection failed: drop it; the next look tries a new one at once."""
        log.warning("change feed: connection lost (%s); reconnecting", first_line(error))
        self._discard(self._raw)
        self._raw = None
        self._lost_at = self._clock()
        self._next_attempt = self._lost_at

    @staticmethod
    def _discard(raw: Any) -> None:
        if raw is None:
            return
        try:
            raw.invalidate()  # never back into the pool: broken, or in LISTEN mode
        except Exception:  # a broken connection may fail to close: it is gone anyway
            log.debug("change feed: closing a lost connection failed", exc_info=True)

    # -- looking ----------------------------------------------------------------------------

    def _notified(self) -> bool:
        driver: Any = self._raw.driver_connection
        readable, _, _ = select.select([driver.fileno()], [], [], 0)
        if not readable:
            return False
        # Read what arrived; the notifications themselves only say "something was committed".
        # A connection closed by the server is readable too: reading raises, and it is replaced.
        return any(True for _ in driver.notifies(timeout=0))

    def changed(self) -> bool:
        """True if some other connection committed since the previous call, or if that cannot
        be known (the connection was lost; see the module docstring). Never raises."""
        if self._raw is None:
            if self._clock() < self._next_attempt:
                return False
            self._connect()
            return True  # whatever was committed while deaf: the caller re-reads
        try:
            if self._listening:
                return self._notified()
            version = _version(self._raw)
        except self._failures as error:
            self._lost(error)
            return True
        if version != self._last:
            self._last = version
            return True
        return False

    def blocking_fd(self) -> int | None:
        """A file descriptor that becomes readable when something may have been committed, for
        a waiter to block on between two :meth:`changed`; None when the waiter must poll (no
        connection, no file watch, or the database's files were written a moment ago)."""
        if self._raw is None:
            return None
        if self._listening:
            try:
                return int(self._raw.driver_connection.fileno())
            except self._failures as error:  # closed under us: the next look reconnects
                self._lost(error)
                return None
        if self._watch is None or not self._watch.settled():
            return None
        return self._watch.fileno()

    @property
    def connected(self) -> bool:
        """Whether the detector holds a working connection right now."""
        return self._raw is not None

    def close(self) -> None:
        """Give the connection back (on PostgreSQL, closed: it is in LISTEN mode)."""
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        if self._raw is None:
            return
        if self._listening:
            self._discard(self._raw)
        else:
            self._raw.close()
        self._raw = None


def _version(raw: Any) -> int:
    cursor = raw.cursor()
    try:
        cursor.execute("PRAGMA data_version")
        return int(cursor.fetchone()[0])
    finally:
        cursor.close()
