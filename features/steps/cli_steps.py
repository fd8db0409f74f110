"""Steps that drive the real CLI in-process through typer's CliRunner."""

from __future__ import annotations

import json
import re
import shlex
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from behave import given, then, when
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from cleveragents.cli.app import app

REPOSITORY = str(Path(__file__).resolve().parents[2])
FIXTURES = str(Path(REPOSITORY) / "features" / "fixtures")  # the fake agent and others


def newest_plan_id(context: Any) -> str | None:
    """The id of the plan created last in the scenario's database, if any."""
    if not context.db_url.startswith("sqlite:///"):
        return _newest_plan_id_sqlalchemy(context)
    path = context.db_url.removeprefix("sqlite:///")
    try:
        with closing(sqlite3.connect(path)) as raw:
            row = raw.execute("SELECT id FROM plans ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def _newest_plan_id_sqlalchemy(context: Any) -> str | None:
    """The same, on a server database (one engine per scenario)."""
    from sqlalchemy import create_engine, exc, text

    if not hasattr(context, "lookup_engine"):
        context.lookup_engine = create_engine(context.db_url, poolclass=NullPool)
    try:
        with context.lookup_engine.connect() as conn:
            plan_id = conn.execute(text("SELECT id FROM plans ORDER BY id DESC LIMIT 1")).scalar()
    except exc.DBAPIError:
        return None
    return str(plan_id) if plan_id else None


def fill(context: Any, text: str) -> str:
    """Replace [label] with the id of that job, [tmp] with the scenario's directory, and [plan]
    (unless a label says otherwise) with the newest plan's id."""
    names = {
        **getattr(context, "ids", {}),
        "tmp": str(context.tmp),
        "fixtures": FIXTURES,
        "repository": REPOSITORY,
    }
    if "[plan]" in text and "plan" not in names:
        names["plan"] = newest_plan_id(context) or "no-plan-yet"
    if "[leaf " in text:  # [leaf LABEL]: the id of the newest plan's leaf with that label
        from plan_helpers import plan_store  # it imports this module

        found = plan_store(context).subplans(newest_plan_id(context), leaves_only=True)
        leaf_ids = {leaf.label: leaf.id for leaf in found}
        text = re.sub(r"\[leaf ([^\]]+)\]", lambda m: leaf_ids[m.group(1)], text)
    return re.sub(r"\[(\w+)\]", lambda m: names.get(m.group(1), m.group(0)), text)


def run_cli(context: Any, command: str) -> Any:
    """Run `agents ...` with the scenario's environment; remember the result."""
    args = shlex.split(fill(context, command))
    env = {**context.env, **getattr(context, "extra_env", {})}
    result = CliRunner().invoke(app, args, env=env, catch_exceptions=False)
    context.result = result
    return result


@given('the environment variable {name} is "{value}"')
def step_env(context: Any, name: str, value: str) -> None:
    context.extra_env = {**getattr(context, "extra_env", {}), name: fill(context, value)}


@given("the environment variable {name} is unset")
def step_env_unset(context: Any, name: str) -> None:
    context.env.pop(name, None)
    context.extra_env = {**getattr(context, "extra_env", {}), name: None}


@given("I ran `{command}`")
@when("I run `{command}`")
def step_run(context: Any, command: str) -> None:
    run_cli(context, command)


@given('I ran `{command}` and call the job "{label}"')
@when('I run `{command}` and call the job "{label}"')
def step_run_label(context: Any, command: str, label: str) -> None:
    result = run_cli(context, command)
    assert result.exit_code == 0, result.stderr
    context.ids = {**getattr(context, "ids", {}), label: result.stdout.strip()}


@then("the exit code is {code:d}")
def step_exit(context: Any, code: int) -> None:
    result = context.result
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)


@then('stdout contains "{text}"')
def step_stdout(context: Any, text: str) -> None:
    expected = fill(context, text)
    assert expected in context.result.stdout, context.result.stdout


