"""AsyncWorker: claims jobs from ``async_jobs`` and runs them on a bounded thread pool.

Shape (after huey's ``loop(now)`` and procrastinate's worker):

- ``run_once(now)`` does one pass: record the outcomes of finished jobs and claim as many new jobs
  as there are free threads, in one transaction; hand claimed jobs to the pool; cancel jobs that
  ran past ``job_timeout``. Tests drive it directly with an injected ``now``.
- ``run()`` loops on ``run_once``, waking when a job finishes, when another connection commits
  (``runtime.waiting``), or every ``poll_interval``; never ``time.sleep``.
- A heartbeat thread (``upkeep.Upkeep``) refreshes the worker row and its jobs, turns
  ``cancel_requested`` into the jobs' tokens, recovers stale jobs of dead workers and prunes old
  finished jobs. Each job runs on a pool thread (``execution.JobRunner``).
- ``stop()`` (idempotent, thread-safe, what signal handlers call) starts a staged shutdown: stop
  claiming, let running jobs finish within ``shutdown_grace``, cancel the rest through their
  tokens, put them back to ``queued``, mark the worker stopped.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import socket
import threading
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from cleveragents.domain.clock import Clock, utcnow
from cleveragents.domain.jobs import AsyncJob, Claim, JobOutcome, JobStatus, RecoveryReport
from cleveragents.domain.owners import new_owner
from cleveragents.errors import DatabaseCorruptError, StoreError
from cleveragents.runtime.tokens import CancellationToken, CancelReason
from cleveragents.runtime.waiting import ChangeFeed, pause
from cleveragents.settings import AsyncSettings
from cleveragents.store.engine import Database
from cleveragents.store.jobs import JobStore
from cleveragents.store.locks import LockService
from cleveragents.store.schedules import ScheduleStore
from cleveragents.store.workers import WorkerStore
from cleveragents.worker.builtin_kinds import default_registry
from cleveragents.worker.execution import JobRunner, RunningJob
from cleveragents.worker.kinds import KindRegistry
from cleveragents.worker.queues import QueueChoice
from cleveragents.worker.schedule_check import SCHEDULE_CHECK_INTERVAL_S, ScheduleCheck
from cleveragents.worker.slots import Slots
from cleveragents.worker.upkeep import Upkeep

if TYPE_CHECKING:  # the client library is imported only by a worker that serves metrics
    from cleveragents.worker.metrics import WorkerMetrics

log = logging.getLogger("cleveragents.worker")

CANCEL_CHECK_INTERVAL_S = 0.05  # how often a busy worker asks for cancel requests
SHUTDOWN_TOKEN_WAIT_S = 10.0  # how long cancelled jobs get to return during a shutdown


class _Wakeup:
    """What ends an idle wait: a job finished, :meth:`AsyncWorker.stop`, or a signal's flag
    (which a handler sets without a lock; see :meth:`AsyncWorker.request_stop`)."""

    def __init__(self, worker: AsyncWorker) -> None:
        self._worker = worker

    def wait(self, timeout: float | None = None) -> bool:
        return self._worker.slots.wake.wait(timeout) or self._worker._should_stop()

    def fileno(self) -> int:
        return self._worker.slots.wake.fileno()


class AsyncWorker:
    """One worker process's job runner. See the module docstring for its shape."""

    def __init__(
        self,
        db: Database,
        settings: AsyncSettings,
        *,
        registry: KindRegistry | None = None,
        clock: Clock = utcnow,
        hostname: str | None = None,
        pid: int | None = None,
        plans_ttl: float | None = None,
        queues: QueueChoice | None = None,
        metrics: WorkerMetrics | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics
        self.queues = queues or QueueChoice()
        self.settings = settings
        self.registry = registry or default_registry()
        self.clock = clock
        self.hostname = hostname or socket.gethostname()
        self.pid = os.getpid() if pid is None else pid
        self.id = new_owner(self.hostname, self.pid)
        self.jobs = JobStore(db)
        self.workers = WorkerStore(db)
        self.max_workers = settings.max_workers
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=self.max_workers, thread_name_prefix="agents-job"
        )
        self.slots = Slots()
        self._stop = threading.Event()
        self._started = False
        self._finished = False
        self._last_cancel_check: datetime | None = None
        self.schedule_check = ScheduleCheck(ScheduleStore(db))
        self.fatal_error: BaseException | None = None
        self._runner = JobRunner(
            self.registry, self.id, clock, db, settings.job_timeout, settings.max_backoff
        )
        self.upkeep = Upkeep(
            self.id,
            self.jobs,
            self.workers,
            settings,
            clock,
            counters=lambda: {**self.counters, "jobs_running": self.running_count},
            on_cancel=self._apply_cancel_requests,
            on_fatal=self._fatal,
            on_claims=self._stop_lost_claims,
            on_fence=self._fence,
            plans_ttl=plans_ttl,
        )
        if metrics is not None:
            self.upkeep.on_recovery = metrics.recovered
        self.token_wait_s = SHUTDOWN_TOKEN_WAIT_S
        self._stop_reason = ""
        self.counters = {
            "jobs_succeeded": 0,
            "jobs_failed": 0,
            "jobs_cancelled": 0,
            "jobs_requeued": 0,
        }

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, now: datetime | None = None, heartbeat: bool = True) -> None:
        """Register this worker, recover what dead workers left behind, start the heartbeat."""
        if self._started:
            return
        now = now or self.clock()
        self.registry.load_plugins()  # a package's kind that fails to load is logged here
        served = self.queues.describe()
        self.workers.register(self.id, self.hostname, self.pid, self.max_workers, now, served)
        self._started = True
        log.info("worker %s started with %d threads, serving %s", self.id, self.max_workers, served)
        try:  # once registered, a database blip (a restart) is no reason to exit
            if purged := LockService(self.db).cleanup_expired(now):
                log.info("purged %d expired lock(s)", purged)
            self.housekeeping(now, force=True)
        except DatabaseCorruptError:
            raise
        except StoreError as error:
            log.warning("start-up housekeeping failed (it runs again later): %s", error.message)
        if heartbeat:
            self.upkeep.start()

    def stop(self) -> None:
        """Ask the worker to stop claiming and shut down gracefully. Idempotent, thread-safe."""
        self._stop.set()
        self.slots.wake.set()

    @property
    def running_count(self) -> int:
        """How many jobs hold a thread of this worker right now."""
        return len(self.slots)

    # -- one pass ---------------------------------------------------------------------------

    def run_once(self, now: datetime | None = None) -> int:
        """Record finished jobs, claim up to the free threads and start them; returns the count."""
        now = now or self.clock()
        # A snapshot: if the transaction fails, the outcomes stay queued for the next pass.
        outcomes, busy = self.slots.pending_outcomes()
        fenced = self._stop.is_set() or self.upkeep.fenced
        if not fenced:
            self.schedule_check(now)
        free = 0 if fenced else self.max_workers - busy
        if free <= 0 and not outcomes:
            self._check_running(now)
            return 0
        # Capacity first, then the claim: `free` threads are ours, so every claimed job has one.
        busy_by_queue = self.slots.busy_by_queue(outcomes) if self.queues.limits else {}
        where = self.queues.plan(free, busy_by_queue)
        claimed, recorded = self.jobs.claim(self.id, now, free, outcomes, where, self.clock)
        if self.metrics is not None:
            kinds = {entry.job.id: entry.job.kind for entry in self.slots.entries()}
            self.metrics.finished(outcomes, kinds)
            self.metrics.claimed(claimed)
        self.slots.release(outcomes)
        self._count(outcomes, recorded)
        for job in claimed:
            self._start_job(job)
        self._check_running(now)
        return len(claimed)

    def _count(self, outcomes: list[JobOutcome], recorded: int) -> None:
        for outcome in outcomes:
            key = {
                JobStatus.SUCCEEDED: "jobs_succeeded",
                JobStatus.FAILED: "jobs_failed",
                JobStatus.CANCELLED: "jobs_cancelled",
                JobStatus.QUEUED: "jobs_requeued",
            }[outcome.status]
            self.counters[key] += 1
        if recorded < len(outcomes):
            log.warning(
                "%d finished job(s) were no longer this worker's (recovered elsewhere); "
                "their outcome was not recorded",
                len(outcomes) - recorded,
            )

    def _start_job(self, job: AsyncJob) -> None:
        entry = RunningJob(job=job, token=CancellationToken())
        self.slots.add(entry)
        log.debug("claimed %s %s (attempt %d/%d)", job.kind, job.id, job.attempts, job.max_attempts)
        self._executor.submit(self._execute, entry)

    def _check_running(self, now: datetime) -> None:
        running = self.slots.entries()
        if not running:
            return
        timeout = timedelta(seconds=self.settings.job_timeout)
        for entry in running:
            started = entry.job.started_at or now
            if now - started > timeout and entry.token.cancel(CancelReason.TIMEOUT):
                log.warning("job %s ran past job_timeout; cancelling it", entry.job.id)
        last = self._last_cancel_check
        if last is None or (now - last).total_seconds() >= CANCEL_CHECK_INTERVAL_S:
            self._last_cancel_check = now
            self._apply_cancel_requests(self.jobs.cancel_requested(self.id))

    def _stop_lost_claims(self, held: frozenset[tuple[str, int]], since: float) -> None:
        """Stop at once the jobs whose claims a heartbeat found gone (recovered elsewhere).
        Only claims made before the heartbeat began count (a newer one it could not see), and
        only runs still going (a finished one's row may already be recorded, so not held)."""
        for entry in self.slots.unfinished():
            if entry.claimed_at < since and entry.claim not in held:
                if entry.token.cancel(CancelReason.LOST):
                    log.warning(
                        "job %s (attempt %d) is no longer this worker's (recovered elsewhere); "
                        "stopped it",
                        entry.job.id,
                        entry.job.attempts,
                    )

    def _fence(self, age: float) -> None:
        """No heartbeat was written for too long: stop every job (the watchdog's call)."""
        running = self.slots.entries()
        log.error(
            "no heartbeat written for %.1f s (the limit is %g s): stopping %d running job(s), "
            "whose claims other workers may take now; claiming nothing until a heartbeat is "
            "written again",
            age,
            self.upkeep.fence_after,
            len(running),
        )
        for entry in running:
            entry.token.cancel(CancelReason.LOST)

    def _apply_cancel_requests(self, job_ids: set[str]) -> None:
        if not job_ids:
            return
        for entry in self.slots.entries(job_ids):
            if entry.token.cancel(CancelReason.CANCELLED):
                log.info("cancelling %s %s on request", entry.job.kind, entry.job.id)

    # -- running one job (on a pool thread) -------------------------------------------------

    def _execute(self, entry: RunningJob) -> None:
        self.slots.finish(self._runner.run(entry))

    # -- the loop ---------------------------------------------------------------------------

    def run(self, burst: bool = False) -> None:
        """Run until stopped (with ``burst``: until nothing is left to claim), then shut down."""
        self.start()
        feed = ChangeFeed(self.db)
        try:
            self._loop(feed, burst)
        finally:
            feed.close()
            self.shutdown()

    def request_stop(self, reason: str) -> None:
        """:meth:`stop` for signal handlers: sets a plain flag and takes no lock.

        A handler runs on the main thread between two bytecodes, possibly while that thread
        holds the lock inside ``slots.wake``; setting the event from there could deadlock.
        Ringing it (a write to its pipe, no lock) ends an idle wait; the loop then looks at
        the flag.
        """
        self._stop_reason = reason
        self.slots.wake.ring()

    def _should_stop(self) -> bool:
        if self._stop_reason and not self._stop.is_set():
            log.info("received %s: finishing running jobs, then stopping", self._stop_reason)
            self.stop()
        return self._stop.is_set()

    def _fatal(self, error: BaseException) -> None:
        """The heartbeat thread died: stop rather than limp on unprotected."""
        self.fatal_error = error
        self.stop()

    def _loop(self, feed: ChangeFeed, burst: bool) -> None:
        poll_interval = self.settings.poll_interval
        while not self._should_stop():
            self.slots.wake.clear()
            try:
                claimed = self.run_once()
            except DatabaseCorruptError:
                raise  # waiting cannot mend a damaged database: stop, saying so in one line
            except StoreError as error:
                # A busy or briefly unreachable database is not a reason to die: nothing was
                # lost (the outcomes stay queued), so wait a poll interval and try again.
                log.warning("queue pass failed, retrying in %g s: %s", poll_interval, error.message)
                pause(poll_interval, _Wakeup(self))
                continue
            busy, held = self.slots.busy()
            free = self.max_workers - held
            if burst and not claimed and not busy:
                log.info("burst: nothing left to claim; stopping")
                return
            if claimed and free > 0:
                continue  # there may be more waiting
            # No longer than a second: schedules are checked that often.
            feed.wait(min(poll_interval, SCHEDULE_CHECK_INTERVAL_S), stop=_Wakeup(self))

    def shutdown(self) -> None:
        """The staged shutdown: drain within the grace period, then requeue what is left."""
        if self._finished or not self._started:
            return
        self._finished = True
        self._stop.set()
        grace_end = time.monotonic() + self.settings.shutdown_grace
        if self.running_count:
            log.info(
                "stopping: waiting up to %g s for %d running job(s)",
                self.settings.shutdown_grace,
                self.running_count,
            )
        self._drain_until(grace_end)
        left = self.slots.entries()
        for entry in left:
            entry.token.cancel(CancelReason.SHUTDOWN)
        if left:
            log.info("stopping: asked %d job(s) to stop; they go back to the queue", len(left))
            self._drain_until(time.monotonic() + self.token_wait_s)
        stuck = [Claim(*entry.claim) for entry in self.slots.entries()]
        if stuck:
            # Their threads ignored the token; their jobs still go back to the queue.
            requeued = self.jobs.requeue_own(self.id, stuck)
            self.counters["jobs_requeued"] += requeued
            log.warning("stopping: %d job(s) did not stop; requeued them", requeued)
        self.upkeep.stop()
        self.workers.mark_stopped(self.id, self.clock(), self.counters)
        self._executor.shutdown(wait=not stuck, cancel_futures=True)
        log.info(
            "worker %s stopped: %d succeeded, %d failed, %d cancelled, %d requeued",
            self.id,
            self.counters["jobs_succeeded"],
            self.counters["jobs_failed"],
            self.counters["jobs_cancelled"],
            self.counters["jobs_requeued"],
        )

    def _drain_until(self, deadline: float) -> None:
        """Record outcomes as jobs finish, until none run or the deadline passes."""
        while True:
            self.slots.wake.clear()
            self.run_once()
            remaining = deadline - time.monotonic()
            if not self.running_count or remaining <= 0:
                return
            self.slots.wake.wait(min(remaining, self.settings.heartbeat_interval))

    def wait_for_outcomes(self, timeout: float, count: int | None = None) -> bool:
        """Block until ``count`` running jobs (default: all) have finished, their outcomes
        waiting to be recorded by the next pass."""
        return self.slots.wait_for_outcomes(timeout, count)

    @property
    def unfinished_threads(self) -> int:
        """Jobs whose threads are still running after shutdown (they ignored their token)."""
        return len(self.slots)

    # -- heartbeat and housekeeping (on the upkeep thread; callable directly in tests) --------

    def beat(self, now: datetime | None = None) -> None:
        """One heartbeat (see :meth:`Upkeep.beat`)."""
        self.upkeep.beat(now)

    def housekeeping(self, now: datetime | None = None, force: bool = False) -> RecoveryReport:
        """Recovery and pruning when due (see :meth:`Upkeep.housekeeping`)."""
        return self.upkeep.housekeeping(now, force)
