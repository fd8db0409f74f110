"""Steps for plans: sample projects, the dispatcher under a gate, runs, resumes and events."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from behave import given, then, when
from cli_steps import newest_plan_id, run_cli
from helpers import DEADLINE_S, execute_sql, make_worker, open_db, wait_until

from cleveragents.domain.clock import utcnow
from cleveragents.domain.ids import new_id, new_ids
from cleveragents.domain.plans import EventKind, Plan, PlanPhase, Subplan, SubplanState
from cleveragents.domain.profile import FailureMode, resolve_profile
from cleveragents.errors import AgentsError
from cleveragents.plans.dispatcher import ParallelSubplanDispatcher
from cleveragents.plans.executor import PlanExecutor, PlanRunReport
from cleveragents.plans.journal import PlanJournal
from cleveragents.plans.runner import LeafResult
from cleveragents.plans.tracker import SubplanTracker
from cleveragents.runtime.deadlines import Deadlines
from cleveragents.runtime.tokens import CancellationToken, CancelReason
from cleveragents.store.plans import PlanStore, SubplanUpdate
from cleveragents.store.projects import ProjectStore
from cleveragents.worker.builtin_kinds import default_registry

MARKER = "AGENTS-FAIL"


def plan_store(context: Any) -> PlanStore:
    """A PlanStore on the scenario's database (one Database object per scenario)."""
    if not hasattr(context, "plan_db"):
        context.plan_db = open_db(context)
    return PlanStore(context.plan_db)


def the_plan_id(context: Any) -> str:
    plan_id = getattr(context, "ids", {}).get("plan") or newest_plan_id(context)
    assert plan_id, "no plan in this scenario"
    return plan_id


def write_action(context: Any, name: str, command: list[str], extra: str = "") -> None:
    body = f'[action]\nname = "{Path(name).stem}"\ncommand = {json.dumps(command)}\n{extra}'
    (context.tmp / name).write_text(body, encoding="utf-8")


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


# -- the dispatcher under a gate ----------------------------------------------------------------
@given('a plan of project "{project}" with {count:d} leaves at a gate, {cap:d} at a time')
def step_gated_plan(context: Any, project: str, count: int, cap: int) -> None:
    store = plan_store(context)
    found = ProjectStore(store.db).get(project)
    plan_id = new_id()
    leaves = [
        Subplan(
            id=leaf_id,
            plan_id=plan_id,
            parent_id=None,
            depth=0,
            position=n,
            label=f"leaf{n}",
            is_leaf=True,
            files=[f"d{n}/f0.txt"],
            file_count=1,
        )
        for n, leaf_id in enumerate(new_ids(count))
    ]
    plan = Plan(
        id=plan_id,
        project_id=found.id,
        action_name="gate",
        action={"name": "gate", "builtin": "noop"},
        profile=resolve_profile([("plan", {"max_parallel": cap})]),
        created_at=utcnow(),
    )
    store.create(plan, leaves)
    context.gate = threading.Event()
    context.cleanups.append(context.gate.set)
    context.updates = []
    tracker = SubplanTracker(plan_id, leaves, context.updates.append)

    def held(leaf: Any, token: CancellationToken) -> LeafResult:
        assert context.gate.wait(DEADLINE_S), "the gate never opened"
        return LeafResult(exit_code=0)

    context.dispatcher = ParallelSubplanDispatcher(
        tracker, held, max_parallel=cap, failure_mode=FailureMode.FAIL_FAST
    )
    context.tracker = tracker
    context.leaves = leaves


@when("the dispatcher runs them")
def step_dispatch(context: Any) -> None:
    context.dispatch_result = {}

    def go() -> None:
        context.dispatch_result["report"] = context.dispatcher.run(context.leaves)

    context.dispatch_thread = threading.Thread(target=go, daemon=True)
    context.dispatch_thread.start()


@then("{inside:d} leaves are inside the action at once and {pending:d} are pending")
def step_inside(context: Any, inside: int, pending: int) -> None:
    gauge = context.dispatcher.gauge
    wait_until(lambda: gauge.current == inside, f"{inside} leaves inside the action")
    counts = context.tracker.counts()
    assert (counts.running, counts.pending) == (inside, pending), counts
    assert gauge.current == inside and gauge.peak == inside, (gauge.current, gauge.peak)


@when("the gate opens")
def step_gate_opens(context: Any) -> None:
    context.gate.set()


@then("the dispatch ends with {completed:d} completed and a peak of exactly {peak:d}")
def step_dispatch_end(context: Any, completed: int, peak: int) -> None:
    context.dispatch_thread.join(DEADLINE_S)
    report = context.dispatch_result["report"]
    assert report.completed == completed and report.peak_running == peak, report
    assert context.tracker.counts().completed == completed
    states = [u.state for u in context.updates]
    assert states.count(SubplanState.RUNNING) == completed, states


