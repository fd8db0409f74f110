"""Steps that set plans up: sample projects, markers, action files, and plans left behind by
a dead run or damaged on purpose."""

from __future__ import annotations

import json
from typing import Any

from behave import given, when
from cli_steps import run_cli
from helpers import execute_sql
from plan_helpers import MARKER, plan_store, the_plan_id, write_action

from cleveragents.domain.clock import utcnow
from cleveragents.domain.owners import this_host
from cleveragents.domain.plans import SubplanState
from cleveragents.store.plans import SubplanUpdate


@given('a sample project "{name}" of {dirs:d} directories with {per:d} files each')
def step_sample_project(context: Any, name: str, dirs: int, per: int) -> None:
    for d in range(dirs):
        folder = context.tmp / name / f"d{d}"
        folder.mkdir(parents=True)
        for f in range(per):
            (folder / f"f{f}.txt").write_text(f"line one\nline two {d}/{f}\n", encoding="utf-8")


@given('the file "{path}" contains the marker')
def step_marker(context: Any, path: str) -> None:
    target = context.tmp / path
    target.write_text(target.read_text(encoding="utf-8") + f"{MARKER}\n", encoding="utf-8")


@when('the marker is removed from "{path}"')
def step_unmark(context: Any, path: str) -> None:
    target = context.tmp / path
    target.write_text(target.read_text(encoding="utf-8").replace(MARKER, ""), encoding="utf-8")
    context.events_before = max(e.id for e in plan_store(context).events(the_plan_id(context)))


@given('an action file "{name}" with command {argv}')
def step_action_command(context: Any, name: str, argv: str) -> None:
    write_action(context, name, json.loads(argv))


@given('an action file "{name}" whose command fails on the marker and otherwise sleeps 60 s')
def step_action_hang(context: Any, name: str) -> None:
    script = (
        f'echo $$ >> "{context.tmp}/pids"; '
        f'if grep -q {MARKER} "$@"; then exit 3; fi; sleep 60 & wait'
    )
    write_action(context, name, ["sh", "-c", script, "sh", "{files}"])


@given(
    'a "{isolation}" action file "{name}" whose command prints its environment and counts its files'
)
def step_action_env(context: Any, isolation: str, name: str) -> None:
    script = (
        'echo "plan=$AGENTS_PLAN_ID sub=$AGENTS_SUBPLAN_ID root=$AGENTS_PROJECT_ROOT '
        'workspace=$AGENTS_WORKSPACE cwd=$(pwd) files=$(wc -l < "$AGENTS_FILES_FILE") args=$#"; '
        'for f in "$@"; do test -f "$f" || echo "missing $f"; done'
    )
    write_action(
        context, name, ["sh", "-c", script, "sh", "{files}"], f'isolation = "{isolation}"\n'
    )


@given('an action file "{name}" whose command fails the first time for each leaf')
def step_action_flaky(context: Any, name: str) -> None:
    script = (
        f'mark="{context.tmp}/seen-$AGENTS_SUBPLAN_ID"; '
        'if [ -e "$mark" ]; then exit 0; fi; touch "$mark"; echo first try fails; exit 1'
    )
    write_action(context, name, ["sh", "-c", script])


@given('an action file "{name}" for the builtin sleep of {seconds:d} seconds')
def step_action_nap(context: Any, name: str, seconds: int) -> None:
    (context.tmp / name).write_text(
        f'[action]\nname = "nap"\nbuiltin = "sleep"\n[action.params]\nseconds = {seconds}\n',
        encoding="utf-8",
    )


@given('an action file "{name}" with a token budget of {tokens:d} tokens per subplan')
def step_action_budget(context: Any, name: str, tokens: int) -> None:
    (context.tmp / name).write_text(
        '[action]\nname = "budget"\nbuiltin = "noop"\n[action.decompose]\n'
        f"max_tokens_per_subplan = {tokens}\nmin_files_per_subplan = 1\n",
        encoding="utf-8",
    )


@given('an action file "{name}" whose command waits for the file "{flag}"')
def step_action_await(context: Any, name: str, flag: str) -> None:
    script = f'while [ ! -e "{context.tmp}/{flag}" ]; do sleep 0.05; done'
    write_action(context, name, ["sh", "-c", script])


@when('the file "{name}" appears')
def step_file_appears(context: Any, name: str) -> None:
    (context.tmp / name).write_text("", encoding="utf-8")


@given('a plan of project "{project}" with the builtin sleep of {seconds:d} seconds')
def step_sleep_plan(context: Any, project: str, seconds: int) -> None:
    action = context.tmp / "sleepy.toml"
    action.write_text(
        f'[action]\nname = "sleepy"\nbuiltin = "sleep"\n[action.params]\nseconds = {seconds}\n',
        encoding="utf-8",
    )
    result = run_cli(context, f"plan create --project {project} --action {action}")
    assert result.exit_code == 0, result.stderr


@given('a plan of project "{project}" left executing by a dead process with {n:d} leaves running')
def step_dead_run(context: Any, project: str, n: int) -> None:
    result = run_cli(context, f"plan create --project {project} --action builtin:count-lines")
    assert result.exit_code == 0, result.stderr
    store = plan_store(context)
    plan_id = result.stdout.strip()
    # the owner string names this host and a pid that cannot exist: the run is gone
    dead = f"{this_host()}:999999999:dead"
    store.begin_execution(plan_id, dead, utcnow(), discard_changes_of=SubplanState.PENDING)
    now = utcnow()
    store.record(
        plan_id,
        [
            SubplanUpdate(leaf.id, SubplanState.RUNNING, now, 1, {}, started_at=now)
            for leaf in store.subplans(plan_id, leaves_only=True)[:n]
        ],
    )
    assert store.counts(plan_id).running == n


@given("the plan's stored action is damaged")
def step_damage_action(context: Any) -> None:
    execute_sql(context, "UPDATE plans SET action_json = :a", {"a": '{"name": "x", "bogus": 1}'})


@given('the job "{label}" has a cancel request')
def step_job_cancel_flag(context: Any, label: str) -> None:
    execute_sql(
        context,
        "UPDATE async_jobs SET cancel_requested = :yes WHERE id = :id",
        {"yes": True, "id": context.ids[label]},
    )
