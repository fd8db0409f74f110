"""The engine and every piece of database policy, in one place.

SQLite: writers start their transactions with ``BEGIN IMMEDIATE`` so that two writers never both
read and then collide on the upgrade to a write lock ("database is locked" despite busy_timeout);
readers use a plain deferred ``BEGIN`` and, under WAL, never wait for writers.

PostgreSQL (``postgresql+psycopg://``, psycopg 3): READ COMMITTED transactions; the claim's row
locks (``FOR UPDATE SKIP LOCKED``) and the conditional updates decide every race. Each write
transaction ends with ``NOTIFY agents`` (delivered at commit, folded into one per transaction), so
idle workers and watchers wake on any commit as they do on SQLite's ``data_version``.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from cleveragents.domain.redaction import redact_url
from cleveragents.errors import DatabaseCorruptError, DatabaseUnavailableError, StoreError
from cleveragents.settings import SQLiteSettings
from cleveragents.store.failures import first_line, is_corrupt, is_disk_full, store_error

IMMEDIATE = "agents_immediate"
# libpq settings a PostgreSQL URL gets unless it names them itself. Client side: give up
# connecting after 10 s; fail a statement whose data goes unacknowledged for 15 s (a cut
# network); probe an idle connection (the LISTEN one) after 5 s, every 2 s, 3 times. Server
# side, the same probes for this session (``options``): a server waiting on a client that is
# cut off mid-transaction ends that session within about 11 s, releasing the row locks it held,
# so the other workers can recover its jobs.
_DEAD_PEER = {"tcp_keepalives_idle": 5, "tcp_keepalives_interval": 2, "tcp_keepalives_count": 3}
PG_CONNECT_DEFAULTS: dict[str, int | str] = {
    "connect_timeout": 10,
    "tcp_user_timeout": 15_000,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "options": " ".join(f"-c {name}={value}" for name, value in _DEAD_PEER.items())
    + " -c tcp_user_timeout=15000",
}
NOTIFY_CHANNEL = "agents"  # PostgreSQL: every write transaction notifies it at commit
SUPPORTED = "SQLite (sqlite:///PATH) or PostgreSQL (postgresql+psycopg://USER@HOST/DB)"
WAL_SWITCH_RETRY_S = 0.01
BUSY_WAIT_S = 60.0  # how long a VACUUM waits for the writers before it (SQLite)
POOL_SIZE = 8  # a worker holds its loop, heartbeat and detector connections; the CLI one more


def _use_wal(cursor: Any, timeout_s: float) -> None:
    """Switch the database to WAL unless it already is (the mode is stored in the file).

    The switch needs an exclusive lock, and SQLite answers "database is locked" at once, without
    the busy handler, while another connection is writing (say, a second process creating the
    schema of a fresh database). So look first, and retry the switch until the busy timeout.
    """
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
        return
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(WAL_SWITCH_RETRY_S)  # a short back-off; the open waits for it anyway


def _install_sqlite_policy(engine: Engine, sqlite: SQLiteSettings) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from pysqlite: it would otherwise BEGIN lazily (DEFERRED)
        # before DML only, which breaks BEGIN IMMEDIATE and transactional DDL.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # First of all, so that every later statement (the journal_mode switch included)
            # queues on the lock instead of failing at once with "database is locked" while
            # another process creates or migrates the database.
            cursor.execute(f"PRAGMA busy_timeout={int(sqlite.busy_timeout_ms)}")
            # WAL: readers never block the writer and the writer never blocks readers; the
            # worker's idle polling must not stall a CLI enqueue.
            _use_wal(cursor, sqlite.busy_timeout_ms / 1000)
            # NORMAL under WAL survives a process crash (kill -9) but may lose the last commits
            # on power loss; FULL also survives power loss at roughly a third of the commit rate.
            cursor.execute(f"PRAGMA synchronous={sqlite.synchronous.upper()}")
            # No foreign keys yet between our tables, but the ones added later must hold.
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # On the driver's connection: the same statement, without SQLAlchemy's per-statement
        # work (a third of a one-job enqueue); its errors are mapped like every other driver
        # error (Database._mapped).
        begin = "BEGIN IMMEDIATE" if conn.get_execution_options().get(IMMEDIATE) else "BEGIN"
        conn.connection.driver_connection.execute(begin)  # type: ignore[union-attr]


class Database:
    """An engine with the project's policy, and the transactions the repositories use."""

    def __init__(self, url: str, sqlite: SQLiteSettings | None = None) -> None:
        self.url = url
        self.safe_url = redact_url(url)
        try:
            parsed = make_url(url)
        except exc.ArgumentError:
            raise DatabaseUnavailableError(
                f"cannot open database: {self.safe_url!r} is not a database URL"
            ) from None
        self.dialect = parsed.get_backend_name()
        self.path: Path | None = None
        if self.dialect == "postgresql":
            self._open_postgresql(url, parsed)
            return
        if self.dialect != "sqlite":
            raise DatabaseUnavailableError(
                f"cannot open database {self.safe_url}: agents supports {SUPPORTED}"
            )
        database = parsed.database or ""
        if not database or database == ":memory:":
            raise DatabaseUnavailableError(
                "cannot open database: an in-memory SQLite database cannot be shared by "
                "workers; give a file path"
            )
        self.path = Path(database)
        self.engine = create_engine(url, pool_size=POOL_SIZE, max_overflow=16)
        self.writer = self.engine.execution_options(**{IMMEDIATE: True})
        _install_sqlite_policy(self.engine, sqlite or SQLiteSettings())
        self._set_failures()

    def _set_failures(self) -> None:
        # What the database (or its driver, on the hot path's raw cursors) reports about itself:
        # locked, gone, damaged, full, a table missing. IntegrityError is not among them: the
        # repositories that expect a constraint to fail catch it themselves.
        dbapi: Any = self.engine.dialect.loaded_dbapi
        self.failures: tuple[type[BaseException], ...] = (exc.DBAPIError, dbapi.Error)
        self._integrity = (exc.IntegrityError, dbapi.IntegrityError)

    def failure(self, error: BaseException) -> StoreError:
        """The one-line :class:`StoreError` for a driver or SQLAlchemy error of this database."""
        return store_error(error, self.safe_url, self.path)

    @contextmanager
    def _mapped(self) -> Iterator[None]:
        """Every database failure inside becomes its one-line :class:`StoreError`."""
        try:
            yield
        except self.failures as error:
            if isinstance(error, self._integrity):
                raise
            raise self.failure(error) from error

    def _open_postgresql(self, url: str, parsed: URL) -> None:
        if parsed.get_driver_name() != "psycopg":
            raise DatabaseUnavailableError(
                f"cannot open database {self.safe_url}: PostgreSQL is reached through psycopg 3: "
                "use a postgresql+psycopg:// URL"
            )
        try:
            import psycopg  # noqa: F401 - only to say clearly when the extra is missing
        except ImportError:
            raise DatabaseUnavailableError(
                f"cannot open database {self.safe_url}: PostgreSQL needs psycopg 3: "
                "pip install 'cleveragents[postgres]'"
            ) from None
        # "format" (positional %s): the hot-path statements run on the driver's cursor with
        # positional parameters, as they do on SQLite.
        # A cut network must not hang a worker forever: without these, a statement whose
        # packets vanish waits for TCP's own retransmission timeout (about 15 minutes).
        defaults = {k: v for k, v in PG_CONNECT_DEFAULTS.items() if k not in parsed.query}
        self.engine = create_engine(
            url,
            pool_size=POOL_SIZE,
            max_overflow=16,
            paramstyle="format",
            pool_pre_ping=True,
            connect_args=defaults,
        )
        self.writer = self.engine.execution_options()
        self._set_failures()

    @property
    def notifies(self) -> bool:
        """Whether commits are announced with NOTIFY (PostgreSQL)."""
        return self.dialect == "postgresql"

    def exists(self) -> bool:
        """Whether the database is there already (opening would create an SQLite file; a
        PostgreSQL database is created by its administrator, so it is assumed to be)."""
        return self.path is None or self.path.exists()

    def open(self) -> None:
        """Make sure the database can be reached (and, for SQLite, that the file is one).

        A missing SQLite file is created, atomically and never empty (:func:`_create_sqlite`);
        an existing file of 0 bytes is refused: it was cut short (a crash, a full disk) or never
        was a database, and SQLite would silently take it for a new one (and throw away a
        ``-wal`` file beside it).
        """
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise self._unavailable(
                    error, f"cannot create {self.path.parent}: {error.strerror}"
                ) from None
            self._prepare_sqlite_file(self.path)
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1").close()
        except self.failures as error:
            raise self._unavailable(error, first_line(error)) from None

    def _prepare_sqlite_file(self, path: Path) -> None:
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            try:
                _create_sqlite(path)
            except (OSError, sqlite3.Error) as error:
                raise self._unavailable(error, first_line(error)) from None
            return
        except OSError:
            return  # not ours to judge: SQLite says what is wrong with it
        if size == 0 and path.is_file():
            raise DatabaseCorruptError.empty_file(self.safe_url, str(path))

    def _unavailable(self, error: BaseException, text: str) -> StoreError:
        """Why the database cannot be opened: a damaged file or a full disk is the database's
        problem (exit 1); a URL that leads nowhere usable is the caller's (exit 2)."""
        if "not a database" in text and self.path is not None:
            text = "the file is not an SQLite database"  # garbage, or the wrong file named
        elif is_disk_full(error, self.path) or is_corrupt(error):
            return self.failure(error)
        return DatabaseUnavailableError(f"cannot open database {self.safe_url}: {text}")

    @contextmanager
    def write(self, *, notify: bool = True) -> Iterator[Connection]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite); commits on success (with a
        NOTIFY on PostgreSQL, unless ``notify`` is False: the caller then calls
        :meth:`announce` itself when it changed something others wait for)."""
        with self._mapped(), self.writer.begin() as conn:
            yield conn
            if notify:
                self.announce(conn)

    def announce(self, conn: Connection) -> None:
        """Tell listeners (PostgreSQL) that this transaction, once committed, changed something."""
        if self.dialect == "postgresql":
            conn.exec_driver_sql(f"NOTIFY {NOTIFY_CHANNEL}")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction."""
        with self._mapped(), self.engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def vacuum(self) -> None:
        """Give the space freed by deletions back: SQLite rewrites the file (it needs as much
        free disk as the file's size, and waits for other writers like any write); PostgreSQL
        runs VACUUM (the space returns to the tables, for their new rows)."""
        with self._mapped():
            if self.path is None:
                with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.exec_driver_sql("VACUUM")
                return
            raw = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_WAIT_S)
            try:
                raw.execute("VACUUM")
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the file itself shrinks now
            finally:
                raw.close()


def _create_sqlite(path: Path) -> None:
    """Create the database file at ``path`` with its header written, or leave the one another
    process created meanwhile: a file agents creates is never seen empty.

    SQLite creates a file of 0 bytes on connect and writes its first page only later; a second
    process opening it in between could not tell it from a database cut to 0 bytes. So the
    first page (WAL mode: the header is all there is) is written to a temporary file beside it,
    which is hard-linked into place: ``link`` never replaces a file that is already there.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.new")
    try:
        connection = sqlite3.connect(temporary, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")  # writes the header: 1 page
        finally:
            connection.close()
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        except OSError:  # pragma: no cover - a file system without hard links (FUSE, SMB)
            if not path.exists():
                os.rename(temporary, path)
    finally:
        for leftover in ("", "-wal", "-shm", "-journal"):
            Path(f"{temporary}{leftover}").unlink(missing_ok=True)
