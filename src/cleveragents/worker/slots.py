"""The worker's slots: the jobs holding its threads, and the outcomes of those that finished but
are not recorded yet. One lock guards both; every method is thread-safe.

A job holds its slot from its claim until the pass that records its outcome, so the number of
free threads a pass may claim for is ``max_workers - len(running) + len(outcomes taken)``.
"""

from __future__ import annotations

import threading
from collections import Counter

from cleveragents.domain.jobs import JobOutcome
from cleveragents.runtime.doorbell import Doorbell
from cleveragents.worker.execution import RunningJob


class Slots:
    """Running jobs and their pending outcomes; ``wake`` is set whenever a job finishes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._finished = threading.Condition(self._lock)
        self._running: dict[tuple[str, int], RunningJob] = {}  # by claim: (job id, attempt)
        self._outcomes: list[JobOutcome] = []
        self.wake = Doorbell()  # an idle loop selects on it beside the change feed

    def add(self, entry: RunningJob) -> None:
        """A claimed job takes a slot."""
        with self._lock:
            self._running[entry.claim] = entry

    def finish(self, outcome: JobOutcome) -> None:
        """A job's thread is done: keep its outcome for the next pass, and wake the loop."""
        with self._lock:
            self._outcomes.append(outcome)
            self._finished.notify_all()
        self.wake.set()

    def pending_outcomes(self) -> tuple[list[JobOutcome], int]:
        """A snapshot of the outcomes to record, and how many slots are busy besides them."""
        with self._lock:
            outcomes = list(self._outcomes)
            return outcomes, len(self._running) - len(outcomes)

    def busy_by_queue(self, outcomes: list[JobOutcome]) -> Counter[str]:
        """How many slots each queue's jobs hold, besides those whose ``outcomes`` a pass is
        about to record (the snapshot :meth:`pending_outcomes` gave)."""
        done = {(o.job_id, o.attempt) for o in outcomes}
        with self._lock:
            return Counter(e.job.queue for key, e in self._running.items() if key not in done)

    def release(self, outcomes: list[JobOutcome]) -> None:
        """The pass recorded ``outcomes`` (the first ones of the list): free their slots."""
        with self._lock:
            del self._outcomes[: len(outcomes)]  # later outcomes were appended after these
            for outcome in outcomes:
                self._running.pop((outcome.job_id, outcome.attempt), None)

    def entries(self, job_ids: set[str] | None = None) -> list[RunningJob]:
        """The running jobs (or those of ``job_ids`` that run here)."""
        with self._lock:
            if job_ids is None:
                return list(self._running.values())
            return [entry for entry in self._running.values() if entry.job.id in job_ids]

    def unfinished(self) -> list[RunningJob]:
        """The running jobs whose threads have not finished yet (no outcome waiting)."""
        with self._lock:
            done = {(o.job_id, o.attempt) for o in self._outcomes}
            return [entry for key, entry in self._running.items() if key not in done]

    def busy(self) -> tuple[bool, int]:
        """Whether anything runs or waits to be recorded, and how many slots are held."""
        with self._lock:
            return bool(self._running) or bool(self._outcomes), len(self._running)

    def __len__(self) -> int:
        with self._lock:
            return len(self._running)

    def wait_for_outcomes(self, timeout: float, count: int | None = None) -> bool:
        """Block until ``count`` running jobs (default: all) have finished."""
        with self._lock:
            return self._finished.wait_for(
                lambda: len(self._outcomes) >= (len(self._running) if count is None else count),
                timeout,
            )
