"""Steps for `agents diagnostics`: JSON checks, JUnit XML parsed back, the rows they look at."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from contextlib import closing
from datetime import timedelta
from typing import Any

from behave import given, then
from cli_steps import document
from plan_helpers import plan_store

from cleveragents.domain.clock import utcnow
from cleveragents.domain.locks import ResourceType
from cleveragents.store.locks import LockService
from cleveragents.store.projects import ProjectStore


def check(context: Any, name: str) -> dict[str, Any]:
    found = [c for c in document(context)["checks"] if c["name"] == name]
    assert found, [c["name"] for c in document(context)["checks"]]
    result: dict[str, Any] = found[0]
    return result


@then("every check in the JSON document has name, status, message, details and remedy")
def step_check_fields(context: Any) -> None:
    for item in document(context)["checks"]:
        assert set(item) == {"name", "status", "message", "details", "remedy"}, item
        assert item["status"] in ("ok", "warn", "fail")
        assert (item["remedy"] is None) == (item["status"] == "ok"), item


@then('the check "{name}" is "{status}" with remedy "{remedy}"')
def step_check_remedy(context: Any, name: str, status: str, remedy: str) -> None:
    item = check(context, name)
    assert item["status"] == status and remedy in (item["remedy"] or ""), item


@then('the check "{name}" is "{status}"')
def step_check_status(context: Any, name: str, status: str) -> None:
    item = check(context, name)
    assert item["status"] == status, item


@then("the probe reported its latency")
def step_probe_latency(context: Any) -> None:
    details = check(context, "probe")["details"]
    assert details["latency_ms"] >= 0 and details["worker_id"], details


def junit(text: str, cases: int, failures: int) -> ET.Element:
    root = ET.fromstring(text)
    suite = root.find("testsuite")
    assert suite is not None
    found = suite.findall("testcase")
    assert len(found) == cases == int(suite.get("tests", "-1")), len(found)
    failed = [case for case in found if case.find("failure") is not None]
    assert len(failed) == failures == int(suite.get("failures", "-1")), len(failed)
    return suite


@then("stdout is JUnit XML with {cases:d} testcases and {failures:d} failures")
def step_junit_stdout(context: Any, cases: int, failures: int) -> None:
    junit(context.result.stdout, cases, failures)


@then('the file "{name}" is JUnit XML with {cases:d} testcases and {failures:d} failures')
def step_junit_file(context: Any, name: str, cases: int, failures: int) -> None:
    context.junit = junit((context.tmp / name).read_text(encoding="utf-8"), cases, failures)


@then('the JUnit case "{name}" passed with "{text}" in its output')
def step_junit_case(context: Any, name: str, text: str) -> None:
    case = next(c for c in context.junit.findall("testcase") if c.get("name") == name)
    assert case.find("failure") is None
    out = case.find("system-out")
    assert out is not None and text in (out.text or "")


@given('an expired lock on project "{name}"')
def step_expired_lock(context: Any, name: str) -> None:
    db = plan_store(context).db
    project = ProjectStore(db).get(name)
    LockService(db).acquire(
        ResourceType.PROJECT, project.id, "elsewhere:1:x", 60, utcnow() - timedelta(hours=1)
    )


@given("the running job started an hour ago")
def step_job_old(context: Any) -> None:
    started = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with closing(sqlite3.connect(context.db_url.removeprefix("sqlite:///"))) as raw:
        raw.execute("UPDATE async_jobs SET started_at = ? WHERE status = 'running'", (started,))
        raw.commit()


@given("the queued job was created an hour ago")
def step_queued_old(context: Any) -> None:
    created = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with closing(sqlite3.connect(context.db_url.removeprefix("sqlite:///"))) as raw:
        raw.execute("UPDATE async_jobs SET created_at = ? WHERE status = 'queued'", (created,))
        raw.commit()


@then("there is no database file")
def step_no_db(context: Any) -> None:
    assert not (context.tmp / "agents.db").exists()


@given("an empty database file")
def step_empty_db(context: Any) -> None:
    # A database without tables: its header written (a file of 0 bytes is refused as damaged).
    with closing(sqlite3.connect(context.db_url.removeprefix("sqlite:///"))) as raw:
        raw.execute("PRAGMA journal_mode=WAL")
