"""``plan apply``: write a sandboxed plan's changes to its project, all of them or none.

Under the project's lock and the plan's, every change is checked against the project as it is
now: the file must still have the content the subplan started from (its base SHA-256), or already
have the new content (an apply that stopped half-way, run again), and its path must stay inside
the project without passing through a symlink. One conflict and nothing is written. Then each file
is written to a temp file in its own directory, flushed to disk and renamed over the old one
(``os.replace``), so a file is always either old or new, never torn; progress is recorded a page
at a time. A crash, a full disk or a permission error stops the apply with the plan still
``applying``: running ``apply`` again cleans up the temp file it left, skips what is already new
and writes the rest.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from cleveragents.domain.changes import (
    ChangeKind,
    Conflict,
    FileChange,
    overlapping,
    unsafe_path_reason,
)
from cleveragents.domain.clock import utcnow
from cleveragents.domain.locks import ResourceType
from cleveragents.domain.owners import new_owner
from cleveragents.domain.plans import Plan, PlanPhase
from cleveragents.errors import (
    AgentsError,
    ApplyConflictError,
    InvalidInputError,
    LockConflictError,
)
from cleveragents.plans.executor import PLAN_LOCK_TTL_S
from cleveragents.plans.locking import LockRenewer, acquire_lock
from cleveragents.runtime.files import write_all
from cleveragents.runtime.tokens import CancellationToken, CancelReason
from cleveragents.store.changes import CONTENT_PAGE, ChangeStore
from cleveragents.store.engine import Database
from cleveragents.store.locks import LockService
from cleveragents.store.plans import PlanStore
from cleveragents.store.projects import ProjectStore

log = logging.getLogger("cleveragents.plans")

PROJECT_LOCK_TTL_S = 600.0  # locks.project_ttl's default
SYNC_THREADS = 8  # temp files written and fsynced at once: the disk, not the CPU, is the wait
NAMED_CONFLICTS = 5  # conflicts the one-line message names before "and N more"
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class PlanNotApplicableError(InvalidInputError):
    """Only an executed plan can be applied."""


class ApplyError(AgentsError):
    """The apply stopped half-way; running it again completes it."""


@dataclass
class ApplyReport:
    """What an apply wrote (or, for a dry run, would write)."""

    plan: Plan
    to_write: list[FileChange] = field(default_factory=list)
    already: list[FileChange] = field(default_factory=list)
    dry_run: bool = False
    written: int = 0  # of to_write, on disk so far

    @property
    def total(self) -> int:
        """Every change of the plan."""
        return len(self.to_write) + len(self.already)


def temp_path(target: str, plan_id: str) -> str:
    """The one temp file an apply of ``plan_id`` writes ``target`` through (hidden, beside it)."""
    head, _, name = target.rpartition(os.sep)
    return os.path.join(head, f".{name}.agents-{plan_id[-10:].lower()}.tmp")


def _file_state(path: str) -> tuple[str, int] | None:
    """``(sha256, mode)`` of the file ``path`` (known to be a regular file); None when none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode & 0o777
        return hashlib.file_digest(handle, "sha256").hexdigest(), mode


