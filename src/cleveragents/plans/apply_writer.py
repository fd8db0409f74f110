"""The writer of ``plan apply``: a checked plan's changes onto the project's disk.

Owns how files reach the disk: each write goes to a temp file beside its target (one name per
plan and path, so a later run finds and removes what a crash left), written and fsynced by a pool
of :data:`SYNC_THREADS` threads a page (:data:`CONTENT_PAGE` changes) at a time, then renamed over
the target (``os.replace``: a file is old or new, never torn) with its directory fsynced; deletions
remove the file and the directories it leaves empty. Each page is recorded as applied once it is
on disk. A stop (cancelled, or a lock lost) between files raises :class:`ApplyError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

from cleveragents.domain.changes import ChangeKind, FileChange
from cleveragents.errors import AgentsError
from cleveragents.plans.apply_checks import ApplyReport
from cleveragents.runtime.files import write_all
from cleveragents.runtime.tokens import CancellationToken
from cleveragents.store.changes import CONTENT_PAGE, ChangeStore

SYNC_THREADS = 8  # temp files written and fsynced at once: the disk, not the CPU, is the wait
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class ApplyError(AgentsError):
    """The apply stopped half-way; running it again completes it."""


def temp_path(target: str, plan_id: str) -> str:
    """The one temp file an apply of ``plan_id`` writes ``target`` through (hidden, beside it)."""
    head, _, name = target.rpartition(os.sep)
    return os.path.join(head, f".{name}.agents-{plan_id[-10:].lower()}.tmp")


def write_pages(
    changes: ChangeStore,
    plan_id: str,
    root: str,
    report: ApplyReport,
    stop: CancellationToken,
    clock: Callable[[], datetime],
) -> None:
    """Write the report's changes a page at a time, recording each page once it is on disk;
    ``report.written`` counts the files done."""
    to_write = report.to_write
    total = len(to_write)
    for change in to_write:  # a crash last time may have left one temp file per path
        _remove_quietly(temp_path(os.path.join(root, change.path), plan_id))
    with ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="agents-apply") as pool:
        for start in range(0, total, CONTENT_PAGE):
            if stop.cancelled:
                raise ApplyError("stopped (cancelled, or a lock was lost)")
            page = to_write[start : start + CONTENT_PAGE]
            contents = changes.contents([change.id for change in page])
            staged = _stage_page(pool, root, plan_id, page, contents)
            try:
                _commit_page(root, page, staged, report, stop)
            finally:
                for temp in staged.values():  # what a stop left unrenamed
                    _remove_quietly(temp)
            changes.mark_applied([change.id for change in page], clock())


def _commit_page(
    root: str,
    page: list[FileChange],
    staged: dict[int, str],
    report: ApplyReport,
    stop: CancellationToken,
) -> None:
    """Rename the page's staged files over their targets and make the deletions."""
    directories: set[str] = set()
    for change in page:
        if stop.cancelled:
            raise ApplyError("stopped (cancelled, or a lock was lost)")
        target = os.path.join(root, change.path)
        if change.kind is ChangeKind.DELETED:
            os.unlink(target)
            _prune_empty_parents(root, change.path)
        else:
            _commit(staged.pop(change.id), target)
        directories.add(os.path.dirname(target))
        report.written += 1
    for directory in directories:
        _sync_directory(directory)


def _stage_page(
    pool: ThreadPoolExecutor,
    root: str,
    plan_id: str,
    page: list[FileChange],
    contents: Iterable[tuple[bytes | None, bytes | None]],
) -> dict[int, str]:
    """Write (and fsync) the temp file of every write in ``page``, a few at a time, since each
    fsync waits on the disk; change id -> temp path. If one fails, none is left."""
    jobs: dict[int, Future[str]] = {}
    for change, (_base, content) in zip(page, contents, strict=True):
        if change.kind is not ChangeKind.DELETED:
            assert content is not None and change.mode is not None
            target = os.path.join(root, change.path)
            jobs[change.id] = pool.submit(_stage, target, content, change.mode, plan_id)
    staged: dict[int, str] = {}
    failure: BaseException | None = None
    for change_id, job in jobs.items():
        try:
            staged[change_id] = job.result()
        except BaseException as exc:
            failure = failure or exc
    if failure is not None:
        for temp in staged.values():
            _remove_quietly(temp)
        raise failure
    return staged


def _stage(target: str, content: bytes, mode: int, plan_id: str) -> str:
    """Write ``content`` with ``mode`` to ``target``'s temp file, flushed to disk; its path."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    temp = temp_path(target, plan_id)
    fd = os.open(temp, _WRITE_FLAGS, 0o600)
    try:
        try:
            write_all(fd, content)
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _remove_quietly(temp)
        raise
    return temp


def _commit(temp: str, target: str) -> None:
    """The atomic step: the synced temp file takes the target's place."""
    os.replace(temp, target)


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _sync_directory(directory: str) -> None:
    """Make the renames in ``directory`` durable."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except FileNotFoundError:  # a directory a deletion emptied and removed
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune_empty_parents(root: str, path: str) -> None:
    """Remove the directories a deletion left empty, up to (not including) the root."""
    parts = path.split("/")[:-1]
    while parts:
        try:
            os.rmdir(os.path.join(root, *parts))
        except OSError:
            return  # not empty (or not ours to remove)
        parts.pop()
