"""An action's ``scope``: which of a leaf's changes are its own, and what happens to the others.

A sandboxed leaf may work in a copy of the whole project, so its tool can change files other than
the leaf's own (a shared module, a lock file). Each captured change is marked ``in_scope`` when
its path is one of the leaf's files. With ``scope = "files"`` (the default) a change anywhere
else fails the leaf with one :class:`ScopeError` line naming the paths; with ``scope =
"project"`` such changes are kept, marked out of scope, for ``plan diff`` to show and ``plan
apply`` to write like any other.

The runner calls :func:`check_scope` right after a leaf's changes are captured, before they are
recorded.
"""

from __future__ import annotations

from collections.abc import Sequence

from cleveragents.domain.changes import CapturedChange
from cleveragents.domain.paths import display_path
from cleveragents.errors import ScopeError

FILES_SCOPE = "files"  # only the leaf's own files may change (the default)
PROJECT_SCOPE = "project"  # changes anywhere in the project are kept, marked out of scope
SCOPES = (FILES_SCOPE, PROJECT_SCOPE)
NAMED_PATHS = 10  # paths a ScopeError names before "and N more"


def check_scope(
    scope: str, files: Sequence[str], changes: list[CapturedChange]
) -> list[CapturedChange]:
    """``changes`` (in their order), each with ``in_scope`` set: True when its path is one of
    ``files`` (the leaf's own, relative POSIX paths as the changes name them).

    With ``scope`` ``"files"``, any change outside them raises :class:`ScopeError` naming the
    first :data:`NAMED_PATHS` such paths (sorted) and counting the rest; with ``"project"`` they
    are returned, marked ``in_scope=False``. Any other ``scope`` is a :class:`ValueError` (an
    action's scope is validated when it is loaded).
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be {' or '.join(map(repr, SCOPES))} (got {scope!r})")
    own = set(files)
    marked = [_marked(change, change.path in own) for change in changes]
    outside = sorted(change.path for change in marked if not change.in_scope)
    if outside and scope == FILES_SCOPE:
        raise ScopeError(_outside_message(outside), outside)
    return marked


def _marked(change: CapturedChange, in_scope: bool) -> CapturedChange:
    if change.in_scope == in_scope:
        return change
    return change.model_copy(update={"in_scope": in_scope})


def _outside_message(paths: list[str]) -> str:
    named = ", ".join(display_path(path) for path in paths[:NAMED_PATHS])
    more = len(paths) - NAMED_PATHS
    extra = f" and {more} more" if more > 0 else ""
    return (
        f'changed files outside the leaf\'s own (scope = "{FILES_SCOPE}"): {named}{extra} '
        f'(set scope = "{PROJECT_SCOPE}" in the action to keep such changes)'
    )
