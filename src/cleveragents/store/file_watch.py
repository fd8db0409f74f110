"""Wake on writes to a SQLite database's files, so an idle waiter can block instead of polling.

SQLite has no notifications: the only sign that another process committed is that its files
were written. On Linux, inotify (through ``inotify_simple``) watches the database's directory
for writes to the database, its ``-wal`` or its ``-journal``: a commit in WAL mode appends to
the ``-wal``, one in rollback mode writes the database itself.

A write is not yet a visible commit: SQLite publishes a WAL commit in its shared-memory index
(``-shm``, written through ``mmap``, which inotify does not see) just after the last write, and
after an fsync when ``synchronous = FULL``. A reader that looks at ``PRAGMA data_version`` in
between sees nothing new. So after any write the watch reports itself *unsettled* for
:data:`SETTLE_S`: the change detector then looks every few milliseconds, as it did before it
could block, and blocks again once the files have been quiet that long. A busy database is
polled as before; an idle one costs nothing.

Where inotify cannot be had (another system, the per-user limit of instances reached), there
is no watch and the detector polls all the time, as before.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("cleveragents.store")

SETTLE_S = 0.05  # after a write to the database's files, poll this long before blocking again
SUFFIXES = ("", "-wal", "-journal")


class FileWatch:
    """Tells when the database's files were written; ``fileno()`` is readable when they were."""

    def __init__(self, inotify: Any, names: frozenset[str]) -> None:
        self._inotify = inotify
        self._names = names
        self._written_at = time.monotonic()  # unsettled at first: whatever came before

    @classmethod
    def open(cls, database: Path) -> FileWatch | None:
        """A watch on ``database``'s files, or None where inotify is not available."""
        try:
            from inotify_simple import INotify, flags
        except ImportError:  # pragma: no cover - the dependency is Linux only; CI runs Linux
            return None
        try:
            inotify = INotify()
        except OSError as error:  # the per-user limit of inotify instances, say
            log.debug("no inotify (%s): idle waits poll the database", error)
            return None
        mask = flags.MODIFY | flags.CREATE | flags.MOVED_TO
        directory = database.resolve().parent
        try:
            inotify.add_watch(os.fspath(directory), mask)
        except OSError as error:  # the per-user limit of watches, a directory gone
            inotify.close()
            log.debug("cannot watch %s (%s): idle waits poll the database", directory, error)
            return None
        names = frozenset(database.name + suffix for suffix in SUFFIXES)
        return cls(inotify, names)

    def fileno(self) -> int:
        """Readable when a write was seen and not yet taken by :meth:`settled`."""
        return int(self._inotify.fileno())

    def settled(self) -> bool:
        """Take what was seen; True if the files have been quiet for :data:`SETTLE_S`, so a
        waiter may block on :meth:`fileno` without missing a commit being published."""
        if any(event.name in self._names for event in self._inotify.read(timeout=0)):
            self._written_at = time.monotonic()
        return time.monotonic() - self._written_at >= SETTLE_S

    def close(self) -> None:
        """Release the inotify instance."""
        self._inotify.close()
