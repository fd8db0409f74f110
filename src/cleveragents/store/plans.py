"""Plans: their rows and phases (creating, executing, finishing, applying, abandoning).

A phase change is written together with its ``plan_events`` row, and with the leaf transitions
it implies (a resume resets leaves, an abandon cancels them), in one transaction. Subplan
progress (the leaves' rows, recorded transitions, the event log) is in ``store/plan_progress.py``;
:class:`PlanStore` inherits those verbs, so callers keep one store object.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from cleveragents.domain.paths import paths_to_text, safe_text
from cleveragents.domain.plans import Plan, PlanPhase, Subplan, SubplanState, check_plan_transition
from cleveragents.domain.profile import AutomationProfile
from cleveragents.errors import ConflictError, PlanNotFoundError
from cleveragents.store.changes import discard_changes
from cleveragents.store.plan_progress import (
    EVENT_PAGE,
    PlanProgress,
    SubplanUpdate,
    back_to_pending,
    leaf_counts,
    move_leaves,
    plan_event,
)
from cleveragents.store.tables import plan_events, plans, projects, subplans

__all__ = ["EVENT_PAGE", "PlanStore", "SubplanUpdate"]

_p = plans.c
_s = subplans.c

# Leaves a resume sends back to pending: what failed, was cancelled, or a dead run left running.
_RESUMED_FROM = tuple(
    s.value for s in (SubplanState.RUNNING, SubplanState.FAILED, SubplanState.CANCELLED)
)
# Leaves an abandoned run leaves cancelled: what it was running and what it had yet to start.
_ABANDONED_FROM = tuple(s.value for s in (SubplanState.RUNNING, SubplanState.PENDING))

_PLAN_COLUMNS = (*plans.c, projects.c.name.label("project_name"))


def _to_plan(row: Row[Any]) -> Plan:
    m = row._mapping
    return Plan(
        id=m["id"],
        project_id=m["project_id"],
        project_name=m["project_name"],
        action_name=m["action_name"],
        action=m["action_json"],
        profile=AutomationProfile.model_validate(m["profile_json"]),
        phase=PlanPhase(m["phase"]),
        job_id=m["job_id"],
        owner=m["owner"],
        cancel_requested=m["cancel_requested"],
        created_at=m["created_at"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        error_message=m["error_message"],
        concurrency=m["concurrency"],
    )


class PlanStore(PlanProgress):
    """Domain verbs over ``plans`` (and, from :class:`PlanProgress`, its subplans and events)."""

    # -- creating and reading -------------------------------------------------------------
    def create(self, plan: Plan, nodes: Sequence[Subplan]) -> None:
        """Store a plan and its whole subplan tree in one transaction (all or nothing)."""
        leaves = sum(1 for node in nodes if node.is_leaf)
        with self.db.write() as conn:
            conn.execute(
                insert(plans).values(
                    id=plan.id,
                    project_id=plan.project_id,
                    action_name=plan.action_name,
                    action_json=plan.action,
                    profile_json=plan.profile.model_dump(mode="json"),
                    phase=plan.phase.value,
                    leaf_count=leaves,
                    created_at=plan.created_at,
                )
            )
            rows = [
                {
                    **node.model_dump(exclude={"files", "state", "label"}),
                    "label": safe_text(node.label),
                    "files_json": paths_to_text(node.files),
                    "state": node.state.value,
                }
                for node in nodes
            ]
            if rows:
                conn.execute(insert(subplans), rows)
            conn.execute(
                insert(plan_events).values(
                    **plan_event(plan.id, PlanPhase.CREATED, plan.created_at, leaves=leaves)
                )
            )

    def get(self, plan_id: str) -> Plan:
        """The plan with that id; :class:`PlanNotFoundError` otherwise."""
        with self.db.read() as conn:
            return self._get(conn, plan_id)

    @staticmethod
    def _get(conn: Connection, plan_id: str) -> Plan:
        row = conn.execute(select(*_PLAN_COLUMNS).join(projects).where(_p.id == plan_id)).first()
        if row is None:
            raise PlanNotFoundError.for_id(plan_id)
        return _to_plan(row)

    def find(self, project_id: str | None = None, limit: int = 100) -> list[Plan]:
        """Plans, newest first, optionally of one project."""
        query = select(*_PLAN_COLUMNS).join(projects).order_by(_p.id.desc()).limit(limit)
        if project_id is not None:
            query = query.where(_p.project_id == project_id)
        with self.db.read() as conn:
            return [_to_plan(row) for row in conn.execute(query)]

    # -- phases ---------------------------------------------------------------------------
    def begin_execution(
        self, plan_id: str, owner: str, now: datetime, *, discard_changes_of: SubplanState
    ) -> Plan:
        """Move the plan to ``executing`` for ``owner``, resetting what did not complete.

        Leaves that failed or were cancelled, and leaves a dead run left running, go back to
        pending (an event each, reason ``resumed``); completed leaves stay completed, so a
        resumed plan runs only what is left. One transaction.

        Whether another run still holds the plan is decided by the caller, before this (the
        executor holds the plan's lock): a plan found ``executing`` is taken over.

        In the same transaction, the changes recorded for the leaves then in
        ``discard_changes_of`` are deleted: which changes a resume drops is the plans layer's
        rule (the executor passes ``PENDING``: a leaf's changes count once it completes), the
        store only keeps the reset and the drop atomic.
        """
        with self.db.write() as conn:
            plan = self._get(conn, plan_id)
            check_plan_transition(plan.phase, PlanPhase.EXECUTING, plan_id)
            to_reset = conn.execute(
                select(_s.id, _s.label).where(
                    _s.plan_id == plan_id, _s.is_leaf.is_(True), _s.state.in_(_RESUMED_FROM)
                )
            ).all()
            back_to_pending(conn, plan_id, to_reset, now, "resumed")
            conn.execute(
                update(plans)
                .where(_p.id == plan_id)
                .values(
                    phase=PlanPhase.EXECUTING.value,
                    owner=owner,
                    cancel_requested=False,
                    started_at=now,
                    finished_at=None,
                    error_message=None,
                    concurrency=None,  # a run starts at max_parallel
                )
            )
            resumed = plan.phase is not PlanPhase.CREATED
            conn.execute(
                insert(plan_events).values(
                    **plan_event(
                        plan_id,
                        PlanPhase.EXECUTING,
                        now,
                        owner=owner,
                        resumed=resumed,
                        reset=len(to_reset),
                    )
                )
            )
            discard_changes(conn, plan_id, discard_changes_of)
            return self._get(conn, plan_id)

    def finish(
        self,
        plan_id: str,
        phase: PlanPhase,
        now: datetime,
        error_message: str | None = None,
        owner: str | None = None,
    ) -> Plan:
        """End an execution: the plan moves to ``phase`` and nobody owns it any more.

        With ``owner`` given, only that owner's execution is finished (a run that lost the plan
        to a resume by someone else does not overwrite the newer run's phase).
        """
        with self.db.write() as conn:
            plan = self._get(conn, plan_id)
            if owner is not None and plan.owner != owner:
                raise ConflictError(f"plan {plan_id} is now owned by {plan.owner}")
            return self._finish(conn, plan, phase, now, error_message)

    def _finish(
        self,
        conn: Connection,
        plan: Plan,
        phase: PlanPhase,
        now: datetime,
        error_message: str | None,
    ) -> Plan:
        """Move ``plan`` (as read in this transaction) to ``phase`` and record it."""
        plan_id = plan.id
        error_message = None if error_message is None else safe_text(error_message)
        check_plan_transition(plan.phase, phase, plan_id)
        conn.execute(
            update(plans)
            .where(_p.id == plan_id)
            .values(
                phase=phase.value,
                owner=None,
                finished_at=now,
                error_message=error_message,
                cancel_requested=False,
            )
        )
        counts = leaf_counts(conn, plan_id)
        conn.execute(
            insert(plan_events).values(
                **plan_event(plan_id, phase, now, counts=counts, error_message=error_message)
            )
        )
        return self._get(conn, plan_id)

    def begin_apply(self, plan_id: str, owner: str, now: datetime) -> Plan:
        """Move an executed plan to ``applying`` for ``owner`` (or take over an apply that
        stopped half-way: the plan is already ``applying`` and whoever ran it holds no lock)."""
        with self.db.write() as conn:
            plan = self._get(conn, plan_id)
            resumed = plan.phase is PlanPhase.APPLYING
            if not resumed:
                check_plan_transition(plan.phase, PlanPhase.APPLYING, plan_id)
            conn.execute(
                update(plans)
                .where(_p.id == plan_id)
                .values(phase=PlanPhase.APPLYING.value, owner=owner, error_message=None)
            )
            conn.execute(
                insert(plan_events).values(
                    **plan_event(plan_id, PlanPhase.APPLYING, now, owner=owner, resumed=resumed)
                )
            )
            return self._get(conn, plan_id)

    def stop_apply(self, plan_id: str, owner: str, now: datetime, reason: str) -> Plan:
        """An apply that stopped half-way: the plan stays ``applying``, owned by nobody, with
        ``reason`` as its error, until an apply run again completes it."""
        with self.db.write() as conn:
            plan = self._get(conn, plan_id)
            if plan.phase is not PlanPhase.APPLYING or plan.owner != owner:
                raise ConflictError(f"plan {plan_id} changed meanwhile (now {plan.phase.value})")
            reason = safe_text(reason)
            conn.execute(
                update(plans).where(_p.id == plan_id).values(owner=None, error_message=reason)
            )
            conn.execute(
                insert(plan_events).values(
                    **plan_event(
                        plan_id, PlanPhase.APPLYING, now, stopped=True, error_message=reason
                    )
                )
            )
            return self._get(conn, plan_id)

    def abandon(self, plan_id: str, owner: str, now: datetime, reason: str) -> Plan:
        """Cancel a plan whose executing run (``owner``) is gone, in one transaction: its running
        and pending leaves become cancelled. :class:`ConflictError` if the plan moved on
        meanwhile (another run resumed it, or it finished)."""
        with self.db.write() as conn:
            plan = self._get(conn, plan_id)
            if plan.phase is not PlanPhase.EXECUTING or plan.owner != owner:
                raise ConflictError(f"plan {plan_id} changed meanwhile (now {plan.phase.value})")
            reason = safe_text(reason)
            stopped = conn.execute(
                select(_s.id, _s.label).where(
                    _s.plan_id == plan_id, _s.is_leaf.is_(True), _s.state.in_(_ABANDONED_FROM)
                )
            ).all()
            move_leaves(
                conn,
                plan_id,
                stopped,
                SubplanState.CANCELLED,
                now,
                reason,
                finished_at=now,
                error_message=reason,
            )
            return self._finish(conn, plan, PlanPhase.CANCELLED, now, reason)

    def rerun(self, plan: Plan, now: datetime, keep: Sequence[str]) -> int:
        """Send ``plan``'s completed leaves, but those in ``keep``, back to pending with their
        recorded changes dropped, while the plan is in the phase it was read in; an executed
        plan becomes ``cancelled`` (resumable) until it runs again. One transaction; how many."""
        with self.db.write() as conn:
            current = self._get(conn, plan.id)
            if current.phase is not plan.phase:
                raise ConflictError(f"plan {plan.id} is {current.phase.value} now; try again")
            rows = conn.execute(
                select(_s.id, _s.label).where(
                    _s.plan_id == plan.id,
                    _s.is_leaf.is_(True),
                    _s.state == SubplanState.COMPLETED.value,
                    _s.id.not_in(list(keep)),
                )
            ).all()
            if not rows:
                return 0
            back_to_pending(conn, plan.id, rows, now, "re-run")
            discard_changes(conn, plan.id, SubplanState.PENDING)
            if current.phase is PlanPhase.EXECUTED:
                why = f"re-run of {len(rows)} completed leaves requested"
                self._finish(conn, current, PlanPhase.CANCELLED, now, why)
            return len(rows)

    def set_profile(
        self, plan: Plan, profile: AutomationProfile, now: datetime, **event: Any
    ) -> Plan:
        """Give ``plan`` another profile while it is in the phase it was read in; an event."""
        return self._amend(plan, now, {"profile_json": profile.model_dump(mode="json")}, event)

    def rebind_action(
        self, plan: Plan, name: str, snapshot: dict[str, Any], now: datetime, **event: Any
    ) -> Plan:
        """Give ``plan`` another action snapshot while it is in the phase it was read in (its
        leaves not completed will run it); the change is an event of the plan."""
        return self._amend(plan, now, {"action_name": name, "action_json": snapshot}, event)

    def _amend(
        self, plan: Plan, now: datetime, values: dict[str, Any], event: dict[str, Any]
    ) -> Plan:
        """Write ``values`` to the plan's row while it is in the phase it was read in, with an
        event saying so; :class:`ConflictError` if it moved on meanwhile."""
        with self.db.write() as conn:
            done = conn.execute(
                update(plans).where(_p.id == plan.id, _p.phase == plan.phase.value).values(values)
            )
            if done.rowcount == 0:
                current = self._get(conn, plan.id)
                raise ConflictError(f"plan {plan.id} is {current.phase.value} now; try again")
            conn.execute(
                insert(plan_events).values(**plan_event(plan.id, plan.phase, now, **event))
            )
            return self._get(conn, plan.id)

    def request_cancel(self, plan_id: str) -> None:
        """Ask the run executing the plan to stop (it polls this flag)."""
        with self.db.write() as conn:
            conn.execute(update(plans).where(_p.id == plan_id).values(cancel_requested=True))

    def cancel_requested(self, plan_id: str) -> bool:
        """True once someone asked the plan's run to stop."""
        with self.db.read() as conn:
            return bool(conn.execute(select(_p.cancel_requested).where(_p.id == plan_id)).scalar())
