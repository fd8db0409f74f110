"""Steps about actions: loading files, resolving references, listing, and running the built-ins."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from behave import given, then, when
from cli_steps import fill

from cleveragents.errors import ActionError, AgentsError
from cleveragents.plans import builtin_actions
from cleveragents.plans.action_files import list_actions, load_action_file, resolve_action
from cleveragents.plans.actions import ActionSpec
from cleveragents.plans.builtin_actions import BUILTIN_ACTIONS, ActionContext
from cleveragents.runtime.tokens import CancellationToken, CancelReason


def _write(context: Any, path: str, data: bytes) -> None:
    target = context.tmp / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n")


def _attempt(context: Any, call: Any) -> None:
    context.action, context.error = None, None
    try:
        context.action = call()
    except AgentsError as exc:
        context.error = exc


def _token(context: Any) -> CancellationToken:
    if not hasattr(context, "action_token"):
        context.action_token = CancellationToken()
    token: CancellationToken = context.action_token
    return token


@given('the action file "{path}" holds')
def step_action_file(context: Any, path: str) -> None:
    _write(context, path, _unescape(context.text).encode("utf-8"))


@given('the action file "{path}" holds the text "{text}"')
def step_action_text(context: Any, path: str, text: str) -> None:
    _write(context, path, _unescape(text).encode("utf-8"))


@given('the action file "{path}" holds the bytes {hex_bytes}')
def step_action_bytes(context: Any, path: str, hex_bytes: str) -> None:
    _write(context, path, bytes.fromhex(hex_bytes))


@given('the project "{project}" holds the files')
def step_project_files(context: Any, project: str) -> None:
    for row in context.table:
        _write(context, f"{project}/{row['path']}", _unescape(row["text"]).encode("utf-8"))


@given('the project "{project}" holds the binary file "{path}" with bytes {hex_bytes}')
def step_project_binary(context: Any, project: str, path: str, hex_bytes: str) -> None:
    _write(context, f"{project}/{path}", bytes.fromhex(hex_bytes))


@given('the project "{project}" holds {count:d} files containing "{text}"')
def step_project_marked(context: Any, project: str, count: int, text: str) -> None:
    for n in range(count):
        _write(context, f"{project}/f{n}.txt", f"before\n{text}\nafter\n".encode())


@given("built-in actions read files {size:d} bytes at a time")
def step_chunk_size(context: Any, size: int) -> None:
    original = builtin_actions.CHUNK_BYTES
    builtin_actions.CHUNK_BYTES = size
    context.cleanups.append(lambda: setattr(builtin_actions, "CHUNK_BYTES", original))


@given("the built-in's token is already cancelled")
def step_cancel_token(context: Any) -> None:
    _token(context).cancel(CancelReason.CANCELLED)


@when('I load the action file "{path}"')
def step_load(context: Any, path: str) -> None:
    _attempt(context, lambda: load_action_file(context.tmp / path))


@when('I resolve the action "{ref}" with no project')
def step_resolve(context: Any, ref: str) -> None:
    _attempt(context, lambda: resolve_action(fill(context, ref)))


@when('I resolve the action "{ref}" in the project "{project}"')
def step_resolve_in(context: Any, ref: str, project: str) -> None:
    root = context.tmp / project
    _attempt(context, lambda: resolve_action(fill(context, ref), project_root=root))


@when('I list the actions of the project "{project}"')
def step_list(context: Any, project: str) -> None:
    context.listing = list_actions(context.tmp / project)


def _run_builtin(context: Any, name: str, files: list[str], project: str, params: str) -> None:
    ctx = ActionContext(
        plan_id="plan-1",
        subplan_id="subplan-1",
        project_root=context.tmp / project,
        params=json.loads(params),
        token=_token(context),
    )
    context.outcome = BUILTIN_ACTIONS[name].run(files, ctx)


def _every_file(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


@when('the built-in "{name}" runs on "{files}" of "{project}"')
@when('the built-in "{name}" runs on "{files}" of "{project}" with params {params}')
def step_run_files(context: Any, name: str, files: str, project: str, params: str = "{}") -> None:
    _run_builtin(context, name, [f.strip() for f in files.split(",")], project, params)


@when('the built-in "{name}" runs on every file of "{project}"')
@when('the built-in "{name}" runs on every file of "{project}" with params {params}')
def step_run_all(context: Any, name: str, project: str, params: str = "{}") -> None:
    _run_builtin(context, name, _every_file(context.tmp / project), project, params)


@then('the outcome is exit {code:d} with output "{text}"')
def step_outcome(context: Any, code: int, text: str) -> None:
    outcome = context.outcome
    assert outcome.exit_code == code, outcome
    assert text in outcome.output, outcome


@then("the outcome is exit {code:d} with no output")
def step_outcome_silent(context: Any, code: int) -> None:
    assert (context.outcome.exit_code, context.outcome.output) == (code, ""), context.outcome


@then("the built-in's token is cancelled")
def step_token_cancelled(context: Any) -> None:
    assert _token(context).cancelled


@then("the built-in's token is not cancelled")
def step_token_not_cancelled(context: Any) -> None:
    assert not _token(context).cancelled


def _loaded(context: Any) -> ActionSpec:
    assert context.error is None, context.error
    spec: ActionSpec = context.action
    return spec


@then('the action has "{field}" equal to {value}')
def step_action_field(context: Any, field: str, value: str) -> None:
    got: Any = _loaded(context).snapshot()
    for part in field.split("."):
        got = got[part]
    assert got == json.loads(fill(context, value)), got


@then('the action\'s profile layer is "{source}" with {values}')
def step_profile_layer(context: Any, source: str, values: str) -> None:
    got_source, got_values = _loaded(context).profile_layer()
    assert got_source == fill(context, source), got_source
    assert got_values == json.loads(values), got_values


@then("the action's snapshot reads back as the same action")
def step_snapshot(context: Any) -> None:
    spec = _loaded(context)
    snapshot = json.loads(json.dumps(spec.snapshot()))
    assert ActionSpec.model_validate(snapshot) == spec


@then('loading the action fails with "{text}"')
def step_load_fails(context: Any, text: str) -> None:
    assert context.error is not None, f"loaded without error: {context.action}"
    assert isinstance(context.error, ActionError), type(context.error)
    assert "\n" not in context.error.message, context.error.message
    expected = fill(context, text)
    assert expected in context.error.message, context.error.message
    assert context.error.exit_code == 2


@then('resolving the action fails with exit {code:d} and "{text}"')
def step_resolve_fails(context: Any, code: int, text: str) -> None:
    assert context.error is not None, f"resolved without error: {context.action}"
    assert fill(context, text) in context.error.message, context.error.message
    assert context.error.exit_code == code, context.error.exit_code


@then("an unvalidated action with timeout_s set twice has no profile layer")
def step_unvalidated(context: Any) -> None:
    spec = ActionSpec.model_construct(
        name="twice", command=["x"], timeout_s=60, profile={"timeout_s": 90}, source="builtin"
    )
    try:
        spec.profile_layer()
    except ActionError as exc:
        assert "timeout_s is set twice" in exc.message, exc.message
    else:
        raise AssertionError("profile_layer accepted timeout_s twice")


@then("the action listing is")
def step_listing(context: Any) -> None:
    got = [(e.name, e.source, e.error) for e in context.listing]
    expected = [
        (row["name"], fill(context, row["source"]), row["error"] or None) for row in context.table
    ]
    assert got == expected, got


@then("the action listing has {count:d} entries")
def step_listing_count(context: Any, count: int) -> None:
    assert len(context.listing) == count, context.listing
