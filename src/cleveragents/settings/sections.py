"""The settings' sections (``[async]``, ``[sqlite]``, ``[plans]``, ``[locks]``, ``[sandbox]``,
``[logs]``) as pydantic models, with their defaults, ranges and descriptions; how they are loaded
and layered is the package's ``__init__``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cleveragents.domain.durations import DAY_S
from cleveragents.domain.jobs import DEFAULT_BACKOFF_S, MAX_ATTEMPTS, MAX_RETRIES
from cleveragents.domain.locks import PLAN_LOCK_TTL_S, PROJECT_LOCK_TTL_S
from cleveragents.domain.profile import PROFILE_FIELDS, FailureMode


class AsyncSettings(BaseModel):
    """The background worker and its queue (``[async]``)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    enabled: bool = Field(
        False,
        description=(
            "Run plan phases in a background worker by default (as if --async were given); "
            "--async / --no-async on a command decide for that command."
        ),
    )
    max_workers: int = Field(4, ge=1, le=256, description="Threads a worker runs jobs on.")
    poll_interval: float = Field(
        1.0,
        ge=0.01,
        le=3600,
        description="Seconds between full queue polls when nothing signals new work.",
    )
    job_timeout: float = Field(
        3600.0, ge=1, le=30 * DAY_S, description="Seconds a job may run before it is cancelled."
    )
    job_ttl: float = Field(
        7 * DAY_S, ge=60, le=3650 * DAY_S, description="Seconds finished jobs are kept."
    )
    heartbeat_interval: float = Field(
        5.0, ge=0.05, le=3600, description="Seconds between worker heartbeats."
    )
    stale_after: float = Field(
        60.0,
        ge=0.2,
        le=DAY_S,
        description="Seconds without a heartbeat after which a running job is recovered.",
    )
    max_attempts: int = Field(
        MAX_ATTEMPTS,
        ge=1,
        le=100,
        description="Default runs per job when its workers die (failed runs: retries).",
    )
    retries: int = Field(
        0, ge=0, le=MAX_RETRIES, description="Default times a failed job is tried again."
    )
    backoff: float = Field(
        DEFAULT_BACKOFF_S,
        ge=0,
        le=DAY_S,
        description="Default seconds the first retry waits at most (doubling after, jittered).",
    )
    max_backoff: float = Field(
        3600.0, ge=0, le=DAY_S, description="Seconds a retry of a failed job waits at most."
    )
    shutdown_grace: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="Seconds running jobs get to finish when the worker is asked to stop.",
    )

    @model_validator(mode="after")
    def _stale_after_exceeds_heartbeat(self) -> AsyncSettings:
        if self.stale_after <= self.heartbeat_interval:
            raise ValueError(
                f"async.stale_after ({self.stale_after:g}) must be greater than "
                f"async.heartbeat_interval ({self.heartbeat_interval:g})"
            )
        return self


class SQLiteSettings(BaseModel):
    """SQLite durability and locking (``[sqlite]``)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    synchronous: Literal["normal", "full"] = Field(
        "normal",
        description=(
            "normal survives a process crash (not a power loss) and is fast; "
            "full also survives a power loss."
        ),
    )
    busy_timeout_ms: int = Field(
        10_000, ge=0, le=600_000, description="How long a writer waits for the database lock."
    )


def _profile_field(name: str) -> Any:
    """A ``[plans]`` field with the default, range and description of profile field ``name``."""
    spec = PROFILE_FIELDS[name]
    return Field(spec.default, ge=spec.minimum, le=spec.maximum, description=spec.description)


class PlansSettings(BaseModel):
    """The global layer of the automation profile (``[plans]``); plans and actions override it.

    Defaults and ranges are the profile's own (:data:`~cleveragents.domain.profile.PROFILE_FIELDS`).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=True)

    max_parallel: int = _profile_field("max_parallel")
    failure_mode: FailureMode = _profile_field("failure_mode")
    timeout_s: int = _profile_field("timeout_s")
    retries: int = _profile_field("retries")
    max_cost_usd: float | None = _profile_field("max_cost_usd")
    max_leaf_cost_usd: float | None = _profile_field("max_leaf_cost_usd")
    ttl: float | None = Field(
        None,
        ge=60,
        le=3650 * DAY_S,
        description="Seconds finished plans are kept (unset: until deleted); workers prune "
        "older ones as `agents plan prune` does.",
    )


class LocksSettings(BaseModel):
    """How long plan and project locks last without renewal (``[locks]``)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    plan_ttl: float = Field(
        PLAN_LOCK_TTL_S, ge=1, le=DAY_S, description="Seconds a plan lock lasts unless renewed."
    )
    project_ttl: float = Field(
        PROJECT_LOCK_TTL_S,
        ge=1,
        le=DAY_S,
        description="Seconds a project lock lasts unless renewed.",
    )


class SandboxSettings(BaseModel):
    """How a leaf's workspace holding the whole project is made (``[sandbox]``)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    backend: Literal["auto", "overlay", "copy"] = Field(
        "auto",
        description=(
            "overlay: the project seen through an overlay mount in a private namespace (Linux); "
            "copy: a full copy per leaf; auto: overlay where it works, else copy."
        ),
    )


class LogsSettings(BaseModel):
    """What is kept of each leaf attempt's output (``[logs]``; `agents plan logs`)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    max_bytes: int = Field(
        4 * 1024 * 1024,
        ge=1024,
        le=1024**3,
        description="Bytes of output kept per attempt; past them a marker says how much was cut.",
    )


class Settings(BaseModel):
    """All settings of `agents`, validated. Build it with :func:`load_settings`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    database_url: str = Field(
        "", description="SQLAlchemy URL of the database (default: an SQLite file in the data dir)."
    )
    async_: AsyncSettings = Field(default_factory=AsyncSettings, alias="async")
    sqlite: SQLiteSettings = Field(default_factory=SQLiteSettings)
    plans: PlansSettings = Field(default_factory=PlansSettings)
    locks: LocksSettings = Field(default_factory=LocksSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    logs: LogsSettings = Field(default_factory=LogsSettings)
