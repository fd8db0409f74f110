"""AsyncJob: the unit of background work, its statuses and the transitions allowed between them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cleveragents.errors import InvalidInputError, InvalidJobTransitionError


class JobStatus(StrEnum):
    """Where a job is in its life."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """True for succeeded, failed and cancelled: nothing happens to the job any more."""
        return self in TERMINAL_STATUSES


class JobPhase(StrEnum):
    """The plan phase a job runs, when it runs one."""

    EXECUTE = "execute"
    APPLY = "apply"


SCHEMA_VERSION_KEY = "schema_version"  # the payload key naming the version of a kind's payload
MAX_ATTEMPTS = 3  # default of async.max_attempts: runs a job may get when its workers die
MAX_RETRIES = 100  # the most `--retries` a job may have: failed runs tried again
MAX_UNIQUE_KEY = 200  # characters in a unique key
DEFAULT_QUEUE = "default"  # the queue of a job enqueued without --queue; what a worker serves
ALL_QUEUES = "*"  # `worker run --queues '*'`: every queue
_QUEUE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
DEFAULT_BACKOFF_S = 5.0  # default of async.backoff: the first retry waits up to this long

TERMINAL_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})

# running -> queued happens through recovery (while the job has attempts left, see
# `can_requeue`), a graceful shutdown, or a failed run with retries left (`JobOutcome.retry_at`).
# A finished failed or cancelled job is queued again only by `jobs retry` (RETRYABLE_STATUSES).
ALLOWED_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset(
        {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED}
    ),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


def check_transition(current: JobStatus, target: JobStatus, job_id: str = "") -> None:
    """Raise :class:`InvalidJobTransitionError` unless ``current -> target`` is allowed."""
    if target not in ALLOWED_TRANSITIONS[current]:
        which = f"job {job_id} " if job_id else "job "
        raise InvalidJobTransitionError(
            f"{which}cannot go from {current.value} to {target.value}"
            + (" (it has finished)" if current.is_terminal else "")
        )


RETRYABLE_STATUSES = frozenset({JobStatus.FAILED, JobStatus.CANCELLED})  # `jobs retry` takes these


def check_queue_name(name: str) -> str:
    """``name`` if it can name a queue; :class:`InvalidInputError` otherwise."""
    if not _QUEUE_NAME.match(name):
        raise InvalidInputError(
            f"invalid queue name {name!r}: 1 to 64 letters, digits, '.', '_', ':' or '-', "
            "starting with a letter or digit"
        )
    return name


def depth_line(queues: dict[str, dict[str, int]]) -> str:
    """Each queue's live jobs in one line: ``default 3 queued 1 running, mail 2 queued 0
    running`` (``queues`` as ``store/health.py`` ``queue_depths`` gives them)."""
    return ", ".join(
        f"{name} {depth['queued']} queued {depth['running']} running"
        for name, depth in queues.items()
    )


@dataclass(frozen=True)
class ClaimPlan:
    """Where one claim takes jobs from: each named queue in turn, up to its quota, then (a
    worker serving every queue) any other queue, up to ``rest``; never more than the claim's
    limit in all."""

    quotas: tuple[tuple[str, int], ...] = ()
    rest: int = 0


def can_requeue(lost: int, max_attempts: int) -> bool:
    """A running job whose worker was lost goes back to queued only while the runs it lost so
    far (``lost``, this one not counted yet) and this one are fewer than ``max_attempts``.
    Failed runs do not count here: ``retries`` governs them."""
    return lost + 1 < max_attempts


def can_retry(failures: int, retries: int) -> bool:
    """A failed run (``failures`` failed before it) is tried again while ``retries`` allow."""
    return failures < retries


class AsyncJob(BaseModel):
    """One row of ``async_jobs``, as the rest of the program sees it."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    status: JobStatus
    priority: int = 0
    payload: dict[str, Any] = Field(default_factory=dict)
    attempts: int = 0
    max_attempts: int = MAX_ATTEMPTS
    plan_id: str | None = None
    phase: JobPhase | None = None
    run_after: datetime
    worker_id: str | None = None
    last_heartbeat: datetime | None = None
    cancel_requested: bool = False
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error_message: str | None = None
    result: Any = None
    unique_key: str | None = None  # while it is queued or running, no other job has it
    retries: int = 0  # failed runs tried again, after a backoff
    backoff_s: float = DEFAULT_BACKOFF_S  # the first retry's wait is up to this, doubling after
    failures: int = 0  # failed runs so far (each one retried or, the last, final)
    lost: int = 0  # runs lost with their worker (recovered), counted against max_attempts
    queue: str = DEFAULT_QUEUE  # only workers serving it claim the job

    def to_json(self) -> dict[str, Any]:
        """The job as a JSON-ready dict (field names: docs/architecture.md, "Job fields")."""
        return self.model_dump(mode="json")


