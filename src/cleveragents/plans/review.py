"""Reviewing a plan's changes: each change with its old and new content, its line counts, whether
it still fits the project, and its patch, for ``agents plan diff``.

The old content is the one the subplan started from (kept with the change), so a diff shows what
the subplan did even after the project moved on or the plan was applied; ``conflict`` says why
``plan apply`` would refuse the change as the project is now. Several subplans changing one path
is one conflict of that path: the first of its changes carries ``first_of_path``, so it is named
once however many subplans are involved.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from cleveragents.domain.changes import ChangeKind, FileChange, overlapping
from cleveragents.plans.apply import check_against_project
from cleveragents.plans.patches import is_binary, line_stats, render_patch
from cleveragents.store.changes import ChangeStore


def path_matches(path: str, filters: Sequence[str]) -> bool:
    """Whether ``path`` is one of ``filters`` or lies under one (a directory, with or without
    its trailing "/"); no filters match everything."""
    if not filters:
        return True
    for wanted in filters:
        prefix = wanted.strip("/").removeprefix("./")
        if not prefix or path == prefix or path.startswith(prefix + "/"):
            return True
    return False


@dataclass(frozen=True)
class ReviewedChange:
    """One change ready to show."""

    change: FileChange
    old: bytes | None
    new: bytes | None
    conflict: str | None
    first_of_path: bool = True  # the first change of its path (several subplans may share one)

    @property
    def binary(self) -> bool:
        """Binary on either side (git's rule, or not UTF-8)."""
        return any(data is not None and is_binary(data) for data in (self.old, self.new))

    @property
    def known(self) -> bool:
        """Whether the old content is known (it is, unless the project changed mid-run)."""
        return self.change.kind is ChangeKind.CREATED or self.old is not None

    def stats(self) -> tuple[int | None, int | None]:
        """Lines added and removed (None when the old content is not known)."""
        if not self.known:
            return None, None
        counted = line_stats(self.old, self.new)
        return counted.added, counted.removed

    def patch(self) -> str | None:
        """The git-style patch (None when the old content is not known)."""
        if not self.known:
            return None
        change = self.change
        return render_patch(change.path, self.old, self.new, change.base_mode, change.mode)

    def as_json(self) -> dict[str, Any]:
        """The ``plan diff --json`` shape of the change."""
        change = self.change
        added, removed = self.stats()
        return {
            "path": change.path,
            "change": change.kind.value,
            "subplan_id": change.subplan_id,
            "base_sha256": change.base_sha256,
            "new_sha256": change.new_sha256,
            "binary": self.binary,
            "added_lines": added,
            "removed_lines": removed,
            "base_mode": _octal(change.base_mode),
            "mode": _octal(change.mode),
            "size": change.size,
            "applied": change.applied_at is not None,
            "in_scope": change.in_scope,
            "conflict": self.conflict,
        }


def _octal(mode: int | None) -> str | None:
    return None if mode is None else f"{mode:o}"


def review(
    store: ChangeStore,
    plan_id: str,
    root: str,
    filters: Sequence[str] = (),
    subplan_id: str | None = None,
) -> Iterator[ReviewedChange]:
    """The plan's changes under ``filters`` (of one subplan, if given), by path, with contents
    read a page at a time; conflicts are judged among all of the plan's changes."""
    listed = store.for_plan(plan_id)
    shared = overlapping(listed, partial(store.labels, plan_id))  # labels read only if shared
    clashes = {conflict.path: conflict.reason for conflict in shared}
    chosen = [
        change
        for change in listed
        if path_matches(change.path, filters)
        and (subplan_id is None or change.subplan_id == subplan_id)
    ]
    contents = store.contents([change.id for change in chosen], with_base=True)
    previous: str | None = None
    for change, (old, new) in zip(chosen, contents, strict=True):
        conflict = clashes.get(change.path) or check_against_project(root, change).conflict
        first = change.path != previous
        previous = change.path
        yield ReviewedChange(change, old, new, conflict, first_of_path=first)