@then('stdout does not contain "{text}"')
def step_stdout_not(context: Any, text: str) -> None:
    assert text not in context.result.stdout, context.result.stdout


@then("stdout is {n:d} lines")
def step_stdout_lines(context: Any, n: int) -> None:
    lines = context.result.stdout.splitlines()
    assert len(lines) == n, lines


@then('stderr is one line containing "{text}"')
def step_stderr_line(context: Any, text: str) -> None:
    stderr = context.result.stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert fill(context, text) in lines[0], stderr
    assert "Traceback" not in stderr


@then('stderr contains "{text}"')
def step_stderr_contains(context: Any, text: str) -> None:
    assert fill(context, text) in context.result.stderr, context.result.stderr


@then('stderr does not contain "{text}"')
def step_stderr_not(context: Any, text: str) -> None:
    assert text not in context.result.stderr, context.result.stderr


@then("stdout is one JSON document")
def step_json(context: Any) -> None:
    json.loads(context.result.stdout)


def document(context: Any) -> Any:
    """The JSON document the last command printed."""
    return json.loads(context.result.stdout)


@then("the JSON document has the fields {fields}")
def step_json_fields(context: Any, fields: str) -> None:
    doc = document(context)[0] if isinstance(document(context), list) else document(context)
    missing = [f.strip() for f in fields.split(",") if f.strip() not in doc]
    assert not missing, missing


@then('the JSON document has "{field}" equal to {value}')
def step_json_value(context: Any, field: str, value: str) -> None:
    doc = document(context)
    for part in field.split("."):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    assert doc == json.loads(fill(context, value)), doc


@then("the JSON document is a list of {n:d}")
def step_json_list(context: Any, n: int) -> None:
    assert isinstance(document(context), list) and len(document(context)) == n, document(context)


@given("a worker process has claimed the queued jobs")
def step_claimed_by_other(context: Any) -> None:
    from helpers import open_db

    from cleveragents.domain.clock import utcnow
    from cleveragents.store.jobs import JobStore
    from cleveragents.store.workers import WorkerStore

    db = open_db(context)
    now = utcnow()
    WorkerStore(db).register("elsewhere-1", "elsewhere", 1, 1, now)
    jobs, _ = JobStore(db).claim("elsewhere-1", now, 100)
    assert jobs, "nothing was queued"
    context.other_db = db


@when("the worker's heartbeat is older than {seconds:d} second")
def step_age_heartbeat(context: Any, seconds: int) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from cleveragents.domain.clock import utcnow
    from cleveragents.store.tables import async_jobs, workers

    old = utcnow() - timedelta(seconds=seconds)
    with context.other_db.write() as conn:
        conn.execute(update(workers).values(last_heartbeat=old))
        conn.execute(update(async_jobs).values(last_heartbeat=old))


@given("the heartbeat of workers is broken")
def step_break_all_heartbeats(context: Any) -> None:
    from cleveragents.worker.upkeep import Upkeep

    original = Upkeep.beat

    def broken(self: Upkeep, now: Any = None) -> None:
        raise RuntimeError("heartbeat broke")

    Upkeep.beat = broken  # type: ignore[method-assign]
    context.cleanups.append(lambda: setattr(Upkeep, "beat", original))


@then("the line of [{label}] in stdout ends with a time")
def step_line_time(context: Any, label: str) -> None:
    wanted = fill(context, f"[{label}]")
    row = next(text for text in context.result.stdout.splitlines() if text.startswith(wanted))
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", row), row


@then('the column "{column}" of [{label}] in stdout is "{value}"')
def step_column(context: Any, column: str, label: str, value: str) -> None:
    """A plain (tab-separated) listing: the header names the columns of every row."""
    rows = [line.split("\t") for line in context.result.stdout.splitlines() if line]
    header, job_id = rows[0], fill(context, f"[{label}]")
    found = [row for row in rows[1:] if row[0] == job_id]
    assert found and len(found[0]) == len(header), (header, found)
    assert found[0][header.index(column)] == value, dict(zip(header, found[0], strict=True))