# -- plan runs ----------------------------------------------------------------------------------
def leaves(context: Any) -> list[Any]:
    return plan_store(context).subplans(the_plan_id(context), leaves_only=True)


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


@given('a plan of project "{project}" left executing by a dead process with {n:d} leaves running')
def step_dead_run(context: Any, project: str, n: int) -> None:
    result = run_cli(context, f"plan create --project {project} --action builtin:count-lines")
    assert result.exit_code == 0, result.stderr
    store = plan_store(context)
    plan_id = result.stdout.strip()
    # the owner string names this host and a pid that cannot exist: the run is gone
    dead = f"{os.uname().nodename}:999999999:dead"
    store.begin_execution(plan_id, dead, utcnow())
    now = utcnow()
    store.record(
        plan_id,
        [
            SubplanUpdate(leaf.id, SubplanState.RUNNING, now, 1, {}, started_at=now)
            for leaf in store.subplans(plan_id, leaves_only=True)[:n]
        ],
    )
    assert store.counts(plan_id).running == n


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
        if where == "in the project itself":
            assert workspace == root, tail
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


# -- background execution, cancel, async ------------------------------------------------------
@given('a plan of project "{project}" with the builtin sleep of {seconds:d} seconds')
def step_sleep_plan(context: Any, project: str, seconds: int) -> None:
    action = context.tmp / "sleepy.toml"
    action.write_text(
        f'[action]\nname = "sleepy"\nbuiltin = "sleep"\n[action.params]\nseconds = {seconds}\n',
        encoding="utf-8",
    )
    result = run_cli(context, f"plan create --project {project} --action {action}")
    assert result.exit_code == 0, result.stderr


def start_background_execution(context: Any, **options: Any) -> None:
    """Execute the scenario's plan on a thread; the scenario's clean-up cancels and joins it."""
    executor = PlanExecutor(open_db(context), cancel_poll_s=0.05, **options)
    context.background: dict[str, PlanRunReport] = {}
    plan_id = the_plan_id(context)
    token = CancellationToken()

    def go() -> None:
        context.background["report"] = executor.execute(plan_id, token=token)

    context.background_thread = threading.Thread(target=go, daemon=True)
    context.background_thread.start()

    def stop() -> None:  # whatever happened in the scenario, the run ends with it
        token.cancel(CancelReason.CANCELLED)
        context.background_thread.join(DEADLINE_S)

    context.cleanups.append(stop)


@when("the plan executes in the background")
def step_background(context: Any) -> None:
    start_background_execution(context)


@when("its leaves are running")
def step_leaves_running(context: Any) -> None:
    store = plan_store(context)
    plan_id = the_plan_id(context)
    wait_until(lambda: store.counts(plan_id).running > 0, "leaves running")


@then('the background execution ends with the plan "{phase}"')
def step_background_end(context: Any, phase: str) -> None:
    context.background_thread.join(DEADLINE_S)
    report = context.background["report"]
    assert report.plan.phase is PlanPhase(phase), report
    counts = report.counts
    assert counts.running == 0 and counts.cancelled > 0, counts


@when("a worker runs the queued jobs")
def step_worker_runs(context: Any) -> None:
    context.registry = default_registry()
    context.clock = utcnow
    context.gates = getattr(context, "gates", {})
    context.workers = getattr(context, "workers", {})
    worker = make_worker(context, "burst")
    worker.run(burst=True)


@given("a worker for plans runs in the background")
def step_plans_worker(context: Any) -> None:
    context.registry = default_registry()
    context.clock = utcnow
    context.gates = {}
    context.workers = {}
    worker = make_worker(context, "plans", poll_interval=0.05)
    thread = threading.Thread(target=worker.run, name="plans-worker", daemon=True)
    thread.start()
    context.plans_worker_thread = thread
    # Stop it through its own loop (which shuts it down) before anything else is cleaned up.
    context.cleanups.append(lambda: (worker.stop(), thread.join(DEADLINE_S)))
    wait_until(lambda: worker._started, "the worker to start")


@given('a journal for a plan of project "{project}"')
def step_journal(context: Any, project: str) -> None:
    result = run_cli(context, f"plan create --project {project} --action builtin:noop")
    assert result.exit_code == 0, result.stderr
    context.stop_asked = threading.Event()
    context.journal = PlanJournal(
        plan_store(context), result.stdout.strip(), on_error=context.stop_asked.set
    )


@when("the journal is given a transition")
def step_journal_submit(context: Any) -> None:
    leaf = leaves(context)[0]
    now = utcnow()
    context.journal.submit(SubplanUpdate(leaf.id, SubplanState.RUNNING, now, 1, {}, started_at=now))


