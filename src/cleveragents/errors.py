"""One exception root for everything `agents` raises on purpose, and its families.

Each family carries the exit code the CLI uses for it (see docs/architecture.md, "Exit codes"):
1 the operation ran and failed, 2 bad usage or invalid input, 3 conflict, 4 not found.
A class's docstring is its default message.

Messages that point the user at a command (`agents plan list`, `--force`) are built here, by
named constructors that take the ids (``PlanNotFoundError.for_id(plan_id)``), not by the store
that detects the condition: the store knows rows, not the CLI's commands and options.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class AgentsError(Exception):
    """Something went wrong."""

    exit_code = 1

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        """The one-line message shown to the user."""
        return str(self.args[0]) if self.args else ""


class InvalidInputError(AgentsError, ValueError):
    """The input is not valid."""

    exit_code = 2


class ConfigError(InvalidInputError):
    """The configuration is not valid."""


class PayloadError(InvalidInputError):
    """The job payload is not valid."""


class UnknownJobKindError(InvalidInputError):
    """No job kind with that name is registered."""


class NotFoundError(AgentsError, LookupError):
    """Not found."""

    exit_code = 4


class JobNotFoundError(NotFoundError):
    """No job with that id."""

    @classmethod
    def for_id(cls, job_id: str) -> JobNotFoundError:
        """No job with ``job_id``."""
        return cls(f"no job with id {job_id}")


class ConflictError(AgentsError):
    """The operation conflicts with the current state."""

    exit_code = 3


class InvalidTransitionError(ConflictError):
    """That state change is not allowed."""


class InvalidJobTransitionError(InvalidTransitionError):
    """That job status change is not allowed."""


class StoreError(AgentsError):
    """The database could not be used."""

    def __init__(self, message: str | None = None, *, remedy: str | None = None) -> None:
        # The one line shown to the user says what fixes it too; diagnostics shows the two
        # apart (``problem``, ``remedy``).
        problem = message or (self.__doc__ or "").strip()
        super().__init__(f"{problem}; {remedy}" if remedy else problem)
        self.problem = problem
        self.remedy = remedy


class DatabaseUnavailableError(StoreError):
    """The database cannot be opened."""

    exit_code = 2


class DatabaseCorruptError(StoreError):
    """The database is damaged: what it holds can no longer be read."""

    @classmethod
    def malformed(cls, where: str, detail: str, path: str | None) -> DatabaseCorruptError:
        """The database at ``where`` reported itself damaged (SQLite: "database disk image is
        malformed"); the remedy names the file when it is one."""
        return cls(f"database {where} is damaged ({detail})", remedy=_restore_remedy(path))

    @classmethod
    def empty_file(cls, where: str, path: str) -> DatabaseCorruptError:
        """An existing database file of 0 bytes: cut short (a crash, a full disk) or never one.
        It is refused, not taken for a new database."""
        return cls(
            f"cannot open database {where}: the file is empty (0 bytes); agents did not create "
            "it, so it is not taken for a new database",
            remedy=f"restore it from a backup, or remove {path} to start an empty database",
        )


class DatabaseFullError(StoreError):
    """The disk that holds the database is full."""

    @classmethod
    def disk_full(cls, where: str, detail: str) -> DatabaseFullError:
        """Writing to the database at ``where`` failed for lack of space (``detail`` says where
        and what the database reported)."""
        return cls(
            f"database {where}: the disk is full ({detail})",
            remedy="free some space on it, then run the command again",
        )


def _restore_remedy(path: str | None) -> str:
    if path is None:
        return "restore it from a backup (see the server's log)"
    return (
        f"restore it from a backup, or recover what is readable with "
        f"`sqlite3 {path} .recover | sqlite3 {path}.recovered` and use that file"
    )


class PlanError(AgentsError):
    """The plan ran and did not complete."""

    exit_code = 1

    def __init__(self, message: str | None = None, failures: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.failures = list(failures)  # every failed subplan, however many the message names


class SubplanExecutionError(PlanError):
    """A subplan failed and fail-fast stopped the rest."""


class AggregateSubplanError(PlanError):
    """Some subplans failed (continue-on-error ran all of them)."""


class BudgetReachedError(PlanError):
    """What the plan's leaves cost reached its budget: the rest did not start."""


class PlanNotFoundError(NotFoundError):
    """No plan with that id."""

    @classmethod
    def for_id(cls, plan_id: str) -> PlanNotFoundError:
        """No plan with ``plan_id``; the message names the command that lists plans."""
        return cls(f"no plan with id {plan_id!r} (see `agents plan list`)")


class ProjectNotFoundError(NotFoundError):
    """No project by that name or id."""

    @classmethod
    def for_ref(cls, ref: str) -> ProjectNotFoundError:
        """No project named (or with the id) ``ref``; the message names the listing command."""
        return cls(f"no project named {ref!r} (see `agents project list`)")


class ProjectInUseError(ConflictError):
    """The project has plans, so it is kept."""

    @classmethod
    def executing(cls, project_name: str, count: int) -> ProjectInUseError:
        """``count`` of the project's plans are executing: they must be cancelled first."""
        return cls(
            f"project {project_name!r} has {count} plan(s) executing; "
            "cancel them first (`agents plan cancel PLAN`)"
        )

    @classmethod
    def has_plans(cls, project_name: str, count: int) -> ProjectInUseError:
        """The project has ``count`` plans and removing them too was not asked for."""
        return cls(
            f"project {project_name!r} has {count} plan(s); "
            "pass --force to remove it together with its plans"
        )


class InvalidPlanTransitionError(InvalidTransitionError):
    """That plan phase change is not allowed."""


class ActionError(InvalidInputError):
    """The action is not valid."""


class ActionNotFoundError(NotFoundError):
    """No action by that name."""


class LockError(ConflictError):
    """A lock could not be taken or kept."""


class LockConflictError(LockError):
    """Another owner holds the lock."""


class LockExpiredError(LockError):
    """The lock was lost: it expired and may have been taken by someone else."""


class SandboxError(AgentsError):
    """A subplan's sandbox could not be set up or left something that cannot be recorded."""


class ScopeError(SandboxError):
    """A subplan changed files outside its own, and its action keeps only its own files."""

    def __init__(self, message: str, paths: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.paths = list(paths)  # every path outside the leaf's files, however many are named


class ApplyConflictError(ConflictError):
    """The project no longer matches what the plan's changes were made against."""

    def __init__(self, message: str, conflicts: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.conflicts = list(conflicts)  # every conflicting path, however many the message names
