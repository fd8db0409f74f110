"""Which of a workspace's changes are recorded: what ``git status`` would show, and no more.

A leaf's own files are always recorded (discovery never gives a leaf an ignored file). Any other
path is left out when git's ignore rules ignore it: the project's ``.gitignore`` files, or one
the run itself wrote (ruff, mypy and pytest put a ``.gitignore`` holding ``*`` in their cache
directories), and anything under a ``__pycache__`` directory, ignored or not.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from cleveragents.domain.changes import CapturedChange
from cleveragents.plans.discovery import ignored_paths

BYTECODE_DIR = "__pycache__"


def recordable(
    changes: list[CapturedChange],
    own: Collection[str],
    project_root: Path,
    over: Path | None,
) -> list[CapturedChange]:
    """``changes`` without the ones git would not show, sorted by path.

    ``own`` holds the leaf's files; ``over`` is the tree where the run's own ``.gitignore``
    files are (the workspace), read in place of the project's at the same path."""
    others = [
        change.path
        for change in changes
        if change.path not in own and BYTECODE_DIR not in change.path.split("/")
    ]
    hidden = ignored_paths(project_root, others, over) if others else set()
    kept = [
        change
        for change in changes
        if change.path in own
        or (change.path not in hidden and BYTECODE_DIR not in change.path.split("/"))
    ]
    return sorted(kept, key=lambda change: change.path)
