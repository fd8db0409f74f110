"""ParallelSubplanDispatcher: run a plan's leaves on a bounded pool, fail-fast or continue-on-error.

The main thread starts leaves (largest first) while fewer than ``max_parallel`` run, then waits for
a completion. A leaf whose attempt failed and may be retried (``retries``, the action's exit policy
in ``policy.py``) waits for its backoff without a slot; when due it goes before the pending leaves.
Pool threads only run leaves and report back through a queue, so every decision (what to start,
when to stop) is taken on one thread. Stopping — the first failure in fail-fast mode, or a cancel
request (`plan cancel`, a job cancel, Ctrl-C in the terminal) — cancels the pending and waiting
leaves and the running leaves' tokens (their process groups get SIGTERM, then SIGKILL), and
:meth:`run` still returns only once every leaf is terminal.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import queue
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from cleveragents.domain.plans import Subplan, SubplanState
from cleveragents.domain.profile import FailureMode
from cleveragents.errors import AggregateSubplanError, BudgetReachedError, SubplanExecutionError
from cleveragents.plans.leaf_result import LeafResult
from cleveragents.plans.limiter import AdaptiveLimit
from cleveragents.plans.policy import ExitPolicy
from cleveragents.plans.results import money
from cleveragents.plans.tracker import SubplanTracker
from cleveragents.runtime.tokens import CancellationToken, CancelReason

LeafFunction = Callable[[Subplan, CancellationToken], LeafResult]
BUDGET = "budget reached"  # why the rest did not start
MESSAGE_FAILURES = 10  # failures named in an error message; the error object keeps them all


class PlanCancelled(Exception):  # an outcome signal, not an error family
    """The run was stopped by a cancel request or an interrupt before every leaf ran."""


class ConcurrencyGauge:
    """Counts leaves inside the leaf function right now, and the most there ever were."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current = 0
        self.peak = 0

    def __enter__(self) -> ConcurrencyGauge:
        with self._lock:
            self.current += 1
            self.peak = max(self.peak, self.current)
        return self

    def __exit__(self, *_exc: object) -> None:
        with self._lock:
            self.current -= 1


@dataclass
class Failure:
    """A leaf that failed, and why."""

    subplan_id: str
    label: str
    message: str


@dataclass
class DispatchReport:
    """What a dispatch did."""

    completed: int = 0
    failures: list[Failure] = field(default_factory=list)
    cancelled: int = 0
    peak_running: int = 0


def describe_failures(failures: Sequence[Failure]) -> str:
    """``label: message; ...`` for the first few failures, then how many more."""
    named = "; ".join(f"{f.label}: {f.message}" for f in failures[:MESSAGE_FAILURES])
    more = len(failures) - MESSAGE_FAILURES
    return named + (f"; and {more} more" if more > 0 else "")


