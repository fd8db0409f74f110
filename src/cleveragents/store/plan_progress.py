"""Subplan progress: the leaves' rows, their state transitions and the plan's event log.

Every subplan transition is written together with its ``plan_events`` row, in one transaction, so
the event log and the subplan rows never disagree. Transitions arrive in batches (see
``plans/journal.py``), one transaction per batch. The plan rows and their phases are in
``store/plans.py``, whose :class:`~cleveragents.store.plans.PlanStore` inherits these verbs.
A leaf's file list is stored as ``domain/paths.py`` writes paths; its messages and output through
``safe_text`` (a name that is not UTF-8 in them escaped, so any text column holds them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update

from cleveragents.domain.paths import paths_from_text, safe_text
from cleveragents.domain.plans import (
    EventKind,
    PlanEvent,
    PlanPhase,
    Subplan,
    SubplanCounts,
    SubplanState,
)
from cleveragents.errors import ConflictError
from cleveragents.store.engine import Database
from cleveragents.store.logs import LogChunk, insert_chunks
from cleveragents.store.tables import plan_events, plans, subplans

_s = subplans.c
_e = plan_events.c

EVENT_PAGE = 1000
TOTALS = ("cost_usd", "input_tokens", "output_tokens")  # summed per leaf and per plan


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
    verification: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    retry_at: datetime | None = None
    result_json: dict[str, Any] | None = None
    result_error: str | None = None
    totals: dict[str, float] | None = None  # cost_usd, input_tokens, output_tokens so far
    concurrency: int | None = None  # the plan's effective concurrency, once rate limits set it


def _to_subplan(row: Row[Any]) -> Subplan:
    m = dict(row._mapping)
    m["files"] = paths_from_text(m.pop("files_json"))
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


def plan_event(plan_id: str, phase: PlanPhase, at: datetime, **data: Any) -> dict[str, Any]:
    """The ``plan_events`` row that records the plan entering ``phase``."""
    return {
        "plan_id": plan_id,
        "subplan_id": None,
        "at": at,
        "kind": EventKind.PLAN.value,
        "state": phase.value,
        "data_json": data,
    }


def leaf_events(
    conn: Connection,
    plan_id: str,
    rows: Sequence[Any],
    state: SubplanState,
    now: datetime,
    why: str,
) -> None:
    """In the caller's transaction: one event per leaf of ``rows`` (each with ``id`` and
    ``label``) that moved to ``state`` for the reason ``why``."""
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


def move_leaves(
    conn: Connection,
    plan_id: str,
    rows: Sequence[Any],
    state: SubplanState,
    now: datetime,
    why: str,
    **values: Any,
) -> None:
    """In the caller's transaction: the leaves of ``rows`` (``id``, ``label``) move to
    ``state`` with ``values`` written, no retry pending, an event each saying ``why``."""
    if not rows:
        return
    conn.execute(
        update(subplans)
        .where(_s.id.in_([row.id for row in rows]))
        .values(state=state.value, retry_at=None, **values)
    )
    leaf_events(conn, plan_id, rows, state, now, why)


def back_to_pending(
    conn: Connection, plan_id: str, rows: Sequence[Any], now: datetime, why: str
) -> None:
    """The leaves of ``rows`` go back to pending, as if they had not run (what they cost
    stays counted)."""
    move_leaves(
        conn,
        plan_id,
        rows,
        SubplanState.PENDING,
        now,
        why,
        exit_code=None,
        error_message=None,
        verification=None,
        rejection=None,
        started_at=None,
        finished_at=None,
    )


def leaf_counts(conn: Connection, plan_id: str) -> dict[str, int]:
    """In the caller's transaction: the plan's leaves by state (only states present)."""
    rows = conn.execute(
        select(_s.state, func.count())
        .where(_s.plan_id == plan_id, _s.is_leaf.is_(True))
        .group_by(_s.state)
    )
    return {str(state): int(count) for state, count in rows}


def _safe(value: Any) -> Any:
    """Prose (a message, an output tail) with any file name that is not UTF-8 escaped."""
    return safe_text(value) if isinstance(value, str) else value


_UPDATE_SUBPLAN = (
    update(subplans)
    .where(_s.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        attempts=bindparam("b_attempts"),
        exit_code=bindparam("b_exit_code"),
        error_message=bindparam("b_error_message"),
        output_tail=bindparam("b_output_tail"),
        verification=bindparam("b_verification"),
        started_at=bindparam("b_started_at"),
        finished_at=bindparam("b_finished_at"),
        retry_at=bindparam("b_retry_at"),
        result_json=bindparam("b_result_json"),
        result_error=bindparam("b_result_error"),
        cost_usd=bindparam("b_cost_usd"),
        input_tokens=bindparam("b_input_tokens"),
        output_tokens=bindparam("b_output_tokens"),
    )
)


class PlanProgress:
    """Domain verbs over ``subplans`` and ``plan_events``: reading progress, recording it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def subplans(self, plan_id: str, leaves_only: bool = False) -> list[Subplan]:
        """The plan's subplans in tree order (parents before children)."""
        query = select(subplans).where(_s.plan_id == plan_id).order_by(_s.position)
        if leaves_only:
            query = query.where(_s.is_leaf.is_(True))
        with self.db.read() as conn:
            return [_to_subplan(row) for row in conn.execute(query)]

    def totals(self, plan_id: str) -> dict[str, float]:
        """What the plan's leaves reported, summed (only the fields some leaf reported)."""
        with self.db.read() as conn:
            row = conn.execute(
                select(*(func.sum(getattr(_s, key)) for key in TOTALS)).where(
                    _s.plan_id == plan_id, _s.is_leaf.is_(True)
                )
            ).one()
        found = zip(TOTALS, row, strict=True)
        return {key: round(float(value), 9) for key, value in found if value is not None}

    def leaf_states(self, plan_id: str) -> dict[str, tuple[str, SubplanState]]:
        """Each leaf's label and state, by id, in tree order (no file lists read)."""
        query = (
            select(_s.id, _s.label, _s.state)
            .where(_s.plan_id == plan_id, _s.is_leaf.is_(True))
            .order_by(_s.position)
        )
        with self.db.read() as conn:
            return {row.id: (row.label, SubplanState(row.state)) for row in conn.execute(query)}

    def counts(self, plan_id: str) -> SubplanCounts:
        """Leaf subplans by state."""
        with self.db.read() as conn:
            return SubplanCounts(**leaf_counts(conn, plan_id))

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

    def phase_events(self, plan_id: str) -> list[PlanEvent]:
        """The plan's own events (phases, a new action bound), oldest first; not its leaves'."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(plan_events)
                .where(_e.plan_id == plan_id, _e.kind == EventKind.PLAN.value)
                .order_by(_e.id)
            )
            return [_to_event(row) for row in rows]

    def last_event_id(self, plan_id: str) -> int:
        """The id of the plan's newest event (0 if none)."""
        with self.db.read() as conn:
            return int(
                conn.execute(select(func.max(_e.id)).where(_e.plan_id == plan_id)).scalar() or 0
            )

    def record(
        self,
        plan_id: str,
        updates: Sequence[SubplanUpdate],
        logs: Sequence[LogChunk] = (),
        owner: str | None = None,
    ) -> None:
        """Write a batch of leaf transitions, their events and output in one transaction.

        With ``owner``, fenced by it: if the plan is now another run's (this one lost its lock
        and was taken over), nothing is written and :class:`ConflictError` says so. The plan's
        row is locked for the check, so a takeover waits for this batch or this batch sees it.
        """
        if not updates and not logs:
            return
        # Only a leaf's last state in the batch needs writing to its row; every event is kept.
        latest = {u.subplan_id: u for u in updates}
        with self.db.write() as conn:
            if owner is not None:
                held = conn.execute(
                    select(plans.c.owner).where(plans.c.id == plan_id).with_for_update()
                ).scalar()
                if held != owner:
                    raise ConflictError(
                        f"plan {plan_id} is now run by {held or 'nobody'}: this run lost it "
                        "and writes nothing more"
                    )
            insert_chunks(conn, plan_id, logs)  # a leaf's output before the end it led to
            if not updates:
                return
            paced = [u.concurrency for u in updates if u.concurrency is not None]
            if paced:
                conn.execute(
                    update(plans).where(plans.c.id == plan_id).values(concurrency=paced[-1])
                )
            conn.execute(
                _UPDATE_SUBPLAN,
                [
                    {
                        "b_id": u.subplan_id,
                        "b_state": u.state.value,
                        "b_attempts": u.attempts,
                        "b_exit_code": u.exit_code,
                        "b_error_message": _safe(u.error_message),
                        "b_output_tail": _safe(u.output_tail),
                        "b_verification": u.verification,
                        "b_started_at": u.started_at,
                        "b_finished_at": u.finished_at,
                        "b_retry_at": u.retry_at,
                        "b_result_json": u.result_json,
                        "b_result_error": _safe(u.result_error),
                        **{f"b_{key}": (u.totals or {}).get(key) for key in TOTALS},
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
                        "data_json": {key: _safe(value) for key, value in u.data.items()},
                    }
                    for u in updates
                ],
            )
