"""Steps that damage the database or its connections: junk over its pages, a file of 0 bytes, a
full disk, a change detector's connection cut, a PostgreSQL server dropping its backends."""

from __future__ import annotations

import errno
import logging
import os
import random
import sqlite3
import subprocess
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

from behave import given, then, when
from cli_steps import run_cli
from helpers import execute_sql, make_worker, open_db, wait_until
from sqlalchemy import event
from worker_steps import _Records

from cleveragents.errors import AgentsError, DatabaseFullError
from cleveragents.store.engine import Database
from cleveragents.worker.queue import JobQueue

JUNK_SEED = 13
SMALL_FS_BYTES = 2 * 1024 * 1024


def _cli_db_path(context: Any) -> Path:
    url = context.env["AGENTS_DATABASE_URL"]
    assert url.startswith("sqlite:///"), url
    return Path(url.removeprefix("sqlite:///"))


@given("the CLI database holds {count:d} queued jobs")
def step_cli_jobs(context: Any, count: int) -> None:
    for _ in range(count):
        result = run_cli(context, "jobs enqueue noop")
        assert result.exit_code == 0, result.stderr


def _checkpoint(path: Path) -> None:
    """Everything into the main file, the WAL emptied: what junk overwrites is what is read."""
    with closing(sqlite3.connect(path, isolation_level=None)) as raw:
        busy, _, _ = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0, "a connection still reads the database"


@given("the {pages} of the CLI database are overwritten with junk")
def step_junk(context: Any, pages: str) -> None:
    path = _cli_db_path(context)
    if getattr(context, "db", None) is not None:
        context.db.dispose()  # the background's own connections: none may hold old pages
    _checkpoint(path)
    if pages == "jobs table's pages":
        with closing(sqlite3.connect(path)) as raw:
            page_size = raw.execute("PRAGMA page_size").fetchone()[0]
            (root,) = raw.execute(
                "SELECT rootpage FROM sqlite_master WHERE name = 'async_jobs'"
            ).fetchone()
        start, end = (root - 1) * page_size, root * page_size
    else:
        first, last = (int(word) for word in pages.split() if word.isdigit())
        start, end = first, last
    junk = random.Random(JUNK_SEED).randbytes(end - start)
    with path.open("r+b") as handle:
        handle.seek(start)
        handle.write(junk)


@then('the last line of stderr says "{text}" without a traceback')
def step_last_line(context: Any, text: str) -> None:
    stderr = context.result.stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "stderr is empty"
    assert lines[-1].startswith("error: ") and text in lines[-1], stderr
    assert "Traceback" not in stderr, stderr


@given('an empty file "{name}"')
def step_empty_file(context: Any, name: str) -> None:
    (context.tmp / name).write_bytes(b"")


@then('the file "{name}" is still empty and nothing was made beside it')
def step_still_empty(context: Any, name: str) -> None:
    path = context.tmp / name
    assert path.stat().st_size == 0, path.stat().st_size
    beside = sorted(p.name for p in context.tmp.iterdir() if name in p.name and p.name != name)
    assert not beside, beside


@then('the directory "{directory}" holds only the database "{name}"')
def step_only_database(context: Any, directory: str, name: str) -> None:
    found = {p.name for p in (context.tmp / directory).iterdir()}
    assert name in found, found
    assert found <= {name, f"{name}-wal", f"{name}-shm"}, found
    assert (context.tmp / directory / name).stat().st_size > 0


@given("a database that may not grow")
def step_no_growth(context: Any) -> None:
    db = Database(f"sqlite:///{context.tmp / 'small.db'}")
    context.cleanups.append(db.dispose)
    db.open()
    from cleveragents.store.migrations import ensure_schema

    ensure_schema(db)
    assert db.path is not None
    with closing(sqlite3.connect(db.path)) as raw:
        pages = raw.execute("PRAGMA page_count").fetchone()[0]

    @event.listens_for(db.engine, "connect")
    def _cap(dbapi_connection: Any, _record: Any) -> None:
        # SQLite's own SQLITE_FULL ("database or disk is full"), without filling a disk.
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    db.dispose()  # the connections opened so far have no cap
    context.small_db = db


@when("jobs are enqueued until it is full")
def step_fill(context: Any) -> None:
    queue = JobQueue(context.small_db)
    context.error = None
    for _ in range(1000):
        try:
            queue.enqueue("noop", {})
        except AgentsError as error:
            context.error = error
            return
    raise AssertionError("1000 jobs fitted in a database that may not grow")


@then('the error says "{text}"')
def step_error_says(context: Any, text: str) -> None:
    assert context.error is not None, "no error"
    assert text in context.error.message, context.error.message
    assert isinstance(context.error, DatabaseFullError), type(context.error)


@then("the error's exit code is {code:d}")
def step_error_code(context: Any, code: int) -> None:
    assert context.error.exit_code == code, context.error.exit_code


# -- a full disk: a small tmpfs (needs root and the right to mount) ---------------------------


