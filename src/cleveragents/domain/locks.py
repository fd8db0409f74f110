"""Plan and project locks: what is locked, by whom, until when."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from cleveragents.domain.owners import describe_owner, parse_owner

PLAN_LOCK_TTL_S = 300.0  # default of locks.plan_ttl: seconds a plan lock lasts unless renewed
PROJECT_LOCK_TTL_S = 600.0  # default of locks.project_ttl: the same for a project lock


class ResourceType(StrEnum):
    """What a lock protects."""

    PLAN = "plan"  # one execution of a plan at a time
    PROJECT = "project"  # one writer to a project's files at a time


class Lock(BaseModel):
    """A row of ``locks``."""

    model_config = ConfigDict(frozen=True)

    id: str
    owner_id: str
    resource_type: ResourceType
    resource_id: str
    acquired_at: datetime
    expires_at: datetime

    def is_stale(self, now: datetime) -> bool:
        """Expired but not purged yet: anyone may take it over."""
        return self.expires_at <= now

    @property
    def holder(self) -> str:
        """The owner as a person reads it: its id, and its host and pid where the id says."""
        return describe_owner(self.owner_id)

    def to_json(self, now: datetime) -> dict[str, Any]:
        """The ``locks list --json`` shape."""
        owner = parse_owner(self.owner_id)
        return {
            "resource_type": self.resource_type.value,
            "resource_id": self.resource_id,
            "owner_id": self.owner_id,
            "host": owner.host if owner else None,
            "pid": owner.pid if owner else None,
            "acquired_at": self.acquired_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "stale": self.is_stale(now),
        }
