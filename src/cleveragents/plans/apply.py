"""``plan apply``: write a sandboxed plan's changes to its project, all of them or none.

Under the project's lock and the plan's, every change is checked against the project as it is
now: the file must still have the content the subplan started from (its base SHA-256), or already
have the new content (an apply that stopped half-way, run again), and its path must stay inside
the project without passing through a symlink. One conflict and nothing is written. Then each file
is written to a temp file in its own directory, flushed to disk and renamed over the old one
(``os.replace``), so a file is always either old or new, never torn; progress is recorded a page
at a time. A crash, a full disk or a permission error stops the apply with the plan still
``applying``: running ``apply`` again cleans up the temp file it left, skips what is already new
and writes the rest.

This module owns the orchestration (:class:`PlanApplier`: which phases may be applied, the locks
and their renewal, the plan's phase moves, turning a stop into :class:`ApplyError`);
:mod:`cleveragents.plans.apply_checks` owns the checks against the project and
:mod:`cleveragents.plans.apply_writer` the writing to disk. Their public names are importable
from here too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import partial

from cleveragents.domain.clock import utcnow
from cleveragents.domain.locks import PLAN_LOCK_TTL_S, PROJECT_LOCK_TTL_S, ResourceType
from cleveragents.domain.owners import new_owner
from cleveragents.domain.plans import Plan, PlanPhase
from cleveragents.errors import AgentsError, InvalidInputError, LockConflictError
from cleveragents.plans.apply_checks import (
    NAMED_CONFLICTS,
    ApplyReport,
    Verdict,
    check_against_project,
    sort_changes,
)
from cleveragents.plans.apply_writer import SYNC_THREADS, ApplyError, temp_path, write_pages
from cleveragents.plans.locking import LockRenewer, acquire_lock
from cleveragents.runtime.tokens import CancellationToken, CancelReason
from cleveragents.store.changes import ChangeStore
from cleveragents.store.engine import Database
from cleveragents.store.locks import LockService
from cleveragents.store.plans import PlanStore
from cleveragents.store.projects import ProjectStore

__all__ = [
    "NAMED_CONFLICTS",
    "PROJECT_LOCK_TTL_S",
    "SYNC_THREADS",
    "ApplyError",
    "ApplyReport",
    "PlanApplier",
    "PlanNotApplicableError",
    "Verdict",
    "check_against_project",
    "temp_path",
]

log = logging.getLogger("cleveragents.plans")


PARTIAL_PHASES = (PlanPhase.FAILED, PlanPhase.CANCELLED)  # `apply --completed` takes these


class PlanNotApplicableError(InvalidInputError):
    """Only an executed plan can be applied."""


class PlanApplier:
    """Applies plans stored in ``db`` to their projects."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime] = utcnow,
        plan_lock_ttl_s: float = PLAN_LOCK_TTL_S,
        project_lock_ttl_s: float = PROJECT_LOCK_TTL_S,
    ) -> None:
        self.db = db
        self.clock = clock
        self.plan_lock_ttl_s = plan_lock_ttl_s
        self.project_lock_ttl_s = project_lock_ttl_s
        self.plans = PlanStore(db)
        self.changes = ChangeStore(db)

    def apply(
        self,
        plan_id: str,
        *,
        dry_run: bool = False,
        token: CancellationToken | None = None,
        completed: bool = False,
    ) -> ApplyReport:
        """Check and write the plan's changes. :class:`PlanNotApplicableError` for a plan not
        ``executed``; :class:`ApplyConflictError` listing every conflict (nothing written);
        :class:`ApplyError` when writing stopped half-way. With ``completed``, a plan that
        failed or was cancelled gets the changes of its completed leaves written (the only
        ones it holds: a leaf records when it completes) and keeps its phase, to be resumed."""
        plan = self._applicable(plan_id, completed)
        if dry_run:
            return self._check(plan, dry_run=True)
        owner = new_owner()
        locks = LockService(self.db)
        project_id, ttl = plan.project_id, self.project_lock_ttl_s
        try:
            acquire_lock(locks, ResourceType.PROJECT, project_id, owner, ttl, self.clock())
        except LockConflictError as exc:  # name the project as its user knows it
            named = f"project {plan.project_name} ({project_id})"
            raise LockConflictError(exc.message.replace(f"project {project_id}", named)) from None
        try:
            acquire_lock(
                locks, ResourceType.PLAN, plan_id, owner, self.plan_lock_ttl_s, self.clock()
            )
            try:
                return self._apply_locked(plan_id, owner, locks, token, completed)
            finally:
                locks.release(ResourceType.PLAN, plan_id, owner)
        finally:
            locks.release(ResourceType.PROJECT, plan.project_id, owner)

    def check_applicable(self, plan_id: str) -> Plan:
        """The plan, if its phase lets it be applied; :class:`PlanNotApplicableError` if not."""
        return self._applicable(plan_id)

    def _applicable(self, plan_id: str, completed: bool = False) -> Plan:
        plan = self.plans.get(plan_id)
        if plan.phase in (PlanPhase.EXECUTED, PlanPhase.APPLYING):
            return plan
        if completed and plan.phase in PARTIAL_PHASES:
            if not self.plans.counts(plan_id).completed:
                raise PlanNotApplicableError(f"plan {plan_id} has no completed subplan to apply")
            return plan
        hint = {
            PlanPhase.CREATED: f"run `agents plan execute {plan_id}` first",
            PlanPhase.EXECUTING: "wait until it has executed",
            PlanPhase.APPLIED: "it has been applied already",
            PlanPhase.FAILED: f"resume it with `agents plan execute {plan_id}`, or apply its "
            f"completed subplans with `agents plan apply {plan_id} --completed`",
            PlanPhase.CANCELLED: f"resume it with `agents plan execute {plan_id}`, or apply its "
            f"completed subplans with `agents plan apply {plan_id} --completed`",
        }[plan.phase]
        raise PlanNotApplicableError(
            f"plan {plan_id} is {plan.phase.value}; only an executed plan can be applied ({hint})"
        )

    def _apply_locked(
        self,
        plan_id: str,
        owner: str,
        locks: LockService,
        token: CancellationToken | None,
        completed: bool = False,
    ) -> ApplyReport:
        plan = self._applicable(plan_id, completed)  # again: it may have moved on meanwhile
        partial = plan.phase in PARTIAL_PHASES  # its phase stays: it is resumed later
        report = self._check(plan, dry_run=False)
        if not partial:
            plan = self.plans.begin_apply(plan_id, owner, self.clock())
        stop = CancellationToken()

        def halt(_why: str = "") -> None:
            stop.cancel(CancelReason.CANCELLED)

        if token is not None:
            token.on_cancel(halt)
        renewers = [
            LockRenewer(locks, kind, rid, owner, ttl, self.clock, on_lost=halt)
            for kind, rid, ttl in (
                (ResourceType.PROJECT, plan.project_id, self.project_lock_ttl_s),
                (ResourceType.PLAN, plan_id, self.plan_lock_ttl_s),
            )
        ]
        root = ProjectStore(self.db).get(plan.project_id).root_path
        try:
            for renewer in renewers:
                renewer.__enter__()
            write_pages(self.changes, plan_id, root, report, stop, self.clock)
        except (OSError, AgentsError) as exc:  # a full disk, a busy database, a stop
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            where = f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
            message = (
                f"apply stopped after {report.written} of {len(report.to_write)} files: "
                f"{reason}{where}; "
                f"run `agents plan apply {plan_id}{' --completed' if partial else ''}` again "
                "to finish"
            )
            if not partial:
                self.plans.stop_apply(plan_id, owner, self.clock(), message)
            raise ApplyError(message) from exc
        finally:
            for renewer in renewers:
                renewer.__exit__(None, None, None)
        if partial:
            report.plan = self.plans.get(plan_id)
        else:
            report.plan = self.plans.finish(plan_id, PlanPhase.APPLIED, self.clock(), owner=owner)
        return report

    def _check(self, plan: Plan, *, dry_run: bool) -> ApplyReport:
        """Sort every change into to-write and already-written; raise for any conflict."""
        root = ProjectStore(self.db).get(plan.project_id).root_path
        found = self.changes.for_plan(plan.id)
        labels = partial(self.changes.labels, plan.id)  # read only if subplans share a path
        return sort_changes(plan, root, found, dry_run=dry_run, labels=labels)