@given("the CLI database lives on a small file system")
def step_small_fs(context: Any) -> None:
    mount_point = context.tmp / "small-fs"
    mount_point.mkdir()
    if os.geteuid() != 0:
        context.scenario.skip("needs root: it mounts a small tmpfs to fill it")
        return
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL_FS_BYTES}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        reason = mounted.stderr.strip() or f"exit {mounted.returncode}"
        context.scenario.skip(f"cannot mount a tmpfs here ({reason})")
        return
    context.cleanups.append(lambda: subprocess.run(["umount", "-l", str(mount_point)], check=False))
    context.env["AGENTS_DATABASE_URL"] = f"sqlite:///{mount_point / 'agents.db'}"
    context.small_fs = mount_point


@given("that file system is full")
def step_fs_full(context: Any) -> None:
    fd = os.open(context.small_fs / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (65536, 4096, 512, 1):  # down to the last byte
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
    finally:
        os.close(fd)
    assert os.statvfs(context.small_fs).f_bavail == 0


# -- the change detector ------------------------------------------------------------------


@when("the detector's connection is lost")
def step_detector_lost(context: Any) -> None:
    if context.db_url.startswith("sqlite"):
        context.detector._raw.driver_connection.close()  # every next statement fails
    else:
        _terminate(context, "LISTEN%")


@then("the detector reports a change without raising")
def step_detector_reports(context: Any) -> None:
    wait_until(context.detector.changed, "the detector to report the lost connection")


@then("the detector is connected again")
def step_detector_connected(context: Any) -> None:
    detector = context.detector
    wait_until(lambda: detector.changed() is not None and detector.connected, "a reconnect")


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@given("a change detector on a database that cannot be reached yet")
def step_detector_unreachable(context: Any) -> None:
    from cleveragents.store.changes_feed import ChangeDetector

    context.missing_dir = context.tmp / "not-yet"
    db = Database(f"sqlite:///{context.missing_dir / 'agents.db'}")
    context.cleanups.append(db.dispose)
    context.detector_clock = _Clock()
    context.detector = ChangeDetector(db, clock=context.detector_clock)
    context.cleanups.append(context.detector.close)
    assert not context.detector.connected


@then("the detector reports nothing until {seconds:g} seconds pass, then a change")
def step_detector_backoff(context: Any, seconds: float) -> None:
    clock, detector = context.detector_clock, context.detector
    assert not detector.changed(), "reported a change before its back-off"
    clock.now += seconds - 0.001
    assert not detector.changed(), f"tried again before {seconds} s"
    clock.now += 0.002
    assert detector.changed(), f"did not try again after {seconds} s"


@when("the database can be reached")
def step_reachable(context: Any) -> None:
    context.missing_dir.mkdir()


# -- PostgreSQL: the server drops backends under an idle worker -------------------------------


def _terminate(context: Any, pattern: str | None) -> int:
    """Terminate this database's backends (those whose last query is like ``pattern``, or every
    one but the terminating connection's own); how many."""
    sql = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    if pattern is not None:
        sql += " AND query LIKE :pattern"
    rows = execute_sql(context, sql, {"pattern": pattern} if pattern else None)
    return sum(1 for row in rows if row[0])


@given('worker "{name}" runs in the background, listening for changes')
def step_listening_worker(context: Any, name: str) -> None:
    records = _Records()
    logger = logging.getLogger("cleveragents.store")
    logger.addHandler(records)
    context.cleanups.append(lambda: logger.removeHandler(records))
    context.store_logs = records
    # Polling every 30 s: within the steps' deadline only the change feed can wake it.
    worker = make_worker(context, name, max_workers=1, poll_interval=30.0)
    thread = threading.Thread(target=worker.run, name=f"worker-{name}")
    thread.start()
    context.threads = {**getattr(context, "threads", {}), name: thread}
    wait_until(
        lambda: _listeners(context) > 0, "the worker's LISTEN connection to show on the server"
    )


def _listeners(context: Any) -> int:
    rows = execute_sql(
        context,
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    return int(rows[0][0])


@when("the server terminates {which}")
def step_terminate(context: Any, which: str) -> None:
    pattern = {"the LISTEN connection": "LISTEN%", "every other connection": None}[which]
    assert _terminate(context, pattern) > 0, "nothing was terminated"


@then('the background worker "{name}" is still running')
def step_still_running(context: Any, name: str) -> None:
    thread: threading.Thread = context.threads[name]
    assert thread.is_alive(), "the worker's thread ended"
    assert context.workers[name].fatal_error is None, context.workers[name].fatal_error


@then('the change feed logs "{text}"')
def step_feed_logged(context: Any, text: str) -> None:
    wait_until(
        lambda: any(text in m for m in context.store_logs.messages), f"a log line with {text!r}"
    )


@then("the database can still be used")
def step_still_usable(context: Any) -> None:
    JobQueue(open_db(context)).enqueue("noop", {})
