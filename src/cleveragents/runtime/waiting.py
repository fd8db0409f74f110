"""The one way to wait for the database to change: every waiter (the worker's idle loop, `jobs
wait`, `plan watch`, the diagnostics probe) blocks here, on the change feed. A waiter that has a
``stop`` (the worker: a finished job, a stop, a signal's flag) is cut short by it at once;
a terminal command's wait is ended by Ctrl-C.

``ChangeFeed.wait`` returns as soon as another connection commits (``ChangeDetector``: SQLite's
``PRAGMA data_version``, PostgreSQL's ``LISTEN``), as soon as ``stop`` is set, or when the timeout
passes. It blocks in ``select()`` on the detector's socket or file watch and on the stop's own
file descriptor (a ``Doorbell``) when both have one, and looks every ``CHECK_INTERVAL_S``
otherwise: an idle waiter costs no CPU. ``wait_until`` re-reads something after every commit
(and at least every ``reread_s``, in case a commit came from this very connection) until it is
what the caller waits for. If the database goes away after the first read (a restart, a
failover), the wait goes on, re-reading with a back-off; a damaged database ends it at once,
and a wait whose time runs out while the database is unreachable raises that error.
"""

from __future__ import annotations

import logging
import select
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from cleveragents.domain.jobs import AsyncJob
from cleveragents.errors import DatabaseCorruptError, StoreError
from cleveragents.store.changes_feed import ChangeDetector
from cleveragents.store.engine import Database
from cleveragents.store.jobs import JobStore

T = TypeVar("T")

CHECK_INTERVAL_S = 0.005  # how often a waiter looks at the change feed (one tiny statement)
log = logging.getLogger("cleveragents.waiting")

REREAD_S = 1.0  # re-read at least this often, whatever the change feed says
OUTAGE_FIRST_S = 0.05  # a long wait whose database went away retries after this ...
OUTAGE_MAX_S = 2.0  # ... doubling up to this


class Stop(Protocol):
    """What can cut a wait short: a ``threading.Event``, a ``CancellationToken``, or anything
    whose ``wait(timeout)`` returns True once the waiter should stop waiting."""

    def wait(self, timeout: float | None = None) -> bool:
        """Block up to ``timeout`` seconds; True once set."""
        ...


class SelectableStop(Stop, Protocol):
    """A stop that ``select()`` can wait on: its ``fileno()`` is readable once it is set."""

    def fileno(self) -> int:
        """The descriptor to wait on."""
        ...


def _pause(seconds: float, stop: Stop | None) -> bool:
    """Wait ``seconds``; True if ``stop`` was set meanwhile. Without ``stop`` only a signal
    (Ctrl-C in a terminal command) ends it early."""
    if stop is not None:
        return stop.wait(seconds)
    time.sleep(seconds)
    return False


def pause(seconds: float, stop: Stop) -> bool:
    """Wait ``seconds`` unless ``stop`` is set first (looked at every ``CHECK_INTERVAL_S``, so a
    ``stop`` that also reads a flag, like the worker's, is honoured promptly); True if stopped."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if stop.wait(min(CHECK_INTERVAL_S, left)):
            return True
    return False


class ChangeFeed:
    """A connection of its own that tells when anything was committed; close it when done."""

    def __init__(self, db: Database) -> None:
        self._detector = ChangeDetector(db)

    def wait(self, timeout: float, stop: Stop | SelectableStop | None = None) -> bool:
        """Block until another connection commits or ``stop`` is set (True), or ``timeout``
        seconds pass (False)."""
        deadline = time.monotonic() + timeout
        fileno = getattr(stop, "fileno", None)
        stop_fd = None if fileno is None else int(fileno())
        while True:
            if self._detector.changed():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            feed_fd = self._detector.blocking_fd()
            if feed_fd is None or (stop is not None and stop_fd is None):
                if _pause(min(CHECK_INTERVAL_S, left), stop):
                    return True
                continue
            if stop is not None and stop.wait(0):
                return True
            fds = [feed_fd] if stop_fd is None else [feed_fd, stop_fd]
            readable, _, _ = select.select(fds, [], [], left)
            if stop_fd in readable:
                return True

    def close(self) -> None:
        """Give its connection back."""
        self._detector.close()


def wait_until(
    db: Database,
    read: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout: float | None = None,
    reread_s: float = REREAD_S,
) -> T:
    """Call ``read`` now and after every commit until ``done(value)`` or ``timeout`` seconds
    pass; returns the last value read. (A terminal command's wait: Ctrl-C ends it.)"""
    deadline = None if timeout is None else time.monotonic() + timeout
    feed = ChangeFeed(db)
    try:
        value = read()  # a database that cannot be used at all is an error at once
        outage = _Outage()
        while not done(value):
            window = outage.backoff if outage.since is not None else reread_s
            if deadline is not None:
                window = min(window, deadline - time.monotonic())
                if window <= 0:
                    outage.give_up()
                    return value
            feed.wait(window)
            try:
                value = read()
            except DatabaseCorruptError:
                raise
            except StoreError as error:  # a restart, a failover: wait it out, with a backoff
                outage.failed(error)
                continue
            outage.over()
        return value
    finally:
        feed.close()


class _Outage:
    """A long wait's view of a database that went away after its first read: how long to
    back off before reading again (0.05 s doubling to 2 s), and one log line each way."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.backoff = OUTAGE_FIRST_S
        self.error: StoreError | None = None

    def failed(self, error: StoreError) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.warning("database unreachable while waiting (%s); retrying", error.message)
        else:
            self.backoff = min(self.backoff * 2, OUTAGE_MAX_S)
        self.error = error

    def over(self) -> None:
        if self.since is not None:
            log.info("database reachable again after %.1f s", time.monotonic() - self.since)
        self.since, self.backoff, self.error = None, OUTAGE_FIRST_S, None

    def give_up(self) -> None:
        """The wait's time is up while the database is still unreachable: say why."""
        if self.error is not None:
            raise self.error


def wait_for_job(db: Database, job_id: str, timeout: float | None = None) -> AsyncJob:
    """Block until the job has finished or ``timeout`` seconds passed; returns the job then."""
    jobs = JobStore(db)
    return wait_until(
        db, lambda: jobs.get(job_id), lambda job: job.status.is_terminal, timeout=timeout
    )
