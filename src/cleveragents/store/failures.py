"""What a database error means, in one line: every driver error becomes a :class:`StoreError`.

The two conditions a user must act on are told apart from the rest, on both databases:

- **damaged** (:class:`DatabaseCorruptError`): SQLite's ``SQLITE_CORRUPT`` ("database disk image
  is malformed") and ``SQLITE_NOTADB`` once the file was open; PostgreSQL's ``XX001``
  (data_corrupted) and ``XX002`` (index_corrupted). The remedy names the backup and
  ``sqlite3 FILE .recover``.
- **disk full** (:class:`DatabaseFullError`): ``SQLITE_FULL`` ("database or disk is full"),
  ``ENOSPC``, PostgreSQL's ``53100`` (disk_full), and SQLite's "disk I/O error" when the
  database's directory has (next to) no space left: a full disk is what SQLite reports that way
  when it cannot create or grow its ``-shm`` and ``-wal`` files.

Anything else is "database error: <the driver's first line>".
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

from sqlalchemy import exc

from cleveragents.errors import DatabaseCorruptError, DatabaseFullError, StoreError

SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_NOTADB = 26
PG_DISK_FULL = "53100"
PG_CORRUPTED = ("XX001", "XX002")
LOW_SPACE_BYTES = 1 << 20  # less than this free beside an I/O error: the disk is full


def original(error: BaseException) -> BaseException:
    """The driver's own exception inside SQLAlchemy's wrapper (or ``error`` itself)."""
    if isinstance(error, exc.DBAPIError) and error.orig is not None:
        return error.orig
    return error


def first_line(error: BaseException) -> str:
    """The driver's message, first line only (psycopg adds context lines; SQLAlchemy the SQL)."""
    text = str(original(error)).strip()
    return text.splitlines()[0] if text else type(original(error)).__name__


def sqlite_code(error: BaseException) -> int | None:
    """SQLite's primary result code of ``error`` (None for anything else)."""
    cause = original(error)
    if not isinstance(cause, sqlite3.Error):
        return None
    code = getattr(cause, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def no_space_left(directory: Path) -> str | None:
    """How little space ``directory``'s file system has left, when that is next to nothing."""
    try:
        stats = os.statvfs(directory)
    except OSError:
        return None
    free = stats.f_bavail * stats.f_frsize
    if free < LOW_SPACE_BYTES:
        return f"{free} bytes free in {directory}"
    if stats.f_files and not stats.f_favail:
        return f"no inode left in {directory}"
    return None


def is_disk_full(error: BaseException, path: Path | None) -> str | None:
    """Why ``error`` means the disk is full (None when it does not); ``path`` is the SQLite
    file, None on PostgreSQL."""
    cause = original(error)
    text = first_line(error)
    if getattr(cause, "sqlstate", None) == PG_DISK_FULL:
        return f"the server says: {text}"
    if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
        text = cause.strerror or text
    elif sqlite_code(error) == SQLITE_FULL or "database or disk is full" in text:
        pass
    elif path is not None and (sqlite_code(error) == SQLITE_IOERR or "disk I/O error" in text):
        # SQLite says only "disk I/O error" when it cannot create or grow its -shm file.
        low = no_space_left(path.parent)
        return None if low is None else f"{text}, {low}"
    else:
        return None
    if path is None:
        return text
    low = no_space_left(path.parent)
    return f"{text}, {low}" if low is not None else text


def is_corrupt(error: BaseException) -> bool:
    """Whether ``error`` says the database's contents are damaged."""
    if sqlite_code(error) in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return True
    if getattr(original(error), "sqlstate", None) in PG_CORRUPTED:
        return True
    return "database disk image is malformed" in first_line(error)


def store_error(error: BaseException, where: str, path: Path | None) -> StoreError:
    """The one-line error for a database failure of the database ``where`` (its safe URL)."""
    full = is_disk_full(error, path)
    if full is not None:
        return DatabaseFullError.disk_full(where, full)
    if is_corrupt(error):
        return DatabaseCorruptError.malformed(
            where, first_line(error), None if path is None else str(path)
        )
    return StoreError(f"database error: {first_line(error)}")
