"""Plans: their subplan trees, phases, state transitions and event logs.

Every subplan transition is written together with its ``plan_events`` row, in one transaction, so
the event log and the subplan rows never disagree. Transitions arrive in batches (see
``plans/journal.py``), one transaction per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update

from cleveragents.domain.plans import (
    EventKind,
    Plan,
    PlanEvent,
    PlanPhase,
    Subplan,
    SubplanCounts,
    SubplanState,
    check_plan_transition,
)
from cleveragents.domain.profile import AutomationProfile
from cleveragents.errors import ConflictError, PlanNotFoundError
from cleveragents.store.engine import Database
from cleveragents.store.tables import changes, plan_events, plans, projects, subplans

_p = plans.c
_s = subplans.c
_e = plan_events.c

EVENT_PAGE = 1000


@dataclass(frozen=True)
class SubplanUpdate:
    """One leaf's transition: its new state and what is known about it now."""

    subplan_id: str
    state: SubplanState
    at: datetime
    attempts: int
    data: dict[str, Any]
    exit_code: int | None = None
    error_message: str | None = None
    output_tail: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


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
    )


def _to_subplan(row: Row[Any]) -> Subplan:
    m = dict(row._mapping)
    m["files"] = m.pop("files_json")
    m["state"] = SubplanState(m["state"])
    return Subplan(**m)


def _to_event(row: Row[Any]) -> PlanEvent:
    m = row._mapping
    return PlanEvent(
        id=m["id"],
        plan_id=m["plan_id"],
        subplan_id=m["subplan_id"],
        at=m["at"],
        kind=EventKind(m["kind"]),
        state=m["state"],
        data=m["data_json"],
    )


def _plan_event(plan_id: str, phase: PlanPhase, at: datetime, **data: Any) -> dict[str, Any]:
    return {
        "plan_id": plan_id,
        "subplan_id": None,
        "at": at,
        "kind": EventKind.PLAN.value,
        "state": phase.value,
        "data_json": data,
    }


_UPDATE_SUBPLAN = (
    update(subplans)
    .where(_s.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        attempts=bindparam("b_attempts"),
        exit_code=bindparam("b_exit_code"),
        error_message=bindparam("b_error_message"),
        output_tail=bindparam("b_output_tail"),
        started_at=bindparam("b_started_at"),
        finished_at=bindparam("b_finished_at"),
    )
)


