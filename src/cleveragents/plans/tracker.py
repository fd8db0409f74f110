"""SubplanTracker: the in-memory state of a run's leaves, and the one place transitions happen.

Each transition is checked against the allowed ones, counted, handed to the journal (which makes it
durable) and to the listeners (live progress). The dispatcher's threads call it concurrently.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from cleveragents.domain.clock import utcnow
from cleveragents.domain.plans import (
    EventKind,
    PlanEvent,
    Subplan,
    SubplanCounts,
    SubplanState,
    check_subplan_transition,
)
from cleveragents.plans.results import AttemptResult, add_totals, money
from cleveragents.store.plan_progress import TOTALS
from cleveragents.store.plans import SubplanUpdate

log = logging.getLogger("cleveragents.plans")

Listener = Callable[[PlanEvent], None]
Sink = Callable[[SubplanUpdate], None]


class SubplanTracker:
    """Leaf states for one execution of a plan."""

    def __init__(
        self,
        plan_id: str,
        leaves: Sequence[Subplan],
        sink: Sink,
        listeners: Sequence[Listener] = (),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.plan_id = plan_id
        self._sink = sink
        self._listeners = list(listeners)
        self._clock = clock
        self._lock = threading.Lock()
        self.concurrency: int | None = None  # set once rate limits change it (limiter.py)
        self._leaves = {leaf.id: leaf for leaf in leaves}
        self._states = {leaf.id: leaf.state for leaf in leaves}
        self._attempts = {leaf.id: leaf.attempts for leaf in leaves}
        self._started: dict[str, datetime | None] = {leaf.id: leaf.started_at for leaf in leaves}
        # What each leaf's attempts reported: the latest result, and the known fields summed.
        self._results = {leaf.id: (leaf.result_json, leaf.result_error) for leaf in leaves}
        self._totals = {
            leaf.id: {key: getattr(leaf, key) for key in TOTALS if getattr(leaf, key) is not None}
            for leaf in leaves
        }

    def state(self, subplan_id: str) -> SubplanState:
        """The leaf's current state."""
        with self._lock:
            return self._states[subplan_id]

    def cost(self, subplan_id: str | None = None) -> float:
        """What one leaf's attempts reported costing (USD), or all the leaves' together."""
        with self._lock:
            ids = [subplan_id] if subplan_id is not None else list(self._totals)
            return money(math.fsum(self._totals[i].get("cost_usd", 0.0) for i in ids))

    def counts(self) -> SubplanCounts:
        """Leaves by state."""
        with self._lock:
            counts = SubplanCounts()
            for state in self._states.values():
                setattr(counts, state.value, getattr(counts, state.value) + 1)
            return counts

    def start(self, subplan_id: str) -> None:
        """pending -> running (its first attempt)."""
        self._move(subplan_id, SubplanState.RUNNING, new_attempt=True)

    def start_again(self, subplan_id: str) -> None:
        """running (waiting to retry) -> running: its next attempt starts."""
        self._move(subplan_id, SubplanState.RUNNING, new_attempt=True)

    def wait_retry(
        self,
        subplan_id: str,
        error_message: str,
        delay_s: float,
        result: AttemptResult | None = None,
    ) -> None:
        """A failed attempt that will be tried again after ``delay_s``: the leaf stays running,
        waiting (without a slot) until its ``retry_at``."""
        retry_at = self._clock() + timedelta(seconds=delay_s)
        self._move(
            subplan_id,
            SubplanState.RUNNING,
            data={
                "retrying_after": error_message,
                "retry_in_s": round(delay_s, 3),
                "retry_at": retry_at.isoformat(),
            },
            error_message=error_message,
            retry_at=retry_at,
            result=result,
        )

    def finish(
        self,
        subplan_id: str,
        state: SubplanState,
        *,
        exit_code: int | None = None,
        error_message: str | None = None,
        output_tail: str | None = None,
        duration_s: float | None = None,
        verification: str | None = None,
        result: AttemptResult | None = None,
    ) -> None:
        """running (or pending, when cancelled before it started) -> a terminal state."""
        data: dict[str, Any] = {}
        if verification is not None:
            data["verification"] = verification
        if exit_code is not None:
            data["exit_code"] = exit_code
        if error_message:
            data["error_message"] = error_message
        if duration_s is not None:
            data["duration_s"] = duration_s
        self._move(
            subplan_id,
            state,
            data=data,
            exit_code=exit_code,
            error_message=error_message,
            output_tail=output_tail,
            verification=verification,
            result=result,
        )

    def _move(
        self,
        subplan_id: str,
        state: SubplanState,
        *,
        new_attempt: bool = False,
        data: dict[str, Any] | None = None,
        exit_code: int | None = None,
        error_message: str | None = None,
        output_tail: str | None = None,
        verification: str | None = None,
        retry_at: datetime | None = None,
        result: AttemptResult | None = None,
    ) -> None:
        now = self._clock()
        with self._lock:
            current = self._states[subplan_id]
            if current is not SubplanState.RUNNING or state is not SubplanState.RUNNING:
                check_subplan_transition(current, state, subplan_id)
            self._states[subplan_id] = state
            if new_attempt:
                self._attempts[subplan_id] += 1
                if current is not SubplanState.RUNNING:
                    self._started[subplan_id] = now
            attempts = self._attempts[subplan_id]
            started = self._started[subplan_id]
            if result is not None:
                self._results[subplan_id] = (result.data, result.error)
                self._totals[subplan_id] = add_totals(self._totals[subplan_id], result.totals)
            result_json, result_error = self._results[subplan_id]
            totals = dict(self._totals[subplan_id])
        leaf = self._leaves[subplan_id]
        event_data = {"label": leaf.label, "attempt": attempts, **(data or {})}
        if result is not None and result.totals:
            event_data["result"] = result.totals  # what this attempt reported
        if result is not None and result.error is not None:
            event_data["result_error"] = result.error
        concurrency = self.concurrency
        if concurrency is not None:
            event_data["concurrency"] = concurrency
        self._sink(
            SubplanUpdate(
                subplan_id=subplan_id,
                state=state,
                at=now,
                attempts=attempts,
                data=event_data,
                exit_code=exit_code,
                error_message=error_message,
                output_tail=output_tail,
                verification=verification,
                started_at=started,
                finished_at=now if state.is_terminal else None,
                retry_at=retry_at,
                result_json=result_json,
                result_error=result_error,
                totals=totals,
                concurrency=concurrency,
            )
        )
        event = PlanEvent(
            plan_id=self.plan_id,
            subplan_id=subplan_id,
            at=now,
            kind=EventKind.SUBPLAN,
            state=state.value,
            data=event_data,
        )
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:  # a broken display (a closed pipe) must not stop the run
                log.debug("a progress listener failed", exc_info=True)