@then('closing the journal fails with "{text}"')
def step_journal_close(context: Any, text: str) -> None:
    try:
        context.journal.close()
    except AgentsError as exc:
        assert text in exc.message, exc.message
    else:
        raise AssertionError("closing the journal did not fail")


@then("the journal asked the run to stop")
def step_journal_stop(context: Any) -> None:
    assert context.stop_asked.is_set()


@given("the plan's stored action is damaged")
def step_damage_action(context: Any) -> None:
    execute_sql(context, "UPDATE plans SET action_json = :a", {"a": '{"name": "x", "bogus": 1}'})


@given("a command of that plan is still running")
def step_orphan(context: Any) -> None:
    import subprocess

    env = {**os.environ, "AGENTS_PLAN_ID": the_plan_id(context)}
    orphan = subprocess.Popen(["sleep", "60"], env=env, start_new_session=True)
    context.orphan = orphan
    context.cleanups.append(lambda: (orphan.kill(), orphan.wait()))


@then("the command of that plan is gone")
def step_orphan_gone(context: Any) -> None:
    wait_until(lambda: context.orphan.poll() is not None, "the leftover command to end")


@then('{count:d} leaves went back to pending because the plan "{reason}"')
def step_reset_events(context: Any, count: int, reason: str) -> None:
    events = plan_store(context).events(the_plan_id(context))
    reset = [e for e in events if e.state == "pending" and e.data.get("reason") == reason]
    assert len(reset) == count, [(e.state, e.data) for e in events]


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


@then("every leaf of the plan holds at most {count:d} files")
def step_leaf_size(context: Any, count: int) -> None:
    sizes = [leaf.file_count for leaf in leaves(context)]
    assert sizes and max(sizes) <= count and sum(sizes) == 60, sizes


@given('the leaf function raises for "{label}"')
def step_leaf_raises(context: Any, label: str) -> None:
    held = context.dispatcher.run_leaf

    def run_leaf(leaf: Any, token: CancellationToken) -> LeafResult:
        if leaf.label == label:
            raise RuntimeError("the action's own bug")
        result: LeafResult = held(leaf, token)
        return result

    context.dispatcher.run_leaf = run_leaf


@when("the dispatcher runs them to the end")
def step_dispatch_sync(context: Any) -> None:
    try:
        context.dispatcher.run(context.leaves)
    except AgentsError as exc:
        context.dispatch_error = exc
    else:
        context.dispatch_error = None


@then('the dispatch failed with "{text}"')
def step_dispatch_failed(context: Any, text: str) -> None:
    assert context.dispatch_error is not None and text in context.dispatch_error.message


@given("the tracker breaks on the first completion")
def step_tracker_breaks(context: Any) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("bookkeeping broke")

    context.tracker.finish = broken


@then("the dispatcher raised and no leaf is left inside the action")
def step_dispatch_raised(context: Any) -> None:
    context.dispatch_thread.join(DEADLINE_S)
    assert not context.dispatch_thread.is_alive()
    assert "report" not in context.dispatch_result
    assert context.dispatcher.gauge.current == 0


@given('an action file "{name}" whose command waits for the file "{flag}"')
def step_action_await(context: Any, name: str, flag: str) -> None:
    script = f'while [ ! -e "{context.tmp}/{flag}" ]; do sleep 0.05; done'
    write_action(context, name, ["sh", "-c", script])


@when("the worker for plans shuts down")
def step_plans_worker_stops(context: Any) -> None:
    worker = context.workers["plans"]
    worker.stop()
    context.plans_worker_thread.join(DEADLINE_S)
    assert not context.plans_worker_thread.is_alive()


@then('the plan\'s error says "{text}"')
def step_plan_error(context: Any, text: str) -> None:
    error = plan_store(context).get(the_plan_id(context)).error_message or ""
    assert text in error, error


@when('the file "{name}" appears')
def step_file_appears(context: Any, name: str) -> None:
    (context.tmp / name).write_text("", encoding="utf-8")


@given('the job "{label}" has a cancel request')
def step_job_cancel_flag(context: Any, label: str) -> None:
    execute_sql(
        context,
        "UPDATE async_jobs SET cancel_requested = :yes WHERE id = :id",
        {"yes": True, "id": context.ids[label]},
    )


@when("{count:d} deadlines are set an hour ahead and cancelled, and one is due at once")
def step_deadlines(context: Any, count: int) -> None:
    deadlines = Deadlines()
    context.cleanups.append(deadlines.close)
    context.fired = []
    for n in range(count):
        deadlines.call_later(3600, lambda n=n: context.fired.append(n)).cancel()
    context.due = threading.Event()
    deadlines.call_later(0, context.due.set)


@then("only the due one fires")
def step_deadline_fired(context: Any) -> None:
    assert context.due.wait(DEADLINE_S), "the due deadline never fired"
    assert context.fired == []
