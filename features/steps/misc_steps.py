"""Steps about redaction and the database itself."""

from __future__ import annotations

import threading
from typing import Any

from behave import given, then, when
from helpers import open_db, wait_until

from cleveragents.domain.durations import parse_duration
from cleveragents.domain.redaction import redact
from cleveragents.errors import AgentsError
from cleveragents.store.engine import Database
from cleveragents.store.migrations import (
    HEAD_REVISION,
    current_revision,
    downgrade,
    ensure_schema,
    scripts_head,
)


@then("redacting each text hides the secret and keeps the rest")
def step_redact_table(context: Any) -> None:
    for row in context.table:
        out = redact(row["text"])
        assert row["secret"] not in out, (row["text"], out)
        assert "[REDACTED]" in out, out
        assert row["kept"] in out, (row["kept"], out)


@then("redacting each text changes nothing")
def step_redact_clean(context: Any) -> None:
    for row in context.table:
        assert redact(row["text"]) == row["text"], redact(row["text"])


@given('a file "{name}" containing "{content}"')
def step_file(context: Any, name: str, content: str) -> None:
    (context.tmp / name).write_text(content, encoding="utf-8")


@when('I open the database "{url}"')
def step_open(context: Any, url: str) -> None:
    context.error = None
    try:
        db = Database(url.replace("[tmp]", str(context.tmp)))
        context.cleanups.append(db.dispose)
        db.open()
    except AgentsError as exc:
        context.error = exc


@then('opening fails with "{text}"')
def step_open_fails(context: Any, text: str) -> None:
    assert context.error is not None, "opened without error"
    message = context.error.message.replace(str(context.tmp), "[tmp]")
    assert text in message, message
    assert context.error.exit_code == 2


@when("{n:d} processes' worth of connections migrate a fresh database at once")
def step_concurrent_migrate(context: Any, n: int) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)
    if context.db_url.startswith("sqlite"):  # a server database is fresh for each scenario already
        context.db_url = f"sqlite:///{context.tmp / 'fresh.db'}"

    def migrate() -> None:
        try:
            db = Database(context.db_url)
            context.cleanups.append(db.dispose)
            barrier.wait()
            db.open()
            ensure_schema(db)
            db.dispose()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=migrate) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    context.migrate_errors = errors


@then("every migration succeeded and the schema is at head")
def step_migrated(context: Any) -> None:
    assert not context.migrate_errors, context.migrate_errors
    db = open_db(context)
    assert current_revision(db) == HEAD_REVISION == scripts_head()


@when("the schema is downgraded to base and opened again")
def step_downgrade(context: Any) -> None:
    db = open_db(context)
    downgrade(db, "base")
    assert current_revision(db) is None
    ensure_schema(db)
    context.migrate_errors = []


@then("durations parse as")
def step_durations(context: Any) -> None:
    for row in context.table:
        assert parse_duration(row["text"]) == float(row["seconds"]), row["text"]


@then('registering a second job kind called "{name}" is refused')
def step_duplicate_kind(context: Any, name: str) -> None:
    from cleveragents.worker.kinds import JobKind

    kind = JobKind(name, object, lambda payload, ctx: None, "dup")  # type: ignore[arg-type]
    try:
        context.registry.register(kind)
    except ValueError as exc:
        assert "already registered" in str(exc)
    else:
        raise AssertionError("a duplicate kind was registered")


@then("a token cancelled twice keeps its first reason and calls late callbacks at once")
def step_token_semantics(context: Any) -> None:
    from cleveragents.runtime.tokens import CancellationToken, CancelReason

    token = CancellationToken()
    calls: list[str] = []
    token.on_cancel(lambda: calls.append("early"))
    assert token.cancel(CancelReason.TIMEOUT) is True
    assert token.cancel(CancelReason.CANCELLED) is False
    assert token.reason == CancelReason.TIMEOUT
    token.on_cancel(lambda: calls.append("late"))
    assert calls == ["early", "late"], calls


@then("storing a naive timestamp is refused")
def step_naive(context: Any) -> None:
    from datetime import datetime

    from cleveragents.domain.jobs import NewJob

    try:
        context.store.enqueue(NewJob(kind="noop", payload={}), datetime(2026, 1, 1))
    except Exception as exc:
        assert "naive datetime" in str(exc), exc
    else:
        raise AssertionError("a naive datetime was stored")


@then("enqueueing no jobs in bulk writes nothing")
def step_bulk_empty(context: Any) -> None:
    assert context.queue.enqueue_many([]) == []


@when('the table "{table}" disappears')
def step_drop_table(context: Any, table: str) -> None:
    import sqlite3

    path = context.db_url.removeprefix("sqlite:///")
    raw = sqlite3.connect(path)
    raw.execute(f"DROP TABLE {table}")
    raw.commit()
    raw.close()


@then('reading a job fails with "{text}"')
def step_read_fails(context: Any, text: str) -> None:
    try:
        context.store.get("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    except AgentsError as exc:
        assert text in exc.message, exc.message
    else:
        raise AssertionError("the read succeeded")


@given('the database schema is at revision "{revision}"')
def step_future_revision(context: Any, revision: str) -> None:
    import sqlite3

    raw = sqlite3.connect(context.db_url.removeprefix("sqlite:///"))
    raw.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    raw.commit()
    raw.close()


@given('a directory "{name}" with {count:d} files')
def step_directory(context: Any, name: str, count: int) -> None:
    folder = context.tmp / name
    folder.mkdir()
    for n in range(count):
        (folder / f"file{n}.txt").write_text(f"line {n}\n", encoding="utf-8")


@then('the directory "{name}" still has {count:d} files')
def step_directory_kept(context: Any, name: str, count: int) -> None:
    assert len(list((context.tmp / name).iterdir())) == count


@given("another process is writing to a new database file for a moment")
def step_writer_holds_lock(context: Any) -> None:
    import sqlite3

    path = context.tmp / "contended.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE other_tool (x)")
    # A write transaction in the default rollback-journal mode: switching the file to WAL now
    # gets "database is locked" at once, whatever the busy timeout says.
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO other_tool VALUES (1)")
    release = threading.Timer(0.3, holder.execute, ("COMMIT",))
    release.start()
    context.cleanups.append(lambda: (release.join(), holder.close()))
    context.db_url = f"sqlite:///{path}"


@when("agents opens and migrates that database")
def step_open_contended(context: Any) -> None:
    context.error = None
    try:
        open_db(context)
    except AgentsError as exc:
        context.error = exc


@then("it waited for the lock instead of failing")
def step_waited_for_lock(context: Any) -> None:
    assert context.error is None, context.error.message
    assert current_revision(open_db(context)) == HEAD_REVISION


@given("a change detector listening on the database")
def step_detector(context: Any) -> None:
    from cleveragents.store.changes_feed import ChangeDetector

    context.detector = ChangeDetector(open_db(context))
    context.cleanups.append(context.detector.close)


@then("the detector has seen nothing")
def step_detector_quiet(context: Any) -> None:
    assert not context.detector.changed()


@when("another connection enqueues a job")
def step_other_enqueue(context: Any) -> None:
    from cleveragents.worker.queue import JobQueue

    JobQueue(open_db(context)).enqueue("noop", {})


@then("the detector sees a change within the deadline")
def step_detector_saw(context: Any) -> None:
    wait_until(context.detector.changed, "the detector to see the commit")
