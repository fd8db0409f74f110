"""Steps for capturing one attempt's output (plans/capture.py) and reading logs back."""

from __future__ import annotations

import json
import tempfile
from typing import Any

from behave import given, then, when
from cli_steps import run_cli
from plan_helpers import plan_store

from cleveragents.domain.clock import utcnow
from cleveragents.domain.ids import new_id
from cleveragents.domain.plans import Plan, Subplan, SubplanState
from cleveragents.domain.profile import resolve_profile
from cleveragents.plans.capture import AttemptLog
from cleveragents.plans.results import read_result_file, result_from_output
from cleveragents.store.logs import LogChunk, LogStore
from cleveragents.store.plans import SubplanUpdate
from cleveragents.store.projects import ProjectStore


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n")


@given("an attempt log with a cap of {size:d} {unit:w}")
def step_attempt_log(context: Any, size: int, unit: str) -> None:
    cap = size * (1024 * 1024 if unit == "MiB" else 1)
    context.chunks: list[LogChunk] = []
    context.attempt_log = AttemptLog("leaf", 1, context.chunks.append, cap)
    context.output = tempfile.TemporaryFile()
    context.cleanups.append(context.output.close)
    context.attempt_log.attach(context.output)


def _write(context: Any, text: str) -> None:
    context.output.write(text.encode())
    context.output.flush()


@when("the command writes {count:d} characters without a newline and the log is polled")
def step_write_long(context: Any, count: int) -> None:
    _write(context, "x" * count)
    context.attempt_log.poll()


@when('the command writes "{text}" and the log is polled')
def step_write_poll(context: Any, text: str) -> None:
    _write(context, _unescape(text))
    context.attempt_log.poll()


@when('the command writes "{text}" and the command ends')
def step_write_end(context: Any, text: str) -> None:
    _write(context, _unescape(text))
    context.attempt_log.detach()


@when("a built-in's output of {count:d} characters is written and the attempt ends")
def step_builtin_output(context: Any, count: int) -> None:
    context.attempt_log.detach()  # no command: the built-in runs in this process
    context.attempt_log.write("y" * count)
    context.attempt_log.close()


@then("{n:d} chunk of {size:d} characters was passed on")
def step_one_chunk(context: Any, n: int, size: int) -> None:
    assert [len(chunk.text) for chunk in context.chunks] == [size] * n


@then("the chunks passed on are {texts}")
def step_chunks_are(context: Any, texts: str) -> None:
    wanted = [_unescape(part.strip().strip('"')) for part in texts.split('", "')]
    assert [chunk.text for chunk in context.chunks] == wanted, context.chunks


@then('the chunks passed on do not contain "{text}"')
def step_chunks_clean(context: Any, text: str) -> None:
    assert all(text not in chunk.text for chunk in context.chunks), context.chunks


@then('the chunks passed on joined are "{text}"')
def step_chunks_joined(context: Any, text: str) -> None:
    assert "".join(chunk.text for chunk in context.chunks) == _unescape(text), context.chunks


@then('the chunks passed on joined are {count:d} characters then "{marker}"')
def step_chunks_cut(context: Any, count: int, marker: str) -> None:
    joined = "".join(chunk.text for chunk in context.chunks)
    assert joined == "y" * count + _unescape(marker), joined[-200:]


@given(
    "a stored plan with one leaf whose attempt 1 has {first:d} chunks and attempt 2 has {second:d}"
)
def step_stored_logs(context: Any, first: int, second: int) -> None:
    (context.tmp / "repo").mkdir()
    (context.tmp / "repo" / "a.txt").write_text("a\n", encoding="utf-8")
    run_cli(context, "project add [tmp]/repo")
    store = plan_store(context)
    project = ProjectStore(store.db).get("repo")
    plan_id, leaf_id = new_id(), new_id()
    leaf = Subplan(
        id=leaf_id,
        plan_id=plan_id,
        parent_id=None,
        depth=0,
        position=0,
        label=".",
        is_leaf=True,
        files=["a.txt"],
        file_count=1,
    )
    plan = Plan(
        id=plan_id,
        project_id=project.id,
        action_name="noop",
        action={"name": "noop", "builtin": "noop"},
        profile=resolve_profile([]),
        created_at=utcnow(),
    )
    store.create(plan, [leaf])
    chunks = [LogChunk(leaf_id, 1, f"first {n}\n") for n in range(first)]
    chunks += [LogChunk(leaf_id, 2, f"{n % 10}") for n in range(second)]
    update = SubplanUpdate(leaf_id, SubplanState.RUNNING, utcnow(), 2, {})
    store.record(plan_id, [update], chunks)
    context.log_plan = plan_id


