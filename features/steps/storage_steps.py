"""Steps about what the database keeps: stored file contents, plan ages, the file's size."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from behave import given, then, when
from cli_steps import run_cli
from helpers import execute_sql

SHOUT = """\
[action]
name = "shout"
command = [
    "sh", "-c", 'for f in "$@"; do tr a-z A-Z < "$f" > "$f.new" && mv "$f.new" "$f"; done',
    "sh", "{files}",
]
"""


@given('an action file "{name}" that upper-cases every file')
def step(context: Any, name: str) -> None:
    (context.tmp / name).write_text(SHOUT, encoding="utf-8")


@given('I ran `{command}` and call the plan "{label}"')
def step(context: Any, command: str, label: str) -> None:
    result = run_cli(context, f"{command} --json" if "--json" not in command else command)
    assert result.exit_code == 0, result.stderr
    first = json.loads(result.stdout.splitlines()[0] if "plan run" in command else result.stdout)
    context.ids = {**getattr(context, "ids", {}), label: first.get("plan_id") or first["id"]}


@given('a directory "{name}" with {count:d} files of {size:d} bytes')
def step(context: Any, name: str, count: int, size: int) -> None:
    folder = context.tmp / name
    folder.mkdir()
    for n in range(count):
        (folder / f"file{n}.txt").write_text(os.urandom(size // 2).hex(), encoding="utf-8")


@then("the database holds {count:d} stored file contents")
def step(context: Any, count: int) -> None:
    [(stored,)] = execute_sql(context, "SELECT count(*) FROM blobs")
    assert stored == count, stored


@then("once the collection's grace has passed, the database holds {count:d} stored file contents")
def step(context: Any, count: int) -> None:
    document = json.loads(context.result.stdout)
    if context.db_url.startswith("sqlite"):  # one writer at a time: collected at once
        assert document["contents_freed"] > 0, document
    else:  # PostgreSQL keeps what was used in the last PG_GRACE_S, then a collection frees it
        from cleveragents.store.blobs import PG_GRACE_S

        assert document["contents_freed"] == 0, document
        older = datetime.now(UTC) - timedelta(seconds=PG_GRACE_S + 1)
        execute_sql(context, "UPDATE blobs SET used_at = :t", {"t": older})
        assert run_cli(context, "plan prune --older-than 3650d").exit_code == 0
    [(stored,)] = execute_sql(context, "SELECT count(*) FROM blobs")
    assert stored == count, stored


@then("stdout is the diff of every file upper-cased")
def step(context: Any) -> None:
    out = context.result.stdout
    for n in range(6):
        assert f"-line {n}\n+LINE {n}\n" in out, out


@given('plan "{label}" finished {hours:d} hours ago')
def step(context: Any, label: str, hours: int) -> None:
    from sqlalchemy import update

    from cleveragents.store.tables import plans

    execute_sql(context, "SELECT 1")  # opens the scenario's engine (context.sql_engine)
    earlier = datetime.now(UTC) - timedelta(hours=hours)
    plan_id = context.ids[label]
    with context.sql_engine.begin() as conn:
        conn.execute(update(plans).where(plans.c.id == plan_id).values(finished_at=earlier))


@then("the database file shrank by more than {count:d} bytes")
def step(context: Any, count: int) -> None:
    document = json.loads(context.result.stdout)
    if document["bytes_before"] is None:  # PostgreSQL: VACUUM returns space to the tables
        return
    shrank = document["bytes_before"] - document["bytes_after"]
    assert shrank > count, document
    assert Path(context.db_url.removeprefix("sqlite:///")).stat().st_size == document["bytes_after"]


@when("the schema goes down to revision {revision} and up to head again")
def step(context: Any, revision: str) -> None:
    from plan_helpers import plan_store

    from cleveragents.store.migrations import downgrade, upgrade

    db = plan_store(context).db
    downgrade(db, revision)
    [(kept,)] = execute_sql(context, "SELECT count(*) FROM changes WHERE new_content IS NOT NULL")
    assert kept == 6, kept  # the contents are back in the changes rows
    upgrade(db)


@given('I ran `{command}` and keep its JSON as "{label}"')
def step(context: Any, command: str, label: str) -> None:
    result = run_cli(context, command)
    assert result.exit_code == 0, result.stderr
    context.ids = {**getattr(context, "ids", {}), label: json.loads(result.stdout)["id"]}


@then('inserting another queued job with the unique key "{key}" straight into the table fails')
def step(context: Any, key: str) -> None:
    from sqlalchemy import exc

    sql = (
        "INSERT INTO async_jobs (id, kind, status, priority, payload_json, attempts,"
        " max_attempts, run_after, cancel_requested, created_at, unique_key)"
        " VALUES ('01ZZZZZZZZZZZZZZZZZZZZZZZZ', 'noop', 'queued', 0, '{}', 0, 3,"
        " '2026-01-01 00:00:00.000000', false, '2026-01-01 00:00:00.000000', :k)"
    )
    try:
        execute_sql(context, sql, {"k": key})
    except exc.IntegrityError:
        return
    raise AssertionError("the database took a second live job with the same unique key")


@given('plan "{label}" is in phase "{phase}"')
def step(context: Any, label: str, phase: str) -> None:
    execute_sql(
        context,
        "UPDATE plans SET phase = :ph WHERE id = :p",
        {"ph": phase, "p": context.ids[label]},
    )
