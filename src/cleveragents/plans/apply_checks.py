"""The checks of ``plan apply``: every change of a plan against the project as it is now.

Owns the verdict on one change (a conflict, already applied, or to be written), the path rule
(inside the project, through no symlink, onto a regular file), the three-way merge of file modes
(a chmod made in the project since the plan ran is kept), and sorting a plan's changes into an
:class:`ApplyReport` or one :class:`ApplyConflictError` naming every conflict. It reads the
project's files and writes nothing.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cleveragents.domain.changes import (
    ChangeKind,
    Conflict,
    FileChange,
    overlapping,
    unsafe_path_reason,
)
from cleveragents.domain.paths import display_path
from cleveragents.domain.plans import Plan
from cleveragents.errors import ApplyConflictError

NAMED_CONFLICTS = 5  # conflicts the one-line message names before "and N more"


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


def sort_changes(
    plan: Plan,
    root: str,
    found: list[FileChange],
    *,
    dry_run: bool,
    labels: Callable[[], Mapping[str, str]] | None = None,
) -> ApplyReport:
    """Sort ``found`` (every change of ``plan``) into to-write and already-written against the
    project under ``root``; :class:`ApplyConflictError` listing every conflicting path once, if
    any (``labels``: the leaves' labels, to name the subplans that share a path)."""
    conflicts = overlapping(found, labels)
    report = ApplyReport(plan=plan, dry_run=dry_run)
    clashing = {conflict.path for conflict in conflicts}
    for change in found:
        if change.path in clashing:
            continue
        verdict = check_against_project(root, change)
        if verdict.conflict is not None:
            conflicts.append(
                Conflict(
                    path=change.path, reason=verdict.conflict, subplan_ids=(change.subplan_id,)
                )
            )
        elif verdict.done:
            report.already.append(change)
        elif verdict.mode is not None and verdict.mode != change.mode:
            report.to_write.append(change.model_copy(update={"mode": verdict.mode}))
        else:
            report.to_write.append(change)
    if conflicts:
        conflicts.sort(key=lambda conflict: conflict.path)
        named = ", ".join(display_path(c.path) for c in conflicts[:NAMED_CONFLICTS])
        more = len(conflicts) - NAMED_CONFLICTS
        extra = f" and {more} more" if more > 0 else ""
        raise ApplyConflictError(
            f"plan {plan.id} cannot be applied: {len(conflicts)} conflicting "
            f"path{'s' if len(conflicts) != 1 else ''} ({named}{extra}); nothing was written",
            conflicts,
        )
    return report


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


def _file_state(path: str) -> tuple[str, int] | None:
    """``(sha256, mode)`` of the file ``path`` (known to be a regular file); None when none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode & 0o777
        return hashlib.file_digest(handle, "sha256").hexdigest(), mode


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
