"""What `--project` may name: a registered project (by name or id) or a directory.

A directory that is not registered yet is registered on first use under its directory's name
(made valid, and made unique with ``-2``, ``-3``… when another project holds it), and the
command says so once, on stderr. So `agents plan run --project . --action builtin:count-lines`
works in any repository. A registered name wins over a directory of the same name.
"""

from __future__ import annotations

import re
from pathlib import Path

from cleveragents.cli.output import error
from cleveragents.cli.state import AppState
from cleveragents.domain.clock import utcnow
from cleveragents.domain.names import is_valid_name
from cleveragents.domain.projects import Project
from cleveragents.errors import InvalidInputError, ProjectNotFoundError
from cleveragents.store.projects import ProjectStore

_NOT_IN_NAMES = re.compile(r"[^A-Za-z0-9._-]+")


def directory_of(path: Path) -> Path:
    """``path`` made absolute, if it is an existing directory; exit 2 otherwise."""
    root = path.expanduser().resolve()
    if not root.exists():
        raise InvalidInputError(f"project path {path} does not exist")
    if not root.is_dir():
        raise InvalidInputError(f"project path {path} is not a directory")
    return root


def register(app_state: AppState, root: Path, name: str | None = None) -> Project:
    """Register ``root`` as a project called ``name`` (exit 2 for a name that is not valid)."""
    name = root.name if name is None else name
    if not is_valid_name(name):
        raise InvalidInputError(
            f"invalid project name {name!r}: use letters, digits, '.', '_' and '-' "
            "(up to 100, starting with a letter or digit); pass --name"
        )
    return ProjectStore(app_state.db()).add(name, str(root), utcnow())


def find_project(app_state: AppState, ref: str, register_new: bool = True) -> Project:
    """The project ``ref`` names: a registered name or id, else a directory (registered now when
    ``register_new``, else :class:`ProjectNotFoundError`)."""
    store = ProjectStore(app_state.db())
    try:
        return store.get(ref)
    except ProjectNotFoundError:
        if not Path(ref).expanduser().is_dir():
            raise
    root = Path(ref).expanduser().resolve()
    known = store.at_path(str(root))
    if known is not None:
        return known
    if not register_new:
        raise ProjectNotFoundError(
            f"no project at {root} (register it: `agents project add {ref}`)"
        )
    project = register(app_state, root, _free_name(store, root.name))
    error(f"registered {root} as project {project.name} (see `agents project list`)")
    return project


def _free_name(store: ProjectStore, wanted: str) -> str:
    base = _NOT_IN_NAMES.sub("-", wanted).strip("-._")[:90] or "project"
    if not base[0].isalnum():
        base = f"p{base}"
    taken = {project.name for project in store.find()}
    name, suffix = base, 2
    while name in taken:
        name, suffix = f"{base}-{suffix}", suffix + 1
    return name
