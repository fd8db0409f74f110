"""What the checks report: a status, one result per check, and the facts about job kinds that
the caller (which holds the worker's kind registry) hands to the checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """How a check came out."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass
class CheckResult:
    """One line of the report."""

    name: str
    status: Status
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    remedy: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"name", "status", "message", "details", "remedy"}``."""
        return {
            "name": self.name,
            "status": self.status.value,
            "message": self.message,
            "details": self.details,
            "remedy": self.remedy,
        }


@dataclass(frozen=True)
class JobKindFacts:
    """The job kinds a worker here would run: every name, those from installed packages, and
    the packages (entry points) whose kinds failed to load, with why."""

    names: list[str]
    installed: list[str]
    broken: dict[str, str]
