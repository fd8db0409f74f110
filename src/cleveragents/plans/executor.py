"""PlanExecutor: one execution of a plan, from ``executing`` to ``executed``, ``failed`` or
``cancelled``, whether it runs in a terminal or in a worker's job.

Resuming is the same call: the store resets what did not complete, and only pending leaves run.
A watcher thread turns ``agents plan cancel`` (a flag on the plan's row) into the run's stop token.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cleveragents.domain.clock import utcnow
from cleveragents.domain.locks import PLAN_LOCK_TTL_S, ResourceType
from cleveragents.domain.markers import PLAN_ID
from cleveragents.domain.owners import new_owner
from cleveragents.domain.plans import Plan, PlanPhase, SubplanCounts, SubplanState
from cleveragents.errors import ActionError, AgentsError, PlanError, StoreError
from cleveragents.plans.actions import ActionSpec
from cleveragents.plans.backends import AUTO
from cleveragents.plans.capture import DEFAULT_MAX_BYTES
from cleveragents.plans.dispatcher import (
    DispatchReport,
    Failure,
    ParallelSubplanDispatcher,
    PlanCancelled,
)
from cleveragents.plans.journal import PlanJournal
from cleveragents.plans.locking import LockRenewer, acquire_plan_lock
from cleveragents.plans.runner import SubplanRunner
from cleveragents.plans.scratch import remove_leftover_scratch
from cleveragents.plans.tracker import Listener, SubplanTracker
from cleveragents.runtime.processes import KILL_GRACE_S
from cleveragents.runtime.sweep import end_marked
from cleveragents.runtime.tokens import CancellationToken, CancelReason
from cleveragents.store.changes import ChangeStore
from cleveragents.store.engine import Database
from cleveragents.store.locks import LockService
from cleveragents.store.plans import PlanStore
from cleveragents.store.projects import ProjectStore

log = logging.getLogger("cleveragents.plans")

CANCEL_POLL_S = 0.5
FINISH_ATTEMPTS = 3
FINISH_RETRY_S = 0.5


def _stored_action(plan: Plan) -> ActionSpec:
    """The action snapshot the plan was created with."""
    try:
        return ActionSpec.model_validate(plan.action)
    except ValueError as exc:
        raise ActionError(
            f"plan {plan.id}'s stored action is not valid any more: {str(exc).splitlines()[0]}"
        ) from exc


def _stop_reason(token: CancellationToken | None, summary: str) -> str:
    """Why a run stopped, as the plan's error message says it."""
    if token is not None and token.reason is CancelReason.SHUTDOWN:
        return (
            f"stopped by a worker shutdown; its job is queued again and will resume it ({summary})"
        )
    if token is not None and token.reason is CancelReason.TIMEOUT:
        return f"stopped: its job ran past async.job_timeout ({summary})"
    return summary


