"""Steps for retries with backoff: the dispatcher on an injected clock, the exit policy's
delays and verdicts, and a run through the command line."""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from behave import given, then, when
from cli_steps import run_cli
from helpers import DEADLINE_S
from plan_helpers import leaves, plan_store, write_action

from cleveragents.domain.ids import new_ids
from cleveragents.domain.plans import EventKind, Subplan
from cleveragents.domain.profile import FailureMode
from cleveragents.errors import AgentsError
from cleveragents.plans.dispatcher import ParallelSubplanDispatcher
from cleveragents.plans.leaf_result import LeafResult
from cleveragents.plans.policy import ExitPolicy
from cleveragents.plans.tracker import SubplanTracker
from cleveragents.runtime.tokens import CancellationToken

EPOCH = datetime(2026, 12, 7, tzinfo=UTC)


class FakeClock:
    """Seconds since EPOCH that move only when a leaf "takes" time or the dispatcher pauses."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0.0

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def pause(self, _token: CancellationToken, seconds: float) -> None:
        self.advance(seconds)

    def wall(self) -> datetime:
        return EPOCH + timedelta(seconds=self.monotonic())


def _policy(text: str) -> ExitPolicy:
    import tomllib

    return ExitPolicy.model_validate(tomllib.loads(text))


@given(
    "a dispatcher with {slots:d} {noun:w} and {retries:d} retries on an injected clock, "
    "for an action with"
)
def step_dispatcher(context: Any, slots: int, noun: str, retries: int) -> None:
    context.clock = FakeClock()
    context.policy = _policy(context.text)
    context.slots, context.retries = slots, retries
    context.scripts: dict[str, list[tuple[int, str, float]]] = {}
    context.gates: dict[str, threading.Event] = {}
    context.waited: dict[str, threading.Event] = {}


def _script(context: Any, label: str, *steps: tuple[int, str, float]) -> None:
    context.scripts.setdefault(label, []).extend(steps)


@given('leaf "{label}" answers "{output}" and then succeeds')
def step_answers(context: Any, label: str, output: str) -> None:
    _script(context, label, (1, output.replace("\\n", "\n"), 0.0), (0, "", 0.0))


@given('leaf "{label}" succeeds after {seconds:d} seconds')
def step_succeeds_after(context: Any, label: str, seconds: int) -> None:
    _script(context, label, (0, "", float(seconds)))


@given('leaf "{label}" exits {code:d} three times and then succeeds')
def step_three_times(context: Any, label: str, code: int) -> None:
    _script(context, label, *[(code, "busy", 0.0)] * 3, (0, "", 0.0))


@given('leaf "{label}" exits {code:d} saying "{output}" and then succeeds')
def step_exits_then(context: Any, label: str, code: int, output: str) -> None:
    _script(context, label, (code, output, 0.0), (0, "", 0.0))


@given('leaf "{label}" exits {code:d} saying "{output}"')
def step_exits(context: Any, label: str, code: int, output: str) -> None:
    _script(context, label, (code, output, 0.0))


@given('leaf "{label}" exits {code:d} saying "{output}" once leaf "{other}" waits')
def step_exits_once(context: Any, label: str, code: int, output: str, other: str) -> None:
    _script(context, label, (code, output, 0.0))
    context.gates[label] = context.waited.setdefault(other, threading.Event())


def _result(code: int, output: str, duration: float) -> LeafResult:
    if code == 0:
        return LeafResult(exit_code=0, output=output, duration_s=duration)
    last = output.strip().splitlines()[-1:] or [""]
    return LeafResult(exit_code=code, output=output, error_message=f"exit code {code}: {last[0]}")


@when("the dispatcher runs them on the injected clock")
def step_run_injected(context: Any) -> None:
    labels = list(context.scripts)
    leaves = [
        Subplan(
            id=leaf_id,
            plan_id="p",
            parent_id=None,
            depth=0,
            position=n,
            label=label,
            is_leaf=True,
            files=[f"{label}.txt"],
            file_count=1,
        )
        for n, (leaf_id, label) in enumerate(zip(new_ids(len(labels)), labels, strict=True))
    ]
    context.by_id = {leaf.id: leaf.label for leaf in leaves}
    context.updates = []

    def sink(update: Any) -> None:
        context.updates.append(update)
        if "retry_in_s" in update.data:
            context.waited.setdefault(context.by_id[update.subplan_id], threading.Event()).set()

    tracker = SubplanTracker("p", leaves, sink, clock=context.clock.wall)

    def run_leaf(leaf: Subplan, _token: CancellationToken) -> LeafResult:
        gate = context.gates.get(leaf.label)
        if gate is not None:
            assert gate.wait(DEADLINE_S), f"leaf {leaf.label}'s gate never opened"
        code, output, duration = context.scripts[leaf.label].pop(0)
        context.clock.advance(duration)
        return _result(code, output, duration)

    dispatcher = ParallelSubplanDispatcher(
        tracker,
        run_leaf,
        max_parallel=context.slots,
        failure_mode=FailureMode.FAIL_FAST,
        attempts=1 + context.retries,
        policy=context.policy,
        rng=random.Random(7),
        monotonic=context.clock.monotonic,
        pause=context.clock.pause,
    )
    context.dispatch_error = None
    try:
        dispatcher.run(leaves)
    except AgentsError as exc:
        context.dispatch_error = exc


def _trace(context: Any) -> list[tuple[float, str, str, Any]]:
    rows = []
    for update in context.updates:
        at = (update.at - EPOCH).total_seconds()
        if "retry_in_s" in update.data:
            what = f"waits {update.data['retry_in_s']:g} s"
        elif update.state.value == "running":
            what = f"attempt {update.attempts}"
        else:
            what = update.state.value
        rows.append((at, context.by_id[update.subplan_id], what, update))
    return rows


@then("the dispatch trace is")
def step_trace(context: Any) -> None:
    got = [(f"{at:g}", label, what) for at, label, what, _ in _trace(context)]
    want = [(row["at"], row["leaf"], row["what"]) for row in context.table]
    assert got == want, got


@then('leaf "{label}" was recorded waiting with its next attempt at {seconds:d} s')
def step_recorded_retry_at(context: Any, label: str, seconds: int) -> None:
    waits = [u for _, who, what, u in _trace(context) if who == label and what.startswith("wait")]
    assert [u.retry_at for u in waits] == [EPOCH + timedelta(seconds=seconds)], waits
    assert waits[0].error_message.startswith("exit code 1: Retry-After: 30"), waits[0]


def _attempts(context: Any, label: str) -> tuple[list[float], list[tuple[float, float]]]:
    """When each attempt of ``label`` started, and each wait: (when it began, its length)."""
    starts, waits = [], []
    for at, who, what, update in _trace(context):
        if who == label and what.startswith("attempt"):
            starts.append(at)
        elif who == label and what.startswith("waits"):
            waits.append((at, (update.retry_at - update.at).total_seconds()))
    return starts, waits


@then('leaf "{label}" ran {n:d} attempts, waiting at most {bounds} s before {names}')
def step_waits_bounded(context: Any, label: str, n: int, bounds: str, names: str) -> None:
    starts, waits = _attempts(context, label)
    ceilings = [float(b) for b in bounds.replace(" and ", ", ").split(", ")]
    assert len(starts) == n and len(waits) == n - 1, (starts, waits)
    for (_, length), ceiling in zip(waits, ceilings, strict=True):
        assert 0 <= length <= ceiling, (length, ceiling)
    assert len({length for _, length in waits}) == len(waits), f"jitter gave equal waits: {waits}"
    final = context.updates[-1]
    assert final.state.value == "completed" and final.attempts == n, final


@then('each attempt of leaf "{label}" started exactly when its wait ended')
def step_started_on_time(context: Any, label: str) -> None:
    starts, waits = _attempts(context, label)
    for start, (began, length) in zip(starts[1:], waits, strict=True):
        assert abs(start - (began + length)) < 0.001, (start, began, length)


@then('leaf "{label}" ended "{state}" with "{text}"')
def step_leaf_ended(context: Any, label: str, state: str, text: str) -> None:
    last = [u for u in context.updates if context.by_id[u.subplan_id] == label][-1]
    assert last.state.value == state and text in (last.error_message or ""), last


@given("the exit policy")
def step_exit_policy(context: Any) -> None:
    context.policy = _policy(context.text)


@then("{n:d} waits after attempt {attempt:d} with a seeded random lie in 0..{top:d} and cover it")
def step_jitter(context: Any, n: int, attempt: int, top: int) -> None:
    rng = random.Random(42)
    waits = [context.policy.delay(attempt, "", rng) for _ in range(n)]
    assert all(0 <= wait <= top for wait in waits), (min(waits), max(waits))
    # Full jitter: every tenth of the range is reached, not a fixed or narrow band.
    tenths = {int(wait / top * 10) for wait in waits}
    assert set(range(10)) <= tenths, sorted(tenths)


@then('the wait after attempt {attempt:d} of output "{output}" is {wait:d} s')
def step_asked_wait(context: Any, attempt: int, output: str, wait: int) -> None:
    got = context.policy.delay(attempt, output.replace("\\n", "\n"), random.Random(1))
    assert got == wait, got


@then('a failure with exit code {code} and output "{output}" is {verdict}')
def step_verdict(context: Any, code: str, output: str, verdict: str) -> None:
    exit_code = None if code == "none" else int(code)
    assert context.policy.transient(exit_code, output) is (verdict == "transient")


@given(
    'an action file "{name}" whose command says "{text}" and exits {code:d} the first time, with'
)
def step_busy_action(context: Any, name: str, text: str, code: int) -> None:
    script = (
        f'mark="{context.tmp}/busy-$AGENTS_SUBPLAN_ID"; '
        f'if [ -e "$mark" ]; then exit 0; fi; touch "$mark"; echo "{text}"; exit {code}'
    )
    write_action(context, name, ["sh", "-c", script], context.text + "\n")


@then(
    "the plan's events show leaf attempt 1 waiting {seconds:d} s and attempt 2 starting "
    "at least {later:d} s later"
)
def step_events_wait(context: Any, seconds: int, later: int) -> None:
    store = plan_store(context)
    plan_id = store.find(limit=1)[0].id
    events = [e for e in store.events(plan_id) if e.kind is EventKind.SUBPLAN]
    waits = [e for e in events if "retry_in_s" in e.data]
    assert [e.data["retry_in_s"] for e in waits] == [seconds], events
    second = [e for e in events if e.state == "running" and e.data.get("attempt") == 2]
    second = [e for e in second if "retry_in_s" not in e.data]
    assert len(second) == 1, events
    assert (second[0].at - waits[0].at).total_seconds() >= later, (second[0].at, waits[0].at)


@then("the JSON document's only leaf has {attempts:d} attempts and no retry time")
def step_json_leaf_attempts(context: Any, attempts: int) -> None:
    document = json.loads(context.result.stdout)
    (leaf,) = [node for node in document["subplans"] if node["files"]]
    assert leaf["attempts"] == attempts and leaf["retry_at"] is None, leaf


@then('`{command}` soon says "{text}"')
def step_soon_says(context: Any, command: str, text: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while True:
        result = run_cli(context, command)
        if text in result.stdout:
            return
        assert time.monotonic() < deadline, result.stdout
        time.sleep(0.05)  # polling with a deadline: the run is in another thread


@then('every leaf ended "{state}" with "{text}"')
def step_every_leaf_ended(context: Any, state: str, text: str) -> None:
    for leaf in leaves(context):
        assert leaf.state.value == state and text in (leaf.error_message or ""), leaf


@then('a failure printing "{output}" is {verdict}')
def step_output_verdict(context: Any, output: str, verdict: str) -> None:
    policy = context.policy
    if verdict == "rate-limited":
        assert policy.rate_limited(output)
    elif verdict == "not rate-limited":
        assert not policy.rate_limited(output)
    else:
        assert policy.asked_delay(output) is None
