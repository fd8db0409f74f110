"""Which workspace a leaf gets, and the backend that makes a whole-project one.

``isolation = "sandbox"`` (the default) gives each leaf the whole project: an overlay
(``plans/overlay.py``) where the kernel allows one, else a full copy (``sandbox.ProjectCopy``).
``isolation = "files"`` gives it copies of its own files only (``sandbox.Workspace``), and so does
a built-in action in a sandbox: built-ins run in this process and read nothing but their files.
The setting ``sandbox.backend`` (``auto``, ``overlay``, ``copy``) forces a backend; ``auto`` tries
an overlay once per project and process, and says why when it falls back.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cleveragents.domain.changes import CapturedChange
from cleveragents.errors import SandboxError
from cleveragents.plans.backends import COPY, OVERLAY
from cleveragents.plans.overlay import OverlayWorkspace
from cleveragents.plans.project_copy import ProjectCopy
from cleveragents.plans.sandbox import Workspace
from cleveragents.runtime.namespaces import Overlay, overlay_problem

log = logging.getLogger("cleveragents.plans.workspaces")


class LeafWorkspace(Protocol):
    """What the runner needs of a workspace."""

    root: Path  # where the command runs (the project's own path, for an overlay)
    overlay: Overlay | None  # what the command must enter to see the workspace, if anything

    def populate(self, files: Sequence[str]) -> None:
        """Make the workspace for a leaf of ``files``."""

    def capture(self) -> list[CapturedChange]:
        """What the leaf changed."""

    def remove(self) -> None:
        """Delete the workspace."""


@dataclass(frozen=True)
class Backend:
    """The backend in use, and why it is not an overlay (None when it is)."""

    name: str
    fallback_reason: str | None = None

    def describe(self) -> str:
        """One line for a log or a report."""
        if self.name == OVERLAY:
            return "overlay of the project in a private mount namespace"
        why = f" ({self.fallback_reason})" if self.fallback_reason else ""
        return f"a full copy of the project per leaf{why}"


def ownership_problem(project_root: Path) -> str | None:
    """Why files of ``project_root`` could not be copied up by an unprivileged overlay."""
    uid = os.geteuid()
    owner = os.stat(project_root).st_uid
    if uid == 0 or owner == uid:
        return None
    return (
        f"the project is owned by uid {owner}, not by the user running agents (uid {uid}); "
        "an overlay needs the project's files to be yours"
    )


def _unescape(point: str) -> str:
    """A mount point as mountinfo writes it (space, tab, newline, backslash as ``\\ooo``)."""
    return re.sub(r"\\([0-7]{3})", lambda found: chr(int(found.group(1), 8)), point)


def nested_mount_problem(project_root: Path) -> str | None:
    """Why an overlay of ``project_root`` would hide part of it: a filesystem mounted inside it
    (an overlay shows only the project directory's own filesystem)."""
    root = os.path.realpath(project_root)
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as info:
            points = [line.split()[4] for line in info if len(line.split()) > 4]
    except OSError:  # pragma: no cover - /proc is there wherever overlays are
        return None
    decoded = (_unescape(point) for point in points)
    inside = sorted(point for point in decoded if point.startswith(root + "/"))
    if not inside:
        return None
    return f"something is mounted inside the project ({inside[0]}); an overlay would hide it"


def choose_backend(setting: str, project_root: Path) -> Backend:
    """The backend for ``project_root``; :class:`SandboxError` when ``overlay`` is forced and
    cannot work."""
    if setting == COPY:
        return Backend(COPY, "sandbox.backend = copy")
    problem = (
        ownership_problem(project_root)
        or nested_mount_problem(project_root)
        or overlay_problem(os.path.realpath(project_root))
    )
    if problem is None:
        return Backend(OVERLAY)
    if setting == OVERLAY:
        raise SandboxError(
            f"cannot use an overlay of {project_root}: {problem} "
            '(set sandbox.backend = "copy" or "auto")'
        )
    return Backend(COPY, f"no overlay: {problem}")


def make_workspace(
    backend: Backend, whole_project: bool, project_root: Path, directory: Path
) -> LeafWorkspace:
    """A new workspace under ``directory``: the whole project by ``backend``, or the leaf's
    own files when ``whole_project`` is false."""
    if not whole_project:
        return Workspace(project_root, directory)
    if backend.name == OVERLAY:
        return OverlayWorkspace(project_root, directory)
    return ProjectCopy(project_root, directory)
