"""A worker's upkeep, on threads of its own: heartbeats (the worker row and its jobs refreshed,
cancel requests picked up, lost claims noticed), self-fencing, recovery of the jobs of dead
workers, and pruning of old jobs.

Recovery runs every ``stale_after / 2``, pruning every ``CLEANUP_INTERVAL_S``; ``housekeeping(now,
force=True)`` runs both at once (at start-up, and in tests with an injected clock). A recovery
first ends, on this host, whatever the stale claims still run (by their job and attempt markers)
and what dead workers of this host left running (by their worker marker), so a job is released
only once its previous run is gone.

Self-fencing: a watchdog thread that never touches the database compares the time since the last
heartbeat that was written with ``stale_after - heartbeat_interval``; past it, the worker stops
the jobs it holds (another worker may recover them any moment now) and claims nothing until a
heartbeat is written again.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta

from cleveragents.domain.clock import Clock
from cleveragents.domain.jobs import Claim, RecoveryReport
from cleveragents.domain.markers import JOB_ATTEMPT, JOB_ID, WORKER_ID
from cleveragents.domain.owners import parse_owner, this_host
from cleveragents.errors import StoreError
from cleveragents.runtime.sweep import end_marked, end_orphans_of_dead_owners
from cleveragents.settings import AsyncSettings
from cleveragents.store.jobs import JobStore
from cleveragents.store.schedules import ScheduleStore
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
        on_claims: Callable[[frozenset[tuple[str, int]], float], None] = lambda held, since: None,
        on_fence: Callable[[float], None] = lambda age: None,
        plans_ttl: float | None = None,
    ) -> None:
        self.plans_ttl = plans_ttl  # plans.ttl: finished plans older than this are pruned
        self.worker_id = worker_id
        self.jobs = jobs
        self.workers = workers
        self.settings = settings
        self.clock = clock
        self._counters = counters
        self._on_cancel = on_cancel
        self._on_fatal = on_fatal
        self._on_claims = on_claims
        self._on_fence = on_fence
        self.on_recovery: Callable[[RecoveryReport], None] = lambda report: None  # metrics
        self.last_written = time.monotonic()  # when a heartbeat was last written
        self.fenced = False
        self._last_recovery = 0.0
        self._last_cleanup = 0.0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def fence_after(self) -> float:
        """Seconds without a written heartbeat after which this worker stops its jobs: one
        heartbeat interval before another worker may judge them stale."""
        return self.settings.stale_after - self.settings.heartbeat_interval

    def beat(self, now: datetime | None = None) -> None:
        """One heartbeat: refresh this worker and its jobs, pick up cancel requests, stop the
        jobs whose claims were taken away."""
        now = now or self.clock()
        since = time.monotonic()  # claims made before this are visible to the heartbeat
        reply = self.workers.heartbeat(self.worker_id, now, self._counters())
        self.last_written = time.monotonic()
        if self.fenced:
            self.fenced = False
            log.warning("heartbeat written again; claiming jobs again")
        if not reply.was_alive:
            log.warning(
                "worker %s had been declared lost (late heartbeat); it is back, and the jobs "
                "recovered meanwhile were stopped here",
                self.worker_id,
            )
        self._on_claims(reply.held, since)
        self._on_cancel(set(reply.cancel))

    def check_fence(self, mono: float | None = None) -> bool:
        """Fence this worker if no heartbeat was written for ``fence_after`` seconds; True if
        it is fenced (called by the watchdog thread; by tests with an injected time)."""
        age = (time.monotonic() if mono is None else mono) - self.last_written
        if age > self.fence_after and not self.fenced:
            self.fenced = True
            self._on_fence(age)
        return self.fenced

    def housekeeping(self, now: datetime | None = None, force: bool = False) -> RecoveryReport:
        """Recover stale jobs (every stale_after/2) and prune expired ones (every few minutes)."""
        now = now or self.clock()
        mono = time.monotonic()
        report = RecoveryReport()
        if force or mono - self._last_recovery >= self.settings.stale_after / 2:
            self._last_recovery = mono
            ended = end_orphans_of_dead_owners(WORKER_ID)
            if ended:
                log.warning("ended %d process(es) left running by dead workers of this host", ended)
            report = self.jobs.recover_stale(now, self.settings.stale_after, end_stale_runs)
            log_recovery(report)
            self.on_recovery(report)
        if force or mono - self._last_cleanup >= CLEANUP_INTERVAL_S:
            self._last_cleanup = mono
            cutoff = now - timedelta(seconds=self.settings.job_ttl)
            pruned = self.jobs.prune(cutoff)
            self.workers.prune(cutoff)
            ScheduleStore(self.jobs.db).prune_runs(cutoff)
            if pruned:
                log.info("pruned %d finished job(s) older than %g s", pruned, self.settings.job_ttl)
            if self.plans_ttl is not None:
                self._prune_plans(now, self.plans_ttl)
        return report

    def _prune_plans(self, now: datetime, ttl: float) -> None:
        """Finished plans older than ``ttl`` go, as `agents plan prune` removes them."""
        from cleveragents.store.plan_removal import FINISHED_PHASES, prune_plans

        cutoff = now - timedelta(seconds=ttl)
        removal = prune_plans(self.jobs.db, cutoff, FINISHED_PHASES, now)
        if removal.plan_ids:
            log.info(
                "pruned %d finished plan(s) older than %g s (plans.ttl)",
                len(removal.plan_ids),
                ttl,
            )

    def start(self) -> None:
        """Beat every ``heartbeat_interval`` on a daemon thread until :meth:`stop`, with a
        watchdog thread beside it."""
        self.last_written = time.monotonic()
        for target, name in ((self._loop, "agents-heartbeat"), (self._watch, "agents-fence")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            self._threads.append(thread)
            thread.start()

    @property
    def started(self) -> bool:
        """Whether the heartbeat threads run (start-up is over)."""
        return bool(self._threads)

    def stop(self) -> None:
        """Stop the threads and wait for them (a beat in progress finishes first)."""
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _watch(self) -> None:
        # Never touches the database: a beat hanging on a cut network cannot hold it up.
        check_every = min(self.settings.heartbeat_interval / 2, 1.0)
        while not self._stop.wait(check_every):
            self.check_fence()

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


def end_stale_runs(claims: list[Claim]) -> None:
    """End what stale claims of workers of this host still run (by job and attempt), before
    their jobs are released: on one host a job never runs twice at once. Another host's
    claims are that host's to stop (it fences itself)."""
    host = this_host()
    for claim in claims:
        owner = parse_owner(claim.worker_id or "")
        if owner is None or owner.host != host:
            continue
        ended = end_marked({JOB_ID: claim.job_id, JOB_ATTEMPT: str(claim.attempt)})
        if ended:
            log.warning(
                "ended %d process(es) of job %s (attempt %d) before releasing it",
                ended,
                claim.job_id,
                claim.attempt,
            )


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
