"""Reading leaves' output back (`agents plan logs`): which leaves and attempts, and following a
run while it writes more."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cleveragents.domain.plans import Plan, SubplanState
from cleveragents.errors import NotFoundError
from cleveragents.runtime.waiting import wait_until
from cleveragents.store.engine import Database
from cleveragents.store.logs import LogChunk, LogStore
from cleveragents.store.plans import PlanStore

if TYPE_CHECKING:  # the lifecycle (locks, jobs, actions) is loaded only to follow a run
    from cleveragents.plans.lifecycle import Activity


@dataclass(frozen=True)
class LogQuery:
    """What to read: the plan, its leaves to show (all when None) and which attempt of each."""

    plan: Plan
    labels: dict[str, str]  # every leaf's label, by id
    subplan_ids: list[str] | None
    attempt: int | None  # None: each leaf's latest


def log_query(
    db: Database,
    plan_id: str,
    subplan_ids: Sequence[str] = (),
    *,
    attempt: int | None = None,
    failed: bool = False,
) -> LogQuery:
    """The leaves whose output to show; :class:`NotFoundError` (exit 4) for an id that is not a
    leaf of the plan."""
    plans = PlanStore(db)
    plan = plans.get(plan_id)
    by_id = plans.leaf_states(plan_id)  # (label, state): a plan's logs start printing at once
    for subplan_id in subplan_ids:
        if subplan_id not in by_id:
            raise NotFoundError(f"plan {plan_id} has no leaf subplan {subplan_id}")
    chosen: list[str] | None = list(dict.fromkeys(subplan_ids)) or None
    if failed:
        pool = chosen if chosen is not None else list(by_id)
        chosen = [i for i in pool if by_id[i][1] is SubplanState.FAILED]
    labels = {leaf_id: label for leaf_id, (label, _state) in by_id.items()}
    return LogQuery(plan, labels, chosen, attempt)


def read_logs(db: Database, query: LogQuery, until_id: int | None = None) -> Iterator[LogChunk]:
    """The chosen output, leaf by leaf (each leaf's latest attempt unless one is named)."""
    if query.subplan_ids == []:
        return iter(())
    return LogStore(db).chunks(
        query.plan.id,
        query.subplan_ids,
        query.attempt,
        latest=query.attempt is None,
        until_id=until_id,
    )


def follow_logs(
    db: Database,
    query: LogQuery,
    emit: Callable[[LogChunk], None],
    clock: Callable[[], datetime],
) -> Plan:
    """Everything stored so far (as :func:`read_logs`), then each new chunk as it is committed,
    in the order written, until nothing works on the plan any more. Returns the plan then."""
    from cleveragents.plans.lifecycle import Activity, activity

    store = LogStore(db)
    after = store.last_id(query.plan.id)
    for chunk in read_logs(db, query, until_id=after):
        emit(chunk)
    plans = PlanStore(db)

    def read() -> tuple[Plan, Activity]:
        nonlocal after
        for chunk in store.chunks(
            query.plan.id, query.subplan_ids, query.attempt, after_id=after, by_leaf=False
        ):
            emit(chunk)
            after = chunk.id
        current = plans.get(query.plan.id)
        return current, activity(db, current, clock())

    plan, _ = wait_until(db, read, lambda found: found[1] is not Activity.ACTIVE)
    read()  # what the run wrote last
    return plan
