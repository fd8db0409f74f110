"""Changes: what a sandboxed subplan did to its files, kept for review until ``plan apply``.

A change names one path relative to the project root and what the subplan left there: a new file
(``created``, no base), new content or mode for a file it was given (``modified``), or no file any
more (``deleted``, no new content). ``base_sha256`` is the hash of the project's file when the
subplan copied it; ``plan apply`` writes a change only while the project's file still has it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

RESERVED_DIRS = (".git", ".agents")  # never written by a plan, whatever a subplan left


class ChangeKind(StrEnum):
    """What happened to a path."""

    CREATED = "created"
    MODIFIED = "modified"
    DELETED = "deleted"


class FileChange(BaseModel):
    """A row of ``changes`` without its content (``new_content`` is read on demand)."""

    model_config = ConfigDict(frozen=True)

    id: int = 0
    plan_id: str
    subplan_id: str
    path: str
    kind: ChangeKind
    base_sha256: str | None
    base_mode: int | None
    new_sha256: str | None
    mode: int | None
    size: int
    applied_at: datetime | None = None
    in_scope: bool = True  # one of its leaf's own files (False: kept with scope = "project")


def unsafe_path_reason(path: str) -> str | None:
    """Why ``path`` may not be written under a project root, or None when it may.

    A change's path must be relative, normalised, inside the root and outside ``.git`` and
    ``.agents``; anything else (``../x``, ``/etc/x``, ``a/./b``, a NUL) would let a change write
    outside the files the plan was given. A backslash is an ordinary character of a POSIX name
    (``a\\b.txt`` is one file in the root), so it is allowed.
    """
    if not path or "\0" in path:
        return "is not a plain relative path"
    if path.startswith("/"):
        return "is absolute"
    parts = path.split("/")
    if ".." in parts:
        return "escapes the project root"
    if posixpath.normpath(path) != path or "." in parts or "" in parts:
        return "is not a normalised relative path"
    if parts[0] in RESERVED_DIRS or ".git" in parts:
        return f"is inside {parts[0] if parts[0] in RESERVED_DIRS else '.git'}"
    return None


class CapturedChange(BaseModel):
    """A change as the sandbox found it, with its new content, before it is stored."""

    model_config = ConfigDict(frozen=True)

    path: str
    kind: ChangeKind
    base_sha256: str | None
    base_mode: int | None
    new_sha256: str | None
    content: bytes | None
    mode: int | None
    base_content: bytes | None = None  # what the file held before, for diffs (None: unknown)
    in_scope: bool = True  # one of its leaf's own files (plans/scope.py ``check_scope`` decides)

    @property
    def size(self) -> int:
        """Bytes of new content (0 for a deletion)."""
        return len(self.content) if self.content is not None else 0


class Conflict(BaseModel):
    """A path ``plan apply`` will not write, why, and the subplans whose changes it is."""

    model_config = ConfigDict(frozen=True)

    path: str
    reason: str
    subplan_ids: tuple[str, ...] = ()  # every one of them, however many ``reason`` names


NAMED_SUBPLANS = 5  # subplans a conflict's reason names before "and N more"


def overlapping(
    changes: list[FileChange], labels: Callable[[], Mapping[str, str]] | None = None
) -> list[Conflict]:
    """Paths that two or more subplans changed, one conflict per path: neither version can be
    applied safely.

    The reason names the first :data:`NAMED_SUBPLANS` subplans (with their labels, when
    ``labels`` gives them: it is called only if some path is shared) and counts the rest; the
    conflict lists every subplan id.
    """
    by_path: dict[str, list[str]] = {}
    for change in changes:
        by_path.setdefault(change.path, []).append(change.subplan_id)
    shared = {path: ids for path, ids in by_path.items() if len(ids) > 1}
    named = labels() if shared and labels is not None else {}
    return [
        Conflict(
            path=path,
            reason=f"changed by {len(ids)} subplans ({_name_subplans(ids, named)})",
            subplan_ids=tuple(ids),
        )
        for path, ids in shared.items()
    ]


def _name_subplans(ids: list[str], labels: Mapping[str, str]) -> str:
    shown = ", ".join(
        f'{subplan_id} "{labels[subplan_id]}"' if subplan_id in labels else subplan_id
        for subplan_id in ids[:NAMED_SUBPLANS]
    )
    more = len(ids) - NAMED_SUBPLANS
    return f"{shown} and {more} more" if more > 0 else shown
