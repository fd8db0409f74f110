"""A worker's upkeep, on a thread of its own: heartbeats (the worker row and its jobs refreshed,
cancel requests picked up), recovery of the jobs of dead workers, and pruning of old jobs.

Recovery runs every ``stale_after / 2``, pruning every ``CLEANUP_INTERVAL_S``; ``housekeeping(now,
force=True)`` runs both at once (at start-up, and in tests with an injected clock).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta

from cleveragents.domain.clock import Clock
from cleveragents.domain.jobs import RecoveryReport
from cleveragents.errors import StoreError
from cleveragents.settings import AsyncSettings
from cleveragents.store.jobs import JobStore
from cleveragents.store.workers import WorkerStore

log = logging.getLogger("cleveragents.worker")

CLEANUP_INTERVAL_S = 300.0  # how often finished jobs past their TTL are pruned


class Upkeep:
    """Heartbeat and housekeeping of one worker."""

    def __init__(
        self,
        worker_id: str,
        jobs: JobStore,
        workers: WorkerStore,
        settings: AsyncSettings,
        clock: Clock,
        *,
        counters: Callable[[], dict[str, int]],
        on_cancel: Callable[[set[str]], None],
        on_fatal: Callable[[BaseException], None],
    ) -> None:
        self.worker_id = worker_id
        self.jobs = jobs
        self.workers = workers
        self.settings = settings
        self.clock = clock
        self._counters = counters
        self._on_cancel = on_cancel
        self._on_fatal = on_fatal
        self._last_recovery = 0.0
        self._last_cleanup = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self, now: datetime | None = None) -> None:
        """One heartbeat: refresh this worker and its jobs, pick up cancel requests."""
        now = now or self.clock()
        cancel, was_alive = self.workers.heartbeat(self.worker_id, now, self._counters())
        if not was_alive:
            log.warning(
                "worker %s had been declared lost (late heartbeat); it is back, but the jobs "
                "recovered meanwhile may run again elsewhere",
                self.worker_id,
            )
        self._on_cancel(cancel)

    def housekeeping(self, now: datetime | None = None, force: bool = False) -> RecoveryReport:
        """Recover stale jobs (every stale_after/2) and prune expired ones (every few minutes)."""
        now = now or self.clock()
        mono = time.monotonic()
        report = RecoveryReport()
        if force or mono - self._last_recovery >= self.settings.stale_after / 2:
            self._last_recovery = mono
            report = self.jobs.recover_stale(now, self.settings.stale_after)
            log_recovery(report)
        if force or mono - self._last_cleanup >= CLEANUP_INTERVAL_S:
            self._last_cleanup = mono
            cutoff = now - timedelta(seconds=self.settings.job_ttl)
            pruned = self.jobs.prune(cutoff)
            self.workers.prune(cutoff)
            if pruned:
                log.info("pruned %d finished job(s) older than %g s", pruned, self.settings.job_ttl)
        return report

    def start(self) -> None:
        """Beat every ``heartbeat_interval`` on a daemon thread until :meth:`stop`."""
        self._thread = threading.Thread(target=self._loop, name="agents-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it (a beat in progress finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.heartbeat_interval):
            try:
                self.beat()
                self.housekeeping()
            except StoreError as error:
                log.warning("heartbeat failed, will retry: %s", error.message)
            except BaseException as error:  # a dead heartbeat must not leave a limping worker
                log.error("heartbeat thread died; stopping the worker:\n%s", traceback.format_exc())
                self._on_fatal(error)
                return


def log_recovery(report: RecoveryReport) -> None:
    """One log line listing what a recovery pass did."""
    if report.empty:
        return
    log.warning(
        "recovered: requeued %s; failed %s; workers lost %s",
        ", ".join(report.requeued) or "none",
        ", ".join(report.failed) or "none",
        ", ".join(report.lost_workers) or "none",
    )
