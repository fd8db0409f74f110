"""A leaf subplan's sandbox: a private workspace holding copies of its files, and what it changed.

``populate`` copies each file once: one read of the project's file feeds both the copy and its
SHA-256 (the base a change is later applied against). Every copy gets the same made-up mtime
(``STAMP_NS``), so after the run a file whose inode, size, mode, mtime and ctime are all as the copy
left them is unchanged without being read again; any write moves its mtime and ctime, and only
those files are read and hashed. ``capture`` then reports creations, modifications (content or
mode) and deletions. A symlink, a device or a pipe left in the workspace is refused, never followed;
so is a new file under ``.git`` or ``.agents``. New files the project's ``.gitignore`` rules ignore
(``__pycache__/``, build output) are left out, as git would leave them out of a diff.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleveragents.domain.changes import CapturedChange, ChangeKind, unsafe_path_reason
from cleveragents.errors import SandboxError
from cleveragents.plans.discovery import IgnoreRules
from cleveragents.plans.recordable import BYTECODE_DIR, recordable
from cleveragents.runtime.files import write_all
from cleveragents.runtime.namespaces import Overlay

STAMP_NS = 946_684_800_123_456_789  # 2000-01-01T00:00:00.123456789Z: no tool writes this mtime
CHUNK_BYTES = 1 << 20
# rmtree's error hook: "onexc" from Python 3.12 on, where "onerror" is deprecated.
_ON_ERROR = "onexc" if sys.version_info >= (3, 12) else "onerror"
PERMISSIONS = 0o777
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True, slots=True)
class CopyBase:
    """A copied file as the copy left it (its SHA-256 None until it is needed, for a copy made
    without reading the file: ``project_copy.py``)."""

    sha256: str | None
    mode: int
    size: int
    ino: int
    ctime_ns: int


def copy_file(source_fd: int, target: str, mode: int, sparse: bool) -> CopyBase:
    """Copy the open ``source_fd`` to a new file ``target``, hashing what is read on the way.

    A ``sparse`` source (fewer blocks allocated than its size needs) is copied region by region
    (:func:`_copy_regions`), so that its holes stay holes in the copy.
    """
    digest = hashlib.sha256()
    out = os.open(target, _WRITE_FLAGS, 0o600)
    try:
        size = _copy_regions(source_fd, out, digest) if sparse else None
        if size is None:
            size = _copy_stream(source_fd, out, digest)
        os.fchmod(out, mode)
        os.utime(out, ns=(STAMP_NS, STAMP_NS))
        copied = os.fstat(out)
    finally:
        os.close(out)
    return CopyBase(digest.hexdigest(), mode, size, copied.st_ino, copied.st_ctime_ns)


def _copy_stream(source_fd: int, out: int, digest: Any) -> int:
    """Read ``source_fd`` from its current offset to its end into ``out``; the bytes copied."""
    size = 0
    while chunk := os.read(source_fd, CHUNK_BYTES):
        digest.update(chunk)
        size += len(chunk)
        write_all(out, chunk)
    return size


def _copy_regions(source_fd: int, out: int, digest: Any) -> int | None:
    """Copy only the data regions of ``source_fd`` (``SEEK_DATA``/``SEEK_HOLE``), hashing each
    hole as the zeros it reads as; the size copied, or None where the filesystem cannot say
    (nothing read yet, so the caller copies it as a stream).

    Data is read once, as in a plain copy; the holes cost hashing zeros, no reading or writing.
    The copy is truncated to the size last seen, so a hole at the end stays one too.
    """
    position = 0
    while True:
        try:
            data = os.lseek(source_fd, position, os.SEEK_DATA)
        except OSError as exc:
            # Linux answers SEEK_DATA on every filesystem (the generic code calls the whole file
            # data); where it is refused all the same, the file is copied as a stream.
            if exc.errno != errno.ENXIO:  # pragma: no cover - cannot be made to happen here
                if position:
                    raise
                os.lseek(source_fd, 0, os.SEEK_SET)
                return None
            # no data past position: a hole up to the end
            end = max(position, os.fstat(source_fd).st_size)
            _hash_zeros(digest, end - position)
            os.ftruncate(out, end)
            return end
        _hash_zeros(digest, data - position)
        hole = os.lseek(source_fd, data, os.SEEK_HOLE)
        os.lseek(source_fd, data, os.SEEK_SET)
        os.lseek(out, data, os.SEEK_SET)
        remaining = hole - data  # less if the file shrank meanwhile: a short read ends it
        while remaining > 0 and (chunk := os.read(source_fd, min(CHUNK_BYTES, remaining))):
            digest.update(chunk)
            write_all(out, chunk)
            remaining -= len(chunk)
        position = os.lseek(source_fd, 0, os.SEEK_CUR)


_ZEROS = bytes(CHUNK_BYTES)


def _hash_zeros(digest: Any, count: int) -> None:
    """Feed ``count`` zero bytes to ``digest`` without allocating them."""
    zeros = memoryview(_ZEROS)
    while count > 0:
        step = min(count, CHUNK_BYTES)
        digest.update(zeros[:step])
        count -= step


def read_file(path: str) -> bytes:
    """Everything the regular file ``path`` holds (a symlink is not followed)."""
    return read_fd(os.open(path, _READ_FLAGS))


def read_fd(fd: int) -> bytes:
    """Everything ``fd`` holds, then closed."""
    try:
        chunks = []
        while chunk := os.read(fd, CHUNK_BYTES):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def remove_tree(path: Path) -> None:
    """Remove ``path`` even where the subplan took away write or search permission."""

    def retry(func: Callable[..., Any], name: str, *_: Any) -> None:
        # ``func`` may be an open or a scandir of a directory we may not read (an overlay's
        # work/work is mode 000): open it up, then remove ``name`` itself, whatever it is.
        for parent in (os.path.dirname(name), name):
            if os.path.isdir(parent) and not os.path.islink(parent):
                os.chmod(parent, stat.S_IRWXU)
        if os.path.isdir(name) and not os.path.islink(name):
            shutil.rmtree(name, **hook)
        elif os.path.lexists(name):
            os.unlink(name)

    hook: dict[str, Any] = {_ON_ERROR: retry}
    shutil.rmtree(path, **hook)


class Workspace:
    """One leaf's sandbox under ``directory`` (created here, removed by :meth:`remove`) holding
    copies of the leaf's own files (``isolation = "files"``)."""

    def __init__(self, project_root: Path, directory: Path) -> None:
        self.project_root = project_root
        self.root = directory
        self._real_root = os.path.realpath(project_root)
        self._base: dict[str, CopyBase] = {}
        self._own: set[str] = set()
        self.overlay: Overlay | None = None  # a plain directory: nothing to enter
        directory.mkdir(mode=0o700)

    def populate(self, files: Sequence[str]) -> None:
        """Copy ``files`` (relative POSIX paths) from the project; a file gone since is left out."""
        self._own = set(files)
        self._copy_files(files)

    def _copy_files(self, files: Sequence[str]) -> None:
        made: set[str] = {""}
        root = str(self.root)
        for rel in files:
            reason = unsafe_path_reason(rel)
            if reason is not None:
                raise SandboxError(f"{rel}: {reason}")
            source_fd = self._open_source(rel)
            if source_fd is None:
                continue
            try:
                info = os.fstat(source_fd)
                if not stat.S_ISREG(info.st_mode):
                    raise SandboxError(f"{rel}: is not a regular file in the project any more")
                parent = rel.rpartition("/")[0]
                if parent not in made:
                    os.makedirs(os.path.join(root, parent), exist_ok=True)
                    made.add(parent)
                target = os.path.join(root, rel)
                self._base[rel] = copy_file(
                    source_fd, target, info.st_mode & PERMISSIONS, is_sparse(info)
                )
            finally:
                os.close(source_fd)

    def _open_source(self, rel: str) -> int | None:
        """The project file ``rel`` opened for reading; a symlink only if it stays inside."""
        path = os.path.join(self.project_root, rel)
        try:
            return os.open(path, _READ_FLAGS)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno != errno.ELOOP:  # ELOOP: the path is a symlink
                raise SandboxError(f"{rel}: cannot be read: {exc.strerror}") from exc
        target = os.path.realpath(path)
        if not target.startswith(self._real_root + os.sep):
            raise SandboxError(f"{rel}: is a symlink pointing outside the project") from None
        try:
            return os.open(target, _READ_FLAGS)
        except FileNotFoundError:
            return None

    def capture(self) -> list[CapturedChange]:
        """What the subplan changed, by path; :class:`SandboxError` for what cannot be recorded."""
        found: list[CapturedChange] = []
        created: list[CapturedChange] = []
        seen: set[str] = set()
        rules = IgnoreRules(self.project_root, self.root)
        copied_dirs = {parent for rel in self._base for parent in _parents(rel)}
        pending: list[tuple[str, str]] = [(str(self.root), "")]
        while pending:
            directory, prefix = pending.pop()
            with os.scandir(directory) as listing:
                entries = list(listing)
            for entry in entries:
                rel = prefix + entry.name
                is_dir = entry.is_dir(follow_symlinks=False)
                if rel not in self._base and (rel not in copied_dirs if is_dir else True):
                    if BYTECODE_DIR in rel.split("/") or rules.ignored(rel, is_dir):
                        continue  # ignored (a cache, a virtualenv): never read, never refused
                if entry.is_symlink():
                    raise SandboxError(f"{rel}: the subplan left a symlink; symlinks are refused")
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, rel + "/"))
                    continue
                if not entry.is_file(follow_symlinks=False):
                    raise SandboxError(f"{rel}: the subplan left something that is not a file")
                info = entry.stat(follow_symlinks=False)
                base = self._base.get(rel)
                if base is not None:
                    seen.add(rel)
                    if _untouched(info, base):
                        continue
                    base = self._known(rel, base)
                change = self._changed(rel, entry.path, info.st_mode & PERMISSIONS, base)
                if change is None:
                    continue
                (found if base is not None else created).append(change)
        for rel in [rel for rel in self._base if rel not in seen]:
            base = self._known(rel, self._base[rel])
            found.append(
                CapturedChange(
                    path=rel,
                    kind=ChangeKind.DELETED,
                    base_sha256=base.sha256,
                    base_mode=base.mode,
                    new_sha256=None,
                    content=None,
                    mode=None,
                    base_content=self._base_content(rel, base),
                )
            )
        return recordable(found + created, self._own, self.project_root, self.root)

    def _changed(
        self, rel: str, path: str, mode: int, base: CopyBase | None
    ) -> CapturedChange | None:
        content = read_file(path)
        sha = hashlib.sha256(content).hexdigest()
        if base is None:
            reason = unsafe_path_reason(rel)
            if reason is not None:
                raise SandboxError(f"{rel}: the subplan created a file that {reason}")
            kind = ChangeKind.CREATED
        elif sha == base.sha256 and mode == base.mode:
            return None  # rewritten with the same content
        else:
            kind = ChangeKind.MODIFIED
        return CapturedChange(
            path=rel,
            kind=kind,
            base_sha256=base.sha256 if base else None,
            base_mode=base.mode if base else None,
            new_sha256=sha,
            content=content,
            mode=mode,
            base_content=self._base_content(rel, base) if base else None,
        )

    def _known(self, rel: str, base: CopyBase) -> CopyBase:
        """``base`` with its SHA-256 (known from the copy here; a subclass may read it later)."""
        return base

    def _base_content(self, rel: str, base: CopyBase) -> bytes | None:
        """The project's file as the subplan got it, kept for diffs; None if it changed since."""
        fd = self._open_source(rel)
        if fd is None:
            return None
        data = read_fd(fd)
        return data if hashlib.sha256(data).hexdigest() == base.sha256 else None

    def remove(self) -> None:
        """Delete the workspace and everything in it."""
        if self.root.exists():
            remove_tree(self.root)


def _parents(rel: str) -> list[str]:
    """``a/b/c.txt`` -> ``["a", "a/b"]``."""
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: count + 1]) for count in range(len(parts))]


def is_sparse(info: os.stat_result) -> bool:
    """Whether a file has fewer bytes allocated than its size: holes, most likely."""
    return info.st_blocks * 512 < info.st_size


def _untouched(info: os.stat_result, base: CopyBase) -> bool:
    return (
        info.st_mtime_ns == STAMP_NS
        and info.st_ino == base.ino
        and info.st_size == base.size
        and info.st_ctime_ns == base.ctime_ns
        and info.st_mode & PERMISSIONS == base.mode
    )
