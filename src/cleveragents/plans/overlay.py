"""A leaf's workspace as an overlay of the whole project (``runtime/namespaces.py``).

Setting one up costs two empty directories, whatever the project's size: the command sees the
project at its own path, every file of it, and writes land in the leaf's private upper
directory. What the leaf changed is read from that upper directory alone, never from a walk of
the project: a regular file there is a creation or a modification (compared with the project's
file, so a file rewritten with the same content is no change), a whiteout (a character device
0/0) is a deletion, and an opaque directory hides whatever the project held below it.

The base of a change (what ``plan apply`` checks the project still holds) is the project's file
as read when the leaf is captured; for the leaf's own files, their size, inode and times are
noted when the leaf starts, and a file of the leaf changed in the project meanwhile fails the
leaf rather than recording a change against content the command never saw.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from cleveragents.domain.changes import CapturedChange, ChangeKind, unsafe_path_reason
from cleveragents.errors import SandboxError
from cleveragents.plans.discovery import IgnoreRules
from cleveragents.plans.recordable import BYTECODE_DIR, recordable
from cleveragents.plans.sandbox import PERMISSIONS, read_file, remove_tree
from cleveragents.runtime.namespaces import Overlay

GIT_DIR = ".git"
_OPAQUE = ("trusted.overlay.opaque", "user.overlay.opaque")
_Stamp = tuple[int, int, int, int]  # inode, size, mtime, ctime


def _stamp(info: os.stat_result) -> _Stamp:
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return None


def _opaque(path: str) -> bool:
    for name in _OPAQUE:
        try:
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return False


def _whiteout(info: os.stat_result) -> bool:
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == 0


def _refuse_unsafe(rel: str) -> None:
    """A change to a path no plan may write (inside a ``.git``, the root's ``.agents``)."""
    reason = unsafe_path_reason(rel)
    if reason is not None:
        raise SandboxError(f"{rel}: the subplan changed a file that {reason}")


def _gitdir_of(dot_git: str) -> list[str]:
    """The git directories a ``.git`` stands for: itself, or the one a ``.git`` file (a
    worktree, a submodule) points at, with the common directory it shares."""
    if os.path.isdir(dot_git):
        return [dot_git]
    try:
        with open(dot_git, encoding="utf-8", errors="surrogateescape") as handle:
            first = handle.readline().strip()
    except OSError:
        return []
    if not first.startswith("gitdir:"):
        return []
    gitdir = os.path.join(os.path.dirname(dot_git), first.removeprefix("gitdir:").strip())
    found = [os.path.realpath(gitdir)]
    try:
        with open(os.path.join(gitdir, "commondir"), encoding="utf-8") as handle:
            found.append(os.path.realpath(os.path.join(gitdir, handle.readline().strip())))
    except OSError:
        pass
    return [path for path in found if os.path.isdir(path)]


def git_protection(lower: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """What to bind read-only so that a leaf cannot write the project's repository (its
    ``.git``, or what a ``.git`` file points at, or the ``.git`` of a repository the project
    lies inside), and the environment that lets git find the latter across the overlay's
    filesystem boundary, as it would in place."""
    here = os.path.join(lower, GIT_DIR)
    if os.path.lexists(here):
        return tuple(_gitdir_of(here)), {}
    parent = os.path.dirname(lower)
    while parent != os.path.dirname(parent):
        dirs = _gitdir_of(os.path.join(parent, GIT_DIR))
        if dirs:
            return tuple(dirs), {"GIT_DISCOVERY_ACROSS_FILESYSTEM": "1"}
        if os.path.lexists(os.path.join(parent, GIT_DIR)):
            break
        parent = os.path.dirname(parent)
    return (), {}


class OverlayWorkspace:
    """One leaf's overlay: upper and work directories under ``directory``."""

    _rules: IgnoreRules  # git's ignore rules, read when the leaf is captured (not before)

    def __init__(self, project_root: Path, directory: Path) -> None:
        self.project_root = project_root
        self.root = project_root  # the command runs at the project's own path
        self._lower = os.path.realpath(project_root)
        self.upper = directory / "upper"
        directory.mkdir(mode=0o700)
        self.upper.mkdir()
        (directory / "work").mkdir()
        readonly, env = git_protection(self._lower)
        self.overlay: Overlay | None = Overlay(
            self._lower, str(self.upper), str(directory / "work"), readonly, tuple(env.items())
        )
        self._started = time.time_ns()
        self._directory = directory
        self._own: dict[str, _Stamp | None] = {}

    def populate(self, files: Sequence[str]) -> None:
        """Note the leaf's files as they are now (nothing is copied)."""
        self._started = time.time_ns()
        for rel in files:
            reason = unsafe_path_reason(rel)
            if reason is not None:
                raise SandboxError(f"{rel}: {reason}")
            info = _lstat(os.path.join(self._lower, rel))
            self._own[rel] = _stamp(info) if info is not None else None

    def capture(self) -> list[CapturedChange]:
        """What the leaf changed, from its upper directory; :class:`SandboxError` for what
        cannot be recorded (a symlink, a device, a file of the leaf changed meanwhile)."""
        self._rules = IgnoreRules(self.project_root, self.upper)
        found = list(self._walk(str(self.upper), "", False))
        return recordable(found, self._own, self.project_root, self.upper)

    def _walk(self, directory: str, prefix: str, hidden: bool) -> Iterator[CapturedChange]:
        """The changes under ``directory`` of the upper layer; ``hidden``: the project's own
        content here is hidden (an opaque directory, or a directory made inside one)."""
        with os.scandir(directory) as listing:
            entries = list(listing)
        for entry in entries:
            rel = prefix + entry.name
            info = entry.stat(follow_symlinks=False)
            lower = os.path.join(self._lower, rel)
            below = _lstat(lower)
            below_dir = below is not None and stat.S_ISDIR(below.st_mode)
            if self._skipped(rel, stat.S_ISDIR(info.st_mode) or below_dir):
                continue  # ignored (a cache, a virtualenv): never read, never refused
            if _whiteout(info):
                yield from self._removed(rel, below)
            elif stat.S_ISDIR(info.st_mode):
                if below is not None and not below_dir:
                    yield from self._removed(rel, below)  # a file replaced by a directory
                    below, below_dir = None, False
                opaque = hidden or _opaque(entry.path)
                yield from self._walk(entry.path, rel + "/", opaque)
                if below_dir and opaque:
                    shown = set(os.listdir(entry.path))
                    for name in sorted(set(os.listdir(lower)) - shown):
                        yield from self._removed(f"{rel}/{name}", _lstat(f"{lower}/{name}"))
            elif stat.S_ISREG(info.st_mode):
                if below_dir:
                    yield from self._removed(rel, below)  # a directory replaced by a file
                    below = None
                change = self._written(rel, entry.path, info, below)
                if change is not None:
                    yield change
            elif stat.S_ISLNK(info.st_mode):
                raise SandboxError(f"{rel}: the subplan left a symlink; symlinks are refused")
            else:
                raise SandboxError(f"{rel}: the subplan left something that is not a file")

    def _skipped(self, rel: str, is_dir: bool) -> bool:
        """Whether ``rel`` is left out of what is recorded: not one of the leaf's files, and
        ignored by git's rules or bytecode."""
        if rel in self._own:
            return False
        return BYTECODE_DIR in rel.split("/") or self._rules.ignored(rel, is_dir)

    def _written(
        self, rel: str, path: str, info: os.stat_result, below: os.stat_result | None
    ) -> CapturedChange | None:
        content = read_file(path)
        sha = hashlib.sha256(content).hexdigest()
        mode = info.st_mode & PERMISSIONS
        if below is None:
            reason = unsafe_path_reason(rel)
            if reason is not None:
                raise SandboxError(f"{rel}: the subplan created a file that {reason}")
            return CapturedChange(
                path=rel,
                kind=ChangeKind.CREATED,
                base_sha256=None,
                base_mode=None,
                new_sha256=sha,
                content=content,
                mode=mode,
            )
        _refuse_unsafe(rel)
        base, base_sha = self._base(rel, below)
        base_mode = below.st_mode & PERMISSIONS
        if sha == base_sha and mode == base_mode:
            return None  # copied up (opened for writing, touched) with the same content
        return CapturedChange(
            path=rel,
            kind=ChangeKind.MODIFIED,
            base_sha256=base_sha,
            base_mode=base_mode,
            new_sha256=sha,
            content=content,
            mode=mode,
            base_content=base,
        )

    def _removed(self, rel: str, below: os.stat_result | None) -> Iterator[CapturedChange]:
        """Deletions of what the project holds at ``rel`` (every file, for a directory)."""
        if below is None or self._skipped(rel, stat.S_ISDIR(below.st_mode)):
            return
        if stat.S_ISDIR(below.st_mode):
            lower = os.path.join(self._lower, rel)
            for name in sorted(os.listdir(lower)):
                yield from self._removed(f"{rel}/{name}", _lstat(f"{lower}/{name}"))
            return
        if not stat.S_ISREG(below.st_mode):
            raise SandboxError(f"{rel}: the subplan removed a symlink or special file; refused")
        _refuse_unsafe(rel)
        base, base_sha = self._base(rel, below)
        yield CapturedChange(
            path=rel,
            kind=ChangeKind.DELETED,
            base_sha256=base_sha,
            base_mode=below.st_mode & PERMISSIONS,
            new_sha256=None,
            content=None,
            mode=None,
            base_content=base,
        )

    def _base(self, rel: str, below: os.stat_result) -> tuple[bytes, str]:
        """The project's file ``rel`` and its SHA-256; refused if it is one of the leaf's files
        and changed in the project since the leaf started."""
        noted = self._own.get(rel)
        moved = noted != _stamp(below) if rel in self._own else below.st_ctime_ns > self._started
        if moved:  # another file: any change to it since the leaf started moved its ctime
            raise SandboxError(f"{rel}: changed in the project while the leaf ran; run it again")
        try:
            content = read_file(os.path.join(self._lower, rel))
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise SandboxError(f"{rel}: removed from the project while the leaf ran") from exc
            raise SandboxError(f"{rel}: cannot be read: {exc.strerror}") from exc
        return content, hashlib.sha256(content).hexdigest()

    def remove(self) -> None:
        """Delete the upper and work directories: at once when the leaf wrote nothing (the
        overlay leaves ``work/work`` behind, empty), else the whole tree."""
        work = self._directory / "work"
        try:
            for empty in (work / "work", work, self.upper, self._directory):
                os.rmdir(empty)
        except FileNotFoundError:
            if not self._directory.exists():
                return
            remove_tree(self._directory)
        except OSError:  # something in it (what the leaf wrote), or gone already
            remove_tree(self._directory)