@dataclass
class PlanRunReport:
    """How an execution ended."""

    plan: Plan
    counts: SubplanCounts
    failures: list[Failure] = field(default_factory=list)
    peak_running: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the plan reached ``executed``."""
        return self.plan.phase is PlanPhase.EXECUTED


class PlanExecutor:
    """Executes plans stored in ``db``."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime] = utcnow,
        kill_grace_s: float = KILL_GRACE_S,
        cancel_poll_s: float = CANCEL_POLL_S,
        plan_lock_ttl_s: float = PLAN_LOCK_TTL_S,
        markers: Mapping[str, str] | None = None,
        sandbox_backend: str = AUTO,
        log_max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.db = db
        self.markers = dict(markers or {})  # added to every leaf's environment (a job's)
        self.plan_lock_ttl_s = plan_lock_ttl_s
        self.store = PlanStore(db)
        self.clock = clock
        self.kill_grace_s = kill_grace_s
        self.cancel_poll_s = cancel_poll_s
        self.sandbox_backend = sandbox_backend
        self.log_max_bytes = log_max_bytes  # each attempt's output kept, at most

    def execute(
        self,
        plan_id: str,
        *,
        token: CancellationToken | None = None,
        listeners: Sequence[Listener] = (),
        on_started: Callable[[Plan], None] | None = None,
    ) -> PlanRunReport:
        """Run the plan's pending leaves and move it to its final phase; never raises for a
        failed subplan (the report says what happened). Raises for a plan that cannot execute
        (not found, wrong phase, already executing elsewhere)."""
        owner = new_owner()
        previous = self.store.get(plan_id)  # not found: nothing is locked or changed
        locks = LockService(self.db)
        acquire_plan_lock(locks, plan_id, owner, self.plan_lock_ttl_s, self.clock())
        try:
            if previous.phase is PlanPhase.EXECUTING and previous.owner:
                # We hold the lock, so that run is dead or lost its lock. A killed run leaves
                # its commands running in their own process groups: end them before their
                # leaves run again.
                ended = end_marked({PLAN_ID: plan_id})
                if ended:
                    log.warning("ended %d leftover process(es) of plan %s", ended, plan_id)
                remove_leftover_scratch(plan_id)  # its sandboxes, if it ran on this host
            # A leaf's changes count once it completes: the leaves about to run start with none
            # (a run killed after recording a leaf's changes left them behind).
            plan = self.store.begin_execution(
                plan_id, owner, self.clock(), discard_changes_of=SubplanState.PENDING
            )
            log.debug("plan %s executing (owner %s)", plan_id, owner)
            try:
                return self._run(plan, owner, token, listeners, on_started, locks)
            except BaseException as exc:
                # Whatever escaped, the plan must not stay `executing` under a live owner.
                self._finish_anyway(plan_id, owner, f"execution failed: {exc!r}")
                raise
        finally:
            locks.release(ResourceType.PLAN, plan_id, owner)

    def _run(
        self,
        plan: Plan,
        owner: str,
        token: CancellationToken | None,
        listeners: Sequence[Listener],
        on_started: Callable[[Plan], None] | None,
        locks: LockService,
    ) -> PlanRunReport:
        plan_id = plan.id
        if on_started is not None:
            on_started(plan)
        leaves = self.store.subplans(plan_id, leaves_only=True)
        project = ProjectStore(self.db).get(plan.project_id)
        stop = CancellationToken()

        def halt() -> None:
            stop.cancel(CancelReason.CANCELLED)

        if token is not None:
            token.on_cancel(halt)
        journal = PlanJournal(self.store, plan_id, on_error=halt, owner=owner)
        tracker = SubplanTracker(plan_id, leaves, journal.submit, listeners, self.clock)
        changes = ChangeStore(self.db)
        runner = SubplanRunner(
            _stored_action(plan),
            Path(project.root_path),
            plan_id,
            timeout_s=plan.profile.timeout,
            kill_grace_s=self.kill_grace_s,
            markers=self.markers,
            backend=self.sandbox_backend,
            log_sink=journal.submit_log,
            log_max_bytes=self.log_max_bytes,
            project_name=project.name,
            record_changes=lambda leaf_id, found: changes.replace(
                plan_id, leaf_id, found, self.clock()
            ),
        )
        action = runner.action
        dispatcher = ParallelSubplanDispatcher(
            tracker,
            runner.run,
            policy=action,
            max_parallel=plan.profile.parallel,
            failure_mode=plan.profile.mode,
            attempts=plan.profile.attempts,
            budget=plan.profile.max_cost_usd.value,
            leaf_budget=plan.profile.max_leaf_cost_usd.value,
            stop_token=stop,
        )
        watcher = self._watch_cancel(plan_id, stop)
        renewer = LockRenewer(
            locks,
            ResourceType.PLAN,
            plan_id,
            owner,
            self.plan_lock_ttl_s,
            self.clock,
            on_lost=lambda _why: halt(),
        )
        phase, error, report = PlanPhase.EXECUTED, None, DispatchReport()
        try:
            with renewer:
                pending = [leaf for leaf in leaves if leaf.state is SubplanState.PENDING]
                report = dispatcher.run(pending)
        except PlanError as exc:
            phase, error, report.failures = PlanPhase.FAILED, exc.message, list(exc.failures)
        except PlanCancelled as exc:
            phase, error = PlanPhase.CANCELLED, _stop_reason(token, str(exc))
        finally:
            watcher.set()
            runner.close()
            try:
                journal.close()
            except AgentsError as exc:
                phase, error = PlanPhase.FAILED, f"progress could not be recorded: {exc.message}"
        if journal.error is not None and phase is PlanPhase.CANCELLED:
            phase = PlanPhase.FAILED
        if renewer.lost is not None:
            phase = PlanPhase.FAILED
            error = f"{renewer.lost}; its subplans were stopped rather than run unprotected"
        report.peak_running = dispatcher.gauge.peak
        final = self.store.finish(plan_id, phase, self.clock(), error, owner=owner)
        log.debug("plan %s %s", plan_id, phase.value)
        return PlanRunReport(
            plan=final,
            counts=self.store.counts(plan_id),
            failures=report.failures,
            peak_running=report.peak_running,
            error=error,
        )

    def _finish_anyway(self, plan_id: str, owner: str, error: str) -> None:
        """Best effort: move a run that broke down to ``failed`` (if it still owns the plan)."""
        for attempt in range(FINISH_ATTEMPTS):
            try:
                self.store.finish(plan_id, PlanPhase.FAILED, self.clock(), error, owner=owner)
                return
            except StoreError:
                time.sleep(FINISH_RETRY_S * (attempt + 1))  # a busy database: try again
            except AgentsError:
                return  # already finished, or someone else's run now
        log.error("plan %s could not be marked failed: %s", plan_id, error)

    def _watch_cancel(self, plan_id: str, stop: CancellationToken) -> threading.Event:
        """Poll the plan's cancel flag until the returned event is set."""
        done = threading.Event()

        def watch() -> None:
            while not done.wait(self.cancel_poll_s):
                try:
                    if self.store.cancel_requested(plan_id):
                        stop.cancel(CancelReason.CANCELLED)
                        return
                except AgentsError as exc:  # a busy database: look again next time
                    log.warning("could not read the cancel flag of plan %s: %s", plan_id, exc)

        threading.Thread(target=watch, name="agents-plan-cancel", daemon=True).start()
        return done