class ParallelSubplanDispatcher:
    """Runs leaves through ``run_leaf`` with at most ``max_parallel`` at once."""

    def __init__(
        self,
        tracker: SubplanTracker,
        run_leaf: LeafFunction,
        *,
        max_parallel: int,
        failure_mode: FailureMode,
        attempts: int = 1,
        stop_token: CancellationToken | None = None,
        policy: ExitPolicy | None = None,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        budget: float | None = None,
        leaf_budget: float | None = None,
        pause: Callable[[CancellationToken, float], object] = CancellationToken.wait,
    ) -> None:
        self.tracker = tracker
        self.run_leaf = run_leaf
        self.max_parallel = max_parallel
        self.failure_mode = failure_mode
        self.attempts = attempts
        self.stop_token = stop_token or CancellationToken()
        self.policy = policy or ExitPolicy()
        self.budget = budget  # USD: once the leaves' reported cost reaches it, none starts
        self.leaf_budget = leaf_budget  # USD: a leaf whose attempts cost more fails
        self.rng = rng or random.Random()
        self.monotonic = monotonic  # with pause, the clock of backoffs (a test injects both)
        self.pause = pause  # (stop token, seconds): wait for a retry while nothing runs
        self._order = itertools.count()  # ties between retries due at once: first come first
        self.gauge = ConcurrencyGauge()
        self.limiter = AdaptiveLimit(max_parallel)  # lowered by rate limits (limiter.py)
        self._orders: dict[str, int] = {}  # each running attempt's start order
        self._limited: dict[str, int] = {}  # rate-limited attempts per leaf
        self._done: queue.SimpleQueue[tuple[Subplan, LeafResult] | None] = queue.SimpleQueue()

    def run(self, leaves: Sequence[Subplan]) -> DispatchReport:
        """Run every pending leaf; raise if any failed or the run was stopped.

        Raises :class:`SubplanExecutionError` (fail-fast), :class:`AggregateSubplanError`
        (continue-on-error) or :class:`PlanCancelled`; returns only when every leaf is terminal.
        """
        report = DispatchReport()
        pending = deque(sorted(leaves, key=lambda leaf: (-leaf.file_count, leaf.position)))
        running: dict[str, CancellationToken] = {}
        waiting: list[tuple[float, int, Subplan]] = []  # (due, order, leaf): a heap
        tried: dict[str, int] = {}
        stop_reason: str | None = None
        self.stop_token.on_cancel(lambda: self._done.put(None))
        with ThreadPoolExecutor(self.max_parallel, thread_name_prefix="agents-subplan") as pool:
            try:
                while pending or running or waiting:
                    if stop_reason is None and self.stop_token.cancelled:
                        stop_reason = "cancelled"
                    if stop_reason is None and not running and self._spent():
                        stop_reason = BUDGET  # what ran reached the budget: the rest waits
                    if stop_reason is not None:
                        self._stop(pending, waiting, running, stop_reason, report)
                    while len(running) < self.limiter.limit and stop_reason is None:
                        if self.stop_token.cancelled or self._spent():
                            break  # no leaf starts after a cancel, or past the budget
                        if waiting and waiting[0][0] <= self.monotonic():
                            leaf = heapq.heappop(waiting)[2]  # a retry that is due goes first
                            self.tracker.start_again(leaf.id)
                        elif pending:
                            leaf = pending.popleft()
                            self.tracker.start(leaf.id)
                        else:
                            break
                        token = CancellationToken()
                        running[leaf.id] = token
                        tried[leaf.id] = tried.get(leaf.id, 0) + 1
                        self._orders[leaf.id] = self.limiter.started()
                        pool.submit(self._work, leaf, token)
                    due = waiting[0][0] - self.monotonic() if waiting else None
                    if not running:
                        if due is not None and stop_reason is None:
                            self.pause(self.stop_token, max(due, 0.0))  # nothing runs: wait
                        continue
                    # A free slot and a retry to come: wake up when it is due.
                    wake = None
                    if due is not None and len(running) < self.limiter.limit:
                        wake = max(due, 0.0)
                    try:
                        item = self._done.get(timeout=wake)
                    except queue.Empty:
                        continue
                    if item is None:
                        continue  # the stop token fired; the loop's head handles it
                    leaf, result = item
                    running.pop(leaf.id)
                    result = self._within_leaf_budget(leaf, result)
                    limited = self._pace(leaf, result)
                    if stop_reason is None and self._retry(leaf, result, tried[leaf.id], waiting):
                        continue
                    if limited:  # rate-limited once too often
                        times = self._limited[leaf.id]
                        why = f"rate limited {times} time(s): {result.error_message}"
                        result = dataclasses.replace(result, error_message=why)
                    if (
                        self._finish(leaf, result, report)
                        and self.failure_mode is FailureMode.FAIL_FAST
                    ):
                        stop_reason = stop_reason or "failed"
            except BaseException:
                # Our own bookkeeping broke: stop what runs and wait for it before giving up.
                for token in running.values():
                    token.cancel(CancelReason.CANCELLED)
                while running:
                    item = self._done.get()
                    if item is not None:
                        running.pop(item[0].id, None)
                raise
        report.peak_running = self.gauge.peak
        self._raise_for(report, stop_reason)
        return report

    def _work(self, leaf: Subplan, token: CancellationToken) -> None:
        """One attempt at ``leaf`` on a pool thread; its result goes back to the main thread."""
        if token.cancelled or self.stop_token.cancelled:
            self._done.put((leaf, LeafResult(exit_code=None, cancelled=True)))
            return
        try:
            with self.gauge:
                result = self.run_leaf(leaf, token)
        except BaseException as exc:  # a bug must not leave a leaf running forever
            result = LeafResult(exit_code=None, error_message=f"internal error: {exc!r}")
        self._done.put((leaf, result))

    def _pace(self, leaf: Subplan, result: LeafResult) -> bool:
        """Adapt the concurrency to how an attempt ended; True if it was rate-limited."""
        order = self._orders.pop(leaf.id, 0)
        if result.ok:
            if self.limiter.succeeded():
                self.tracker.concurrency = self.limiter.limit
            return False
        if result.cancelled or result.over_budget:
            return False
        if not self.policy.rate_limited(result.output or result.error_message or ""):
            return False
        self._limited[leaf.id] = self._limited.get(leaf.id, 0) + 1
        if self.limiter.rate_limited(order):
            self.tracker.concurrency = self.limiter.limit
        return True

    def _spent(self) -> bool:
        """Whether what the leaves reported costing has reached the plan's budget."""
        return self.budget is not None and self.tracker.cost() >= self.budget

    def _within_leaf_budget(self, leaf: Subplan, result: LeafResult) -> LeafResult:
        """``result``, failed if the leaf's attempts (this one included) cost over its budget;
        the changes it recorded stay for review."""
        if self.leaf_budget is None or result.cancelled or result.result is None:
            return result
        spent = money(self.tracker.cost(leaf.id) + result.result.totals.get("cost_usd", 0.0))
        if spent <= self.leaf_budget:
            return result
        why = f"cost ${spent:.4f}, over the leaf budget of ${self.leaf_budget:g}"
        return dataclasses.replace(result, error_message=why, over_budget=True)

    def _retry(
        self,
        leaf: Subplan,
        result: LeafResult,
        tried: int,
        waiting: list[tuple[float, int, Subplan]],
    ) -> bool:
        """Put a leaf whose attempt failed back to wait for another, if it gets one."""
        if result.ok or result.cancelled or self.stop_token.cancelled:
            return False
        if result.over_budget:
            return False  # another attempt would cost more
        output = result.output or result.error_message or ""
        limited = self._limited.get(leaf.id, 0)
        if self.policy.rate_limited(output):
            if limited >= self.attempts:
                return False  # rate-limited more than `retries` times
            failed_attempt = limited  # the backoff grows with the rate limits in a row
        elif not self.policy.transient(result.exit_code, output) or tried - limited > (
            self.attempts - 1
        ):
            return False  # not a failure the action calls transient, or out of attempts
        else:
            failed_attempt = tried - limited
        delay = self.policy.delay(failed_attempt, output, self.rng)
        self.tracker.wait_retry(leaf.id, result.error_message or "failed", delay, result.result)
        heapq.heappush(waiting, (self.monotonic() + delay, next(self._order), leaf))
        return True

    def _finish(self, leaf: Subplan, result: LeafResult, report: DispatchReport) -> bool:
        """Record how a leaf ended; True if it failed."""
        if result.ok:
            state = SubplanState.COMPLETED
            report.completed += 1
        elif result.cancelled:
            state = SubplanState.CANCELLED
            report.cancelled += 1
        else:
            state = SubplanState.FAILED
            message = result.error_message or "failed"
            report.failures.append(Failure(leaf.id, leaf.label, message))
        self.tracker.finish(
            leaf.id,
            state,
            exit_code=result.exit_code,
            error_message=result.error_message,
            output_tail=result.output or None,
            duration_s=result.duration_s,
            verification=result.verification,
            result=result.result,
        )
        return state is SubplanState.FAILED

    def _stop(
        self,
        pending: deque[Subplan],
        waiting: list[tuple[float, int, Subplan]],
        running: dict[str, CancellationToken],
        reason: str,
        report: DispatchReport,
    ) -> None:
        for token in running.values():
            token.cancel(CancelReason.CANCELLED)
        for _due, _order, leaf in waiting:
            self.tracker.finish(
                leaf.id, SubplanState.CANCELLED, error_message=f"not retried: {reason}"
            )
            report.cancelled += 1
        waiting.clear()
        while pending:
            leaf = pending.popleft()
            self.tracker.finish(leaf.id, SubplanState.CANCELLED, error_message=f"not run: {reason}")
            report.cancelled += 1

    def _raise_for(self, report: DispatchReport, stop_reason: str | None) -> None:
        if stop_reason == BUDGET:
            ran = report.completed + len(report.failures)
            raise BudgetReachedError(
                f"budget of ${self.budget:g} reached after {ran} leaves "
                f"(spent ${self.tracker.cost():.4f}); {report.cancelled} not run: resume with "
                "`agents plan execute PLAN --max-cost-usd MORE`",
                report.failures,
            )
        if report.failures and self.failure_mode is FailureMode.FAIL_FAST:
            first = report.failures[0]
            raise SubplanExecutionError(
                f"subplan {first.label} failed ({first.message}); "
                f"{report.cancelled} other subplan(s) cancelled",
                report.failures,
            )
        if stop_reason == "cancelled":
            raise PlanCancelled(
                f"cancelled: {report.completed} completed, {report.cancelled} cancelled, "
                f"{len(report.failures)} failed"
            )
        if report.failures:
            raise AggregateSubplanError(
                f"{len(report.failures)} subplan(s) failed: {describe_failures(report.failures)}",
                report.failures,
            )