class PlanApplier:
    """Applies plans stored in ``db`` to their projects."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime] = utcnow,
        plan_lock_ttl_s: float = PLAN_LOCK_TTL_S,
        project_lock_ttl_s: float = PROJECT_LOCK_TTL_S,
    ) -> None:
        self.db = db
        self.clock = clock
        self.plan_lock_ttl_s = plan_lock_ttl_s
        self.project_lock_ttl_s = project_lock_ttl_s
        self.plans = PlanStore(db)
        self.changes = ChangeStore(db)

    def apply(
        self,
        plan_id: str,
        *,
        dry_run: bool = False,
        token: CancellationToken | None = None,
    ) -> ApplyReport:
        """Check and write the plan's changes. :class:`PlanNotApplicableError` for a plan not
        ``executed``; :class:`ApplyConflictError` listing every conflict (nothing written);
        :class:`ApplyError` when writing stopped half-way."""
        plan = self._applicable(plan_id)
        if dry_run:
            return self._check(plan, dry_run=True)
        owner = new_owner()
        locks = LockService(self.db)
        project_id, ttl = plan.project_id, self.project_lock_ttl_s
        try:
            acquire_lock(locks, ResourceType.PROJECT, project_id, owner, ttl, self.clock())
        except LockConflictError as exc:  # name the project as its user knows it
            named = f"project {plan.project_name} ({project_id})"
            raise LockConflictError(exc.message.replace(f"project {project_id}", named)) from None
        try:
            acquire_lock(
                locks, ResourceType.PLAN, plan_id, owner, self.plan_lock_ttl_s, self.clock()
            )
            try:
                return self._apply_locked(plan_id, owner, locks, token)
            finally:
                locks.release(ResourceType.PLAN, plan_id, owner)
        finally:
            locks.release(ResourceType.PROJECT, plan.project_id, owner)

    def check_applicable(self, plan_id: str) -> Plan:
        """The plan, if its phase lets it be applied; :class:`PlanNotApplicableError` if not."""
        return self._applicable(plan_id)

    def _applicable(self, plan_id: str) -> Plan:
        plan = self.plans.get(plan_id)
        if plan.phase in (PlanPhase.EXECUTED, PlanPhase.APPLYING):
            return plan
        hint = {
            PlanPhase.CREATED: f"run `agents plan execute {plan_id}` first",
            PlanPhase.EXECUTING: "wait until it has executed",
            PlanPhase.APPLIED: "it has been applied already",
            PlanPhase.FAILED: f"resume it with `agents plan execute {plan_id}`",
            PlanPhase.CANCELLED: f"resume it with `agents plan execute {plan_id}`",
        }[plan.phase]
        raise PlanNotApplicableError(
            f"plan {plan_id} is {plan.phase.value}; only an executed plan can be applied ({hint})"
        )

    def _apply_locked(
        self,
        plan_id: str,
        owner: str,
        locks: LockService,
        token: CancellationToken | None,
    ) -> ApplyReport:
        plan = self._applicable(plan_id)  # again: it may have moved on while we waited
        report = self._check(plan, dry_run=False)
        plan = self.plans.begin_apply(plan_id, owner, self.clock())
        stop = CancellationToken()

        def halt(_why: str = "") -> None:
            stop.cancel(CancelReason.CANCELLED)

        if token is not None:
            token.on_cancel(halt)
        renewers = [
            LockRenewer(locks, kind, rid, owner, ttl, self.clock, on_lost=halt)
            for kind, rid, ttl in (
                (ResourceType.PROJECT, plan.project_id, self.project_lock_ttl_s),
                (ResourceType.PLAN, plan_id, self.plan_lock_ttl_s),
            )
        ]
        root = ProjectStore(self.db).get(plan.project_id).root_path
        try:
            for renewer in renewers:
                renewer.__enter__()
            self._write(plan_id, root, report, stop)
        except (OSError, AgentsError) as exc:  # a full disk, a busy database, a stop
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            where = f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
            message = (
                f"apply stopped after {report.written} of {len(report.to_write)} files: "
                f"{reason}{where}; "
                f"run `agents plan apply {plan_id}` again to finish"
            )
            self.plans.stop_apply(plan_id, owner, self.clock(), message)
            raise ApplyError(message) from exc
        finally:
            for renewer in renewers:
                renewer.__exit__(None, None, None)
        report.plan = self.plans.finish(plan_id, PlanPhase.APPLIED, self.clock(), owner=owner)
        return report

    def _check(self, plan: Plan, *, dry_run: bool) -> ApplyReport:
        """Sort every change into to-write and already-written; raise for any conflict."""
        root = ProjectStore(self.db).get(plan.project_id).root_path
        found = self.changes.for_plan(plan.id)
        conflicts = overlapping(found)
        report = ApplyReport(plan=plan, dry_run=dry_run)
        clashing = {conflict.path for conflict in conflicts}
        for change in found:
            if change.path in clashing:
                continue
            verdict = check_against_project(root, change)
            if verdict.conflict is not None:
                conflicts.append(Conflict(path=change.path, reason=verdict.conflict))
            elif verdict.done:
                report.already.append(change)
            elif verdict.mode is not None and verdict.mode != change.mode:
                report.to_write.append(change.model_copy(update={"mode": verdict.mode}))
            else:
                report.to_write.append(change)
        if conflicts:
            conflicts.sort(key=lambda conflict: conflict.path)
            named = ", ".join(c.path for c in conflicts[:NAMED_CONFLICTS])
            more = len(conflicts) - NAMED_CONFLICTS
            extra = f" and {more} more" if more > 0 else ""
            raise ApplyConflictError(
                f"plan {plan.id} cannot be applied: {len(conflicts)} conflicting "
                f"path{'s' if len(conflicts) != 1 else ''} ({named}{extra}); nothing was written",
                conflicts,
            )
        return report

    def _write(
        self,
        plan_id: str,
        root: str,
        report: ApplyReport,
        stop: CancellationToken,
    ) -> None:
        """Write the report's changes a page at a time, recording each page once it is on disk;
        ``report.written`` counts the files done."""
        to_write = report.to_write
        total = len(to_write)
        for change in to_write:  # a crash last time may have left one temp file per path
            _remove_quietly(temp_path(os.path.join(root, change.path), plan_id))
        with ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="agents-apply") as pool:
            for start in range(0, total, CONTENT_PAGE):
                if stop.cancelled:
                    raise ApplyError("stopped (cancelled, or a lock was lost)")
                page = to_write[start : start + CONTENT_PAGE]
                contents = self.changes.contents([change.id for change in page])
                staged = _stage_page(pool, root, plan_id, page, contents)
                try:
                    self._commit_page(root, page, staged, report, stop)
                finally:
                    for temp in staged.values():  # what a stop left unrenamed
                        _remove_quietly(temp)
                self.changes.mark_applied([change.id for change in page], self.clock())

    def _commit_page(
        self,
        root: str,
        page: list[FileChange],
        staged: dict[int, str],
        report: ApplyReport,
        stop: CancellationToken,
    ) -> None:
        """Rename the page's staged files over their targets and make the deletions."""
        directories: set[str] = set()
        for change in page:
            if stop.cancelled:
                raise ApplyError("stopped (cancelled, or a lock was lost)")
            target = os.path.join(root, change.path)
            if change.kind is ChangeKind.DELETED:
                os.unlink(target)
                _prune_empty_parents(root, change.path)
            else:
                _commit(staged.pop(change.id), target)
            directories.add(os.path.dirname(target))
            report.written += 1
        for directory in directories:
            _sync_directory(directory)