class NewJob(BaseModel):
    """What it takes to enqueue a job; the payload has already been validated for its kind."""

    model_config = ConfigDict(frozen=True)

    kind: str
    payload: dict[str, Any]
    priority: int = Field(0, ge=0)
    max_attempts: int = Field(MAX_ATTEMPTS, ge=1, le=100)
    run_after: datetime | None = None
    plan_id: str | None = None
    phase: JobPhase | None = None
    unique_key: str | None = Field(None, min_length=1, max_length=MAX_UNIQUE_KEY)
    retries: int = Field(0, ge=0, le=MAX_RETRIES)
    backoff_s: float = Field(DEFAULT_BACKOFF_S, ge=0, le=86_400)
    queue: str = DEFAULT_QUEUE


class JobOutcome(BaseModel):
    """How a job's run ended, decided by the thread that ran it, recorded by its worker."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    attempt: int  # the claim it ends: recorded only while the job is still held by that claim
    status: JobStatus
    finished_at: datetime
    result: Any = None
    error_message: str | None = None
    started_at: datetime | None = None  # when the run began (kept with a failed attempt)
    retry_at: datetime | None = None  # a failed run with retries left: queued again, not before


class AttemptOutcome(StrEnum):
    """How a run that did not succeed ended, as the job's attempt history keeps it."""

    FAILED = "failed"  # its handler failed (or timed out)
    LOST = "lost"  # its worker stopped heartbeating; recovery took the job back


class JobAttempt(BaseModel):
    """One run of a job that did not succeed: a row of ``job_attempts``, listed by ``jobs show``."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    attempt: int
    outcome: AttemptOutcome
    worker_id: str | None = None
    started_at: datetime | None = None
    finished_at: datetime
    error_message: str | None = None
    retry_at: datetime | None = None  # when it was queued again to wait; None when it was not

    def to_json(self) -> dict[str, Any]:
        """The attempt as a JSON-ready dict."""
        return self.model_dump(mode="json", exclude={"job_id"})


@dataclass(frozen=True)
class Claim:
    """One claim of a running job: which worker holds it, and which attempt (claim number) it is.

    A job's ``attempts`` grows by one with every claim, so ``(job_id, attempt)`` names one run
    exactly: a worker that lost a job and claimed it again never mistakes one run for the other.
    """

    job_id: str
    attempt: int
    worker_id: str | None = None


@dataclass(frozen=True)
class HeartbeatReply:
    """What a heartbeat learned: the running jobs someone asked to cancel, whether the worker
    was still ``running`` (not declared lost meanwhile), and the claims it still holds."""

    cancel: frozenset[str]
    was_alive: bool
    held: frozenset[tuple[str, int]]  # (job id, attempt)


class WorkerStatus(StrEnum):
    """A registered worker process: running, stopped gracefully, or lost (stale heartbeat)."""

    RUNNING = "running"
    STOPPED = "stopped"
    LOST = "lost"


class WorkerInfo(BaseModel):
    """One row of ``workers``: a worker process, its heartbeat and its counters."""

    model_config = ConfigDict(frozen=True)

    id: str
    hostname: str
    pid: int
    max_workers: int
    status: WorkerStatus
    started_at: datetime
    last_heartbeat: datetime
    stopped_at: datetime | None = None
    jobs_running: int = 0
    jobs_succeeded: int = 0
    jobs_failed: int = 0
    jobs_cancelled: int = 0
    jobs_requeued: int = 0
    queues: str | None = None  # what it serves: "default", "a,b=2" (b at most 2 at once), "*"

    def is_live(self, cutoff: datetime) -> bool:
        """Running, with a heartbeat at ``cutoff`` or later (``now - stale_after``)."""
        return self.status is WorkerStatus.RUNNING and self.last_heartbeat >= cutoff

    def to_json(self) -> dict[str, Any]:
        """The worker as a JSON-ready dict."""
        return self.model_dump(mode="json")


class RecoveryReport(BaseModel):
    """What a recovery pass did: jobs requeued, jobs failed, workers marked lost."""

    requeued: list[str] = Field(default_factory=list)
    failed: list[str] = Field(default_factory=list)
    lost_workers: list[str] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when there was nothing to recover."""
        return not (self.requeued or self.failed or self.lost_workers)


# The plan job kinds (worker/plan_kinds.py) and their payload: named here, with no I/O, so
# that validating a payload (`agents jobs enqueue`) does not load the plan machinery.
PHASE_KINDS = {JobPhase.EXECUTE: "plan.execute", JobPhase.APPLY: "plan.apply"}
PAYLOAD_VERSION = 1  # the plan kinds' payload schema version


class PlanPayload(BaseModel):
    """The payload of the plan job kinds: which plan to work on."""

    model_config = ConfigDict(extra="forbid")

    plan_id: str = Field(min_length=26, max_length=26)
