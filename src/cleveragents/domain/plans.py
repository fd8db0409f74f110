"""Plans and subplans: phases, subplan states, the transitions allowed, and progress events."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cleveragents.domain.profile import AutomationProfile
from cleveragents.errors import InvalidPlanTransitionError, InvalidTransitionError


class PlanPhase(StrEnum):
    """Where a plan is in its life."""

    CREATED = "created"
    EXECUTING = "executing"
    EXECUTED = "executed"
    APPLYING = "applying"
    APPLIED = "applied"
    FAILED = "failed"
    CANCELLED = "cancelled"


PLAN_TRANSITIONS: dict[PlanPhase, frozenset[PlanPhase]] = {
    PlanPhase.CREATED: frozenset({PlanPhase.EXECUTING, PlanPhase.CANCELLED}),
    PlanPhase.EXECUTING: frozenset(
        {PlanPhase.EXECUTED, PlanPhase.FAILED, PlanPhase.CANCELLED, PlanPhase.EXECUTING}
    ),
    PlanPhase.EXECUTED: frozenset({PlanPhase.APPLYING, PlanPhase.CANCELLED}),  # cancelled: re-run
    PlanPhase.APPLYING: frozenset({PlanPhase.APPLIED, PlanPhase.FAILED}),
    PlanPhase.APPLIED: frozenset(),
    PlanPhase.FAILED: frozenset({PlanPhase.EXECUTING}),  # resume
    PlanPhase.CANCELLED: frozenset({PlanPhase.EXECUTING}),  # resume
}
# executing -> executing is a resume of a run whose process died (it left the phase behind).

EXECUTABLE_PHASES = frozenset(
    {PlanPhase.CREATED, PlanPhase.FAILED, PlanPhase.CANCELLED, PlanPhase.EXECUTING}
)


def check_plan_transition(current: PlanPhase, target: PlanPhase, plan_id: str) -> None:
    """Raise :class:`InvalidPlanTransitionError` unless ``current -> target`` is allowed."""
    if target not in PLAN_TRANSITIONS[current]:
        raise InvalidPlanTransitionError(
            f"plan {plan_id} cannot go from {current.value} to {target.value}"
        )


class SubplanState(StrEnum):
    """``SubplanExecutionState``: where a leaf subplan is."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """Completed, failed and cancelled: the dispatcher is done with it."""
        return self in {SubplanState.COMPLETED, SubplanState.FAILED, SubplanState.CANCELLED}


SUBPLAN_TRANSITIONS: dict[SubplanState, frozenset[SubplanState]] = {
    SubplanState.PENDING: frozenset({SubplanState.RUNNING, SubplanState.CANCELLED}),
    SubplanState.RUNNING: frozenset(
        {SubplanState.COMPLETED, SubplanState.FAILED, SubplanState.CANCELLED, SubplanState.PENDING}
    ),
    SubplanState.COMPLETED: frozenset(),
    SubplanState.FAILED: frozenset({SubplanState.PENDING}),  # resume
    SubplanState.CANCELLED: frozenset({SubplanState.PENDING}),  # resume
}
# running -> pending: a resume resets what a dead process left running.


def check_subplan_transition(current: SubplanState, target: SubplanState, subplan_id: str) -> None:
    """Raise :class:`InvalidTransitionError` unless ``current -> target`` is allowed."""
    if target not in SUBPLAN_TRANSITIONS[current]:
        raise InvalidTransitionError(
            f"subplan {subplan_id} cannot go from {current.value} to {target.value}"
        )


def derive_state(children: list[SubplanState]) -> SubplanState:
    """A parent's state from its children's: failed > running > cancelled > pending > completed."""
    present = set(children)
    for state in (
        SubplanState.FAILED,
        SubplanState.RUNNING,
        SubplanState.CANCELLED,
        SubplanState.PENDING,
    ):
        if state in present:
            if state is SubplanState.PENDING and SubplanState.COMPLETED in present:
                return SubplanState.RUNNING  # partly done
            return state
    return SubplanState.COMPLETED


class Subplan(BaseModel):
    """A node of a plan's tree; leaves carry files and run."""

    model_config = ConfigDict(frozen=True)

    id: str
    plan_id: str
    parent_id: str | None
    depth: int
    position: int
    label: str
    is_leaf: bool
    files: list[str] = Field(default_factory=list)
    file_count: int
    state: SubplanState = SubplanState.PENDING
    attempts: int = 0
    exit_code: int | None = None
    error_message: str | None = None
    output_tail: str | None = None
    verification: str | None = None  # VERIFICATIONS: how the action's verify command came out
    rejection: str | None = None  # why its changes were rejected before apply, if they were
    retry_at: datetime | None = None  # when a leaf waiting to be tried again starts its attempt
    result_json: dict[str, Any] | None = None  # what its latest attempt reported
    result_error: str | None = None  # why that report was invalid
    cost_usd: float | None = None  # summed over its attempts (input_tokens, output_tokens too)
    input_tokens: int | None = None
    output_tokens: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


VERIFIED = "passed"
VERIFY_FAILED = "failed"
FAILED_ON_BASE = "failed on the base too"  # not blamed on the leaf's change
VERIFICATIONS = (VERIFIED, VERIFY_FAILED, FAILED_ON_BASE)


def tree_states(nodes: list[Subplan]) -> dict[str, SubplanState]:
    """Every node's state: a leaf's own, a parent's derived from its children's.

    ``nodes`` come in tree order (parents before children), so one pass from the end sees every
    child before its parent.
    """
    children: dict[str, list[SubplanState]] = {}
    states: dict[str, SubplanState] = {}
    for node in reversed(nodes):
        state = node.state if node.is_leaf else derive_state(children.get(node.id, []))
        states[node.id] = state
        if node.parent_id is not None:
            children.setdefault(node.parent_id, []).append(state)
    return states


class Plan(BaseModel):
    """A project, an action snapshot, a resolved profile and a phase."""

    model_config = ConfigDict(frozen=True)

    id: str
    project_id: str
    project_name: str = ""
    action_name: str
    action: dict[str, Any]
    profile: AutomationProfile
    phase: PlanPhase = PlanPhase.CREATED
    job_id: str | None = None
    owner: str | None = None
    cancel_requested: bool = False
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error_message: str | None = None
    concurrency: int | None = None  # leaves allowed at once now, once rate limits changed it


class EventKind(StrEnum):
    """What a plan event records."""

    PLAN = "plan"  # the plan's phase changed
    SUBPLAN = "subplan"  # a subplan's state changed
    OUTPUT = "output"  # a line of progress (reserved)


class PlanEvent(BaseModel):
    """One row of ``plan_events``: the log that live progress, ``watch`` and ``--json`` read."""

    model_config = ConfigDict(frozen=True)

    id: int = 0
    plan_id: str
    subplan_id: str | None
    at: datetime
    kind: EventKind
    state: str
    data: dict[str, Any] = Field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The JSON Lines shape: ``{"plan_id", "subplan_id", "at", "kind", "state", ...data}``."""
        return {
            "id": self.id,
            "plan_id": self.plan_id,
            "subplan_id": self.subplan_id,
            "at": self.at.isoformat(),
            "kind": self.kind.value,
            "state": self.state,
            **self.data,
        }


class SubplanCounts(BaseModel):
    """Leaf subplans by state."""

    pending: int = 0
    running: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        """All leaves."""
        return self.pending + self.running + self.completed + self.failed + self.cancelled


class Rerun(StrEnum):
    """Which leaves an execution runs again besides the pending ones."""

    FAILED = "failed"  # failed and cancelled: what any execution does
    ALL = "all"  # every leaf not applied