def _stage_page(
    pool: ThreadPoolExecutor,
    root: str,
    plan_id: str,
    page: list[FileChange],
    contents: Iterable[tuple[bytes | None, bytes | None]],
) -> dict[int, str]:
    """Write (and fsync) the temp file of every write in ``page``, a few at a time, since each
    fsync waits on the disk; change id -> temp path. If one fails, none is left."""
    jobs: dict[int, Future[str]] = {}
    for change, (_base, content) in zip(page, contents, strict=True):
        if change.kind is not ChangeKind.DELETED:
            assert content is not None and change.mode is not None
            target = os.path.join(root, change.path)
            jobs[change.id] = pool.submit(_stage, target, content, change.mode, plan_id)
    staged: dict[int, str] = {}
    failure: BaseException | None = None
    for change_id, job in jobs.items():
        try:
            staged[change_id] = job.result()
        except BaseException as exc:
            failure = failure or exc
    if failure is not None:
        for temp in staged.values():
            _remove_quietly(temp)
        raise failure
    return staged


def _stage(target: str, content: bytes, mode: int, plan_id: str) -> str:
    """Write ``content`` with ``mode`` to ``target``'s temp file, flushed to disk; its path."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    temp = temp_path(target, plan_id)
    fd = os.open(temp, _WRITE_FLAGS, 0o600)
    try:
        try:
            write_all(fd, content)
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _remove_quietly(temp)
        raise
    return temp


def _commit(temp: str, target: str) -> None:
    """The atomic step: the synced temp file takes the target's place."""
    os.replace(temp, target)


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _sync_directory(directory: str) -> None:
    """Make the renames in ``directory`` durable."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except FileNotFoundError:  # a directory a deletion emptied and removed
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune_empty_parents(root: str, path: str) -> None:
    """Remove the directories a deletion left empty, up to (not including) the root."""
    parts = path.split("/")[:-1]
    while parts:
        try:
            os.rmdir(os.path.join(root, *parts))
        except OSError:
            return  # not empty (or not ours to remove)
        parts.pop()


@dataclass(frozen=True)
class Verdict:
    """A change against the project now: a conflict, already applied, or to be written (with
    ``mode`` when a chmod made in the project since is kept)."""

    conflict: str | None = None
    done: bool = False
    mode: int | None = None


def check_against_project(root: str, change: FileChange) -> Verdict:
    """Whether ``change`` can be written to the project under ``root`` as it is now."""
    reason = unsafe_path_reason(change.path)
    if reason is not None:
        return Verdict(f"the path {reason}")
    reason = _path_problem(root, change.path)
    if reason is not None:
        return Verdict(reason)
    return _against_project(root, change)


def _path_problem(root: str, path: str) -> str | None:
    """Why writing ``path`` under ``root`` would leave the project: a symlink on the way."""
    parts = path.split("/")
    current = root
    for position, name in enumerate(parts):
        current = os.path.join(current, name)
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(info.st_mode):
            where = (
                "is"
                if position == len(parts) - 1
                else f"passes through {'/'.join(parts[: position + 1])}, which is"
            )
            return f"{where} a symlink in the project; refusing to write through it"
        if position < len(parts) - 1 and not stat.S_ISDIR(info.st_mode):
            return f"{'/'.join(parts[: position + 1])} is a file in the project, not a directory"
        if position == len(parts) - 1 and not stat.S_ISREG(info.st_mode):
            return "is not a regular file in the project (a directory, a pipe, a device)"
    return None


def _against_project(root: str, change: FileChange) -> Verdict:
    """``change`` against the project's file as it is now."""
    try:
        now = _file_state(os.path.join(root, change.path))
    except OSError as exc:
        return Verdict(f"cannot be read in the project: {exc.strerror}")
    if change.kind is ChangeKind.DELETED:
        if now is None:
            return Verdict(done=True)
        if now[0] == change.base_sha256:
            return Verdict()
        return Verdict("changed in the project since the plan ran")
    if change.kind is ChangeKind.CREATED:
        if now is None:
            return Verdict()
        if now == (change.new_sha256, change.mode):
            return Verdict(done=True)
        return Verdict("exists in the project now (the plan would create it)")
    if now is None:
        return Verdict("was deleted in the project since the plan ran")
    sha, mode = now
    if sha not in (change.base_sha256, change.new_sha256):
        return Verdict("changed in the project since the plan ran")
    merged = _merge_modes(change.base_mode, change.mode, mode)
    if merged is None:
        return Verdict("its mode was changed in the project since the plan ran")
    if sha == change.new_sha256 and merged == mode:
        return Verdict(done=True)
    return Verdict(mode=merged)


def _merge_modes(base: int | None, ours: int | None, theirs: int) -> int | None:
    """The mode to write when the subplan went ``base -> ours`` and the project ``base ->
    theirs``: whichever side changed it (both, only if they agree); None when they disagree."""
    if theirs == base or theirs == ours:
        return ours
    if ours == base:
        return theirs  # a chmod made in the project since is kept
    return None
