"""The fallback whole-project workspace: a copy of every file of the project git would keep.

Used where no overlay can be mounted (``workspaces.py``). Each file is copied by the kernel
(``os.copy_file_range``: a reflink on filesystems that share extents, such as Btrfs and XFS; an
in-kernel copy elsewhere), never read into this process; sparse files are copied region by region
so their holes stay holes. ``.git`` is left out. Each copy gets the made-up mtime of
``sandbox.py``, so an untouched file is known without reading it; a file the leaf changed or
deleted is compared with the project's file, read when the leaf is captured, and refused if the
project's file changed since it was copied (its inode, size or times moved).
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from cleveragents.errors import SandboxError
from cleveragents.plans.discovery import discover_files
from cleveragents.plans.sandbox import (
    PERMISSIONS,
    STAMP_NS,
    CopyBase,
    Workspace,
    copy_file,
    is_sparse,
    read_fd,
)

_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_Stamp = tuple[int, int, int, int]  # inode, size, mtime, ctime of the project's file


def _stamp(info: os.stat_result) -> _Stamp:
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _kernel_copy(source_fd: int, target: str, mode: int, size: int) -> CopyBase:
    """Copy ``size`` bytes of ``source_fd`` to the new file ``target`` in the kernel."""
    out = os.open(target, _WRITE_FLAGS, 0o600)
    try:
        copied = 0
        while copied < size:
            step = os.copy_file_range(source_fd, out, size - copied)
            if step == 0:  # the file shrank meanwhile: what there was is copied
                break
            copied += step
        os.fchmod(out, mode)
        os.utime(out, ns=(STAMP_NS, STAMP_NS))
        info = os.fstat(out)
    finally:
        os.close(out)
    return CopyBase(None, mode, info.st_size, info.st_ino, info.st_ctime_ns)


class ProjectCopy(Workspace):
    """A workspace holding a copy of the whole project (``.git`` and ignored files left out)."""

    def __init__(self, project_root: Path, directory: Path) -> None:
        super().__init__(project_root, directory)
        self._source: dict[str, _Stamp] = {}
        self._contents: dict[str, bytes] = {}
        self._kernel_copies = True

    def populate(self, files: Sequence[str]) -> None:
        """Copy the whole project; ``files`` are the leaf's own."""
        self._own = set(files)
        made: set[str] = {""}
        root = str(self.root)
        for rel in discover_files(self.project_root):
            source_fd = self._open_source(rel)
            if source_fd is None:
                continue
            try:
                info = os.fstat(source_fd)
                if not stat.S_ISREG(info.st_mode):  # pragma: no cover - discovery gave a file
                    continue
                parent = rel.rpartition("/")[0]
                if parent not in made:
                    os.makedirs(os.path.join(root, parent), exist_ok=True)
                    made.add(parent)
                self._base[rel] = self._copy_one(source_fd, os.path.join(root, rel), info)
                self._source[rel] = _stamp(info)
            finally:
                os.close(source_fd)

    def _copy_one(self, source_fd: int, target: str, info: os.stat_result) -> CopyBase:
        mode = info.st_mode & PERMISSIONS
        if self._kernel_copies and not is_sparse(info):
            try:
                return _kernel_copy(source_fd, target, mode, info.st_size)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                    raise
                self._kernel_copies = False  # this filesystem pair does not: copy by reading
                os.unlink(target)
                os.lseek(source_fd, 0, os.SEEK_SET)
        return copy_file(source_fd, target, mode, is_sparse(info))

    def _known(self, rel: str, base: CopyBase) -> CopyBase:
        """``base`` with the SHA-256 of the project's file, read now; refused if the file
        changed since it was copied."""
        if base.sha256 is not None:
            return base
        fd = self._open_source(rel)
        if fd is None:
            raise SandboxError(f"{rel}: removed from the project while the leaf ran; run it again")
        if _stamp(os.fstat(fd)) != self._source[rel]:
            os.close(fd)
            raise SandboxError(f"{rel}: changed in the project while the leaf ran; run it again")
        content = read_fd(fd)
        self._contents[rel] = content
        known = dataclasses.replace(base, sha256=hashlib.sha256(content).hexdigest())
        self._base[rel] = known
        return known

    def _base_content(self, rel: str, base: CopyBase) -> bytes | None:
        if rel in self._contents:
            return self._contents[rel]
        return super()._base_content(rel, base)