@then("reading its logs gives the {n:d} chunks of attempt 2 in order")
def step_read_latest(context: Any, n: int) -> None:
    got = list(LogStore(plan_store(context).db).chunks(context.log_plan, latest=True))
    assert [chunk.text for chunk in got] == [f"{k % 10}" for k in range(n)]
    assert {chunk.attempt for chunk in got} == {2}


@then("reading attempt 1 gives its {n:d} chunks in order")
def step_read_first(context: Any, n: int) -> None:
    got = list(LogStore(plan_store(context).db).chunks(context.log_plan, attempt=1))
    assert [chunk.text for chunk in got] == [f"first {k}\n" for k in range(n)]


@then("the plan's latest output is {n:d} characters")
def step_latest_size(context: Any, n: int) -> None:
    assert LogStore(plan_store(context).db).size(context.log_plan) == n


@then("the JSON document's totals are {totals}")
def step_json_totals(context: Any, totals: str) -> None:
    got = json.loads(context.result.stdout)["totals"]
    want = json.loads(totals)
    assert set(got) == set(want), got
    for key, value in want.items():
        assert abs(got[key] - value) < 1e-9, (key, got[key], value)


@then('the JSON document\'s subplan of "{path}" has a result whose summary is "{summary}"')
def step_json_result_summary(context: Any, path: str, summary: str) -> None:
    nodes = json.loads(context.result.stdout)["subplans"]
    (node,) = [n for n in nodes if n["files"] and path in n["files"]]
    assert node["result"]["summary"] == summary, node


@then("the JSON document's only leaf has the result {result}")
def step_json_only_result(context: Any, result: str) -> None:
    (node,) = [n for n in json.loads(context.result.stdout)["subplans"] if n["files"]]
    assert node["result"] == json.loads(result), node


@then("the plan's events show a result of cost {cost:g} for attempts 1 and 2")
def step_events_cost(context: Any, cost: float) -> None:
    store = plan_store(context)
    plan_id = store.find(limit=1)[0].id
    events = [e for e in store.events(plan_id) if "result" in e.data]
    assert [(e.data["attempt"], e.data["result"]["cost_usd"]) for e in events] == [
        (1, cost),
        (2, cost),
    ], events


@then('the output "{output}" gives {verdict}')
def step_printed_result(context: Any, output: str, verdict: str) -> None:
    paths = {"input_tokens": "usage.input_tokens"}
    found = result_from_output(output.replace("\\n", "\n"), paths)
    if verdict == "no result":
        assert found is None, found
    elif verdict == "an invalid result":
        assert found is not None and found.error is not None, found
    elif verdict.startswith("a result costing"):
        assert found is not None and found.totals["cost_usd"] == float(verdict.split()[-1])
    else:
        assert found is not None and found.data["api_key"] == ["[REDACTED]"], found


@then("a result of {size:d} bytes with cost {cost:d} keeps {kept}")
def step_big_result(context: Any, size: int, cost: int, kept: str) -> None:
    text = json.dumps({"cost_usd": cost, "text": "x" * size})
    found = result_from_output(text, {})
    assert found is not None and found.data == json.loads(kept), found


@then('a result file that is a directory gives "{text}"')
def step_result_dir(context: Any, text: str) -> None:
    folder = context.tmp / "result-dir"
    folder.mkdir()
    found = read_result_file(str(folder), {})
    assert found is not None and text in (found.error or ""), found