class PlanStore:
    """Domain verbs over ``plans``, ``subplans`` and ``plan_events``."""

    def __init__(self, db: Database) -> None:
        self.db = db

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
                    **node.model_dump(exclude={"files", "state"}),
                    "files_json": node.files,
                    "state": node.state.value,
                }
                for node in nodes
            ]
            if rows:
                conn.execute(insert(subplans), rows)
            conn.execute(
                insert(plan_events).values(
                    **_plan_event(plan.id, PlanPhase.CREATED, plan.created_at, leaves=leaves)
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
            raise PlanNotFoundError(f"no plan with id {plan_id!r} (see `agents plan list`)")
        return _to_plan(row)

    def find(self, project_id: str | None = None, limit: int = 100) -> list[Plan]:
        """Plans, newest first, optionally of one project."""
        query = select(*_PLAN_COLUMNS).join(projects).order_by(_p.id.desc()).limit(limit)
        if project_id is not None:
            query = query.where(_p.project_id == project_id)
        with self.db.read() as conn:
            return [_to_plan(row) for row in conn.execute(query)]

    def subplans(self, plan_id: str, leaves_only: bool = False) -> list[Subplan]:
        """The plan's subplans in tree order (parents before children)."""
        query = select(subplans).where(_s.plan_id == plan_id).order_by(_s.position)
        if leaves_only:
            query = query.where(_s.is_leaf.is_(True))
        with self.db.read() as conn:
            return [_to_subplan(row) for row in conn.execute(query)]

    def counts(self, plan_id: str) -> SubplanCounts:
        """Leaf subplans by state."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(_s.state, func.count())
                .where(_s.plan_id == plan_id, _s.is_leaf.is_(True))
                .group_by(_s.state)
            ).all()
        return SubplanCounts(**{str(state): int(count) for state, count in rows})

    def events(self, plan_id: str, after_id: int = 0, limit: int = EVENT_PAGE) -> list[PlanEvent]:
        """Events of a plan with an id above ``after_id``, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(plan_events)
                .where(_e.plan_id == plan_id, _e.id > after_id)
                .order_by(_e.id)
                .limit(limit)
            )
            return [_to_event(row) for row in rows]

    # -- phases ---------------------------------------------------------------------------
    def begin_execution(
        self, plan_id: str, owner: str, now: datetime, owner_alive: Callable[[str], bool]
    ) -> Plan:
        """Move the plan to ``executing`` for ``owner``, resetting what did not complete.

        Leaves that failed or were cancelled, and leaves a dead run left running, go back to
        pending; completed leaves stay completed, so a resumed plan runs only what is left.
        :class:`ConflictError` if another live run holds the plan.
        """
        with self.db.write() as conn:
            plan = self._get(conn, plan_id)
            if plan.phase is PlanPhase.EXECUTING and plan.owner and owner_alive(plan.owner):
                raise ConflictError(
                    f"plan {plan_id} is already executing (owner {plan.owner}); "
                    f"see `agents plan watch {plan_id}`"
                )
            check_plan_transition(plan.phase, PlanPhase.EXECUTING, plan_id)
            unfinished = _s.plan_id == plan_id, _s.is_leaf.is_(True)
            to_reset = conn.execute(
                select(_s.id, _s.label).where(
                    *unfinished, _s.state.in_(("running", "failed", "cancelled"))
                )
            ).all()
            reset = len(to_reset)
            if to_reset:
                conn.execute(
                    update(subplans)
                    .where(_s.id.in_([row.id for row in to_reset]))
                    .values(
                        state="pending",
                        exit_code=None,
                        error_message=None,
                        started_at=None,
                        finished_at=None,
                    )
                )
                self._leaf_events(conn, plan_id, to_reset, SubplanState.PENDING, now, "resumed")
                # A leaf killed between recording its changes and completing runs again.
                conn.execute(
                    delete(changes).where(changes.c.subplan_id.in_([r.id for r in to_reset]))
                )
            conn.execute(
                update(plans)
                .where(_p.id == plan_id)
                .values(
                    phase="executing",
                    owner=owner,
                    cancel_requested=False,
                    started_at=now,
                    finished_at=None,
                    error_message=None,
                )
            )
            resumed = plan.phase is not PlanPhase.CREATED
            conn.execute(
                insert(plan_events).values(
                    **_plan_event(
                        plan_id, PlanPhase.EXECUTING, now, owner=owner, resumed=resumed, reset=reset
                    )
                )
            )
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
        counts = {
            str(state): int(count)
            for state, count in conn.execute(
                select(_s.state, func.count())
                .where(_s.plan_id == plan_id, _s.is_leaf.is_(True))
                .group_by(_s.state)
            )
        }
        conn.execute(
            insert(plan_events).values(
                **_plan_event(plan_id, phase, now, counts=counts, error_message=error_message)
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
                .values(phase="applying", owner=owner, error_message=None)
            )
            conn.execute(
                insert(plan_events).values(
                    **_plan_event(plan_id, PlanPhase.APPLYING, now, owner=owner, resumed=resumed)
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
            conn.execute(
                update(plans).where(_p.id == plan_id).values(owner=None, error_message=reason)
            )
            conn.execute(
                insert(plan_events).values(
                    **_plan_event(
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
            stopped = conn.execute(
                select(_s.id, _s.label).where(
                    _s.plan_id == plan_id,
                    _s.is_leaf.is_(True),
                    _s.state.in_(("running", "pending")),
                )
            ).all()
            if stopped:
                conn.execute(
                    update(subplans)
                    .where(_s.id.in_([row.id for row in stopped]))
                    .values(state="cancelled", finished_at=now, error_message=reason)
                )
                self._leaf_events(conn, plan_id, stopped, SubplanState.CANCELLED, now, reason)
            return self._finish(conn, plan, PlanPhase.CANCELLED, now, reason)

    @staticmethod
    def _leaf_events(
        conn: Connection,
        plan_id: str,
        rows: Sequence[Any],
        state: SubplanState,
        now: datetime,
        why: str,
    ) -> None:
        conn.execute(
            insert(plan_events),
            [
                {
                    "plan_id": plan_id,
                    "subplan_id": row.id,
                    "at": now,
                    "kind": EventKind.SUBPLAN.value,
                    "state": state.value,
                    "data_json": {"label": row.label, "reason": why},
                }
                for row in rows
            ],
        )

    def last_event_id(self, plan_id: str) -> int:
        """The id of the plan's newest event (0 if none)."""
        with self.db.read() as conn:
            return int(
                conn.execute(select(func.max(_e.id)).where(_e.plan_id == plan_id)).scalar() or 0
            )

    def request_cancel(self, plan_id: str) -> None:
        """Ask the run executing the plan to stop (it polls this flag)."""
        with self.db.write() as conn:
            conn.execute(update(plans).where(_p.id == plan_id).values(cancel_requested=True))

    def cancel_requested(self, plan_id: str) -> bool:
        """True once someone asked the plan's run to stop."""
        with self.db.read() as conn:
            return bool(conn.execute(select(_p.cancel_requested).where(_p.id == plan_id)).scalar())

    def set_job(self, plan_id: str, job_id: str) -> None:
        """Remember the background job that executes the plan."""
        with self.db.write() as conn:
            conn.execute(update(plans).where(_p.id == plan_id).values(job_id=job_id))

    # -- transitions ----------------------------------------------------------------------
    def record(self, plan_id: str, updates: Sequence[SubplanUpdate]) -> None:
        """Write a batch of leaf transitions and their events in one transaction."""
        if not updates:
            return
        # Only a leaf's last state in the batch needs writing to its row; every event is kept.
        latest = {u.subplan_id: u for u in updates}
        with self.db.write() as conn:
            conn.execute(
                _UPDATE_SUBPLAN,
                [
                    {
                        "b_id": u.subplan_id,
                        "b_state": u.state.value,
                        "b_attempts": u.attempts,
                        "b_exit_code": u.exit_code,
                        "b_error_message": u.error_message,
                        "b_output_tail": u.output_tail,
                        "b_started_at": u.started_at,
                        "b_finished_at": u.finished_at,
                    }
                    for u in latest.values()
                ],
            )
            conn.execute(
                insert(plan_events),
                [
                    {
                        "plan_id": plan_id,
                        "subplan_id": u.subplan_id,
                        "at": u.at,
                        "kind": EventKind.SUBPLAN.value,
                        "state": u.state.value,
                        "data_json": u.data,
                    }
                    for u in updates
                ],
            )
