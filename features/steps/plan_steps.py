"""Steps for what plan runs leave behind: leaf states, phases, events, outputs and processes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from behave import then
from helpers import wait_until
from plan_helpers import leaves, plan_store, the_plan_id

from cleveragents.domain.plans import EventKind, SubplanState


@then("the plan's leaves are {a:d} {state_a} and {b:d} {state_b}")
def step_leaf_counts(context: Any, a: int, state_a: str, b: int, state_b: str) -> None:
    counts = plan_store(context).counts(the_plan_id(context))
    assert (getattr(counts, state_a), getattr(counts, state_b)) == (a, b), counts


@then('the plan\'s phase is "{phase}"')
def step_phase(context: Any, phase: str) -> None:
    assert plan_store(context).get(the_plan_id(context)).phase.value == phase


@then("no process of the plan is left running")
def step_no_process(context: Any) -> None:
    pids = [int(p) for p in (context.tmp / "pids").read_text().split()]
    assert pids, "the commands never started"

    def gone() -> bool:
        for pid in pids:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                continue
            return False
        return True

    wait_until(gone, "the commands' process groups to end")


@then("the last run started {count:d} {noun}")
def step_last_run(context: Any, count: int, noun: str) -> None:
    events = plan_store(context).events(the_plan_id(context))
    starts = [e.id for e in events if e.kind is EventKind.PLAN and e.state == "executing"]
    last = [e for e in events if e.id > starts[-1]]
    running = [e for e in last if e.kind is EventKind.SUBPLAN and e.state == "running"]
    assert len(running) == count, [(e.subplan_id, e.state) for e in last]


@then("every line of stdout is a JSON event with plan_id, subplan_id, at, kind and state")
def step_json_lines(context: Any) -> None:
    lines = context.result.stdout.strip().splitlines()
    assert lines
    for text in lines:
        event = json.loads(text)
        assert {"plan_id", "subplan_id", "at", "kind", "state"} <= set(event), event


@then("the plan has {count:d} subplan events and its phases went {phases}")
def step_events(context: Any, count: int, phases: str) -> None:
    events = plan_store(context).events(the_plan_id(context))
    subplan_events = [e for e in events if e.kind is EventKind.SUBPLAN]
    assert len(subplan_events) == count, len(subplan_events)
    went = [e.state for e in events if e.kind is EventKind.PLAN]
    assert went == [p.strip() for p in phases.split(",")], went
    ids = [e.id for e in events]
    assert ids == sorted(ids)


@then("every leaf's output names the plan, the project root and {files:d} files, {where}")
def step_env_output(context: Any, files: int, where: str) -> None:
    plan_id = the_plan_id(context)
    root = str((context.tmp / "repo").resolve())
    for leaf in leaves(context):
        tail = leaf.output_tail or ""
        assert f"plan={plan_id} sub={leaf.id} root={root} workspace=" in tail, tail
        workspace = tail.split("workspace=", 1)[1].split(" ", 1)[0]
        assert f" cwd={workspace} " in tail, tail
        assert f"files={files} args={files}" in tail.replace("files=  ", "files="), tail
        assert "missing" not in tail, tail  # every path given is a file where the command runs
        if where in ("in the project itself", "at the project's own path"):
            assert workspace == root, tail  # in place, or the project seen through an overlay
        else:  # in a sandbox of its own, removed afterwards
            assert workspace != root and f"agents-plan-{plan_id}-" in workspace, tail
            assert not Path(workspace).exists(), workspace


@then('every leaf failed with "{text}"')
def step_every_failed(context: Any, text: str) -> None:
    for leaf in leaves(context):
        assert leaf.state is SubplanState.FAILED and text in (leaf.error_message or ""), leaf


@then('a leaf failed with "{text}"')
def step_a_failed(context: Any, text: str) -> None:
    assert any(text in (leaf.error_message or "") for leaf in leaves(context)), [
        leaf.error_message for leaf in leaves(context)
    ]


@then("every leaf completed on attempt {attempt:d}")
def step_attempts(context: Any, attempt: int) -> None:
    for leaf in leaves(context):
        assert leaf.state is SubplanState.COMPLETED and leaf.attempts == attempt, leaf


@then('{count:d} leaves went back to pending because the plan "{reason}"')
def step_reset_events(context: Any, count: int, reason: str) -> None:
    events = plan_store(context).events(the_plan_id(context))
    reset = [e for e in events if e.state == "pending" and e.data.get("reason") == reason]
    assert len(reset) == count, [(e.state, e.data) for e in events]


@then("every leaf of the plan holds at most {count:d} files")
def step_leaf_size(context: Any, count: int) -> None:
    sizes = [leaf.file_count for leaf in leaves(context)]
    assert sizes and max(sizes) <= count and sum(sizes) == 60, sizes


@then('the plan\'s error says "{text}"')
def step_plan_error(context: Any, text: str) -> None:
    error = plan_store(context).get(the_plan_id(context)).error_message or ""
    assert text in error, error
