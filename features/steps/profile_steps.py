"""Steps about the automation profile: layers, precedence, sources and range errors."""

from __future__ import annotations

import json
import os
from typing import Any

from behave import given, then, when
from cli_steps import fill

from cleveragents.domain.profile import PROFILE_FIELDS, resolve_profile
from cleveragents.errors import AgentsError
from cleveragents.plans.actions import ActionSpec
from cleveragents.settings import load_settings

PLAN_SOURCE = "plan (command line)"


def _value(text: str) -> Any:
    if text == "[cores]":  # max_parallel's default: the cores this process may use, up to 32
        return min(32, len(os.sched_getaffinity(0)))
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # a bare word such as fail_fast


def _layers(context: Any) -> list[tuple[str, dict[str, Any]]]:
    if not hasattr(context, "profile_layers"):
        context.profile_layers = []
    layers: list[tuple[str, dict[str, Any]]] = context.profile_layers
    return layers


def _action(context: Any) -> dict[str, Any]:
    if not hasattr(context, "profile_action"):
        context.profile_action = {"command": ["x"]}
    action: dict[str, Any] = context.profile_action
    return action


@given("the plan sets the profile {values}")
def step_plan_layer(context: Any, values: str) -> None:
    _layers(context).append((PLAN_SOURCE, json.loads(values)))


@given('the action "{name}" sets the profile {values}')
def step_action_profile(context: Any, name: str, values: str) -> None:
    _action(context).update(name=name, profile=json.loads(values))


@given('the action "{name}" sets timeout_s to {seconds:d}')
def step_action_timeout(context: Any, name: str, seconds: int) -> None:
    _action(context).update(name=name, timeout_s=seconds)


@given('the layer "{source}" sets the profile {values}')
def step_raw_layer(context: Any, source: str, values: str) -> None:
    _layers(context).append((source, json.loads(values)))


@given('the global layer sets {field} to {value} from "{source}"')
def step_raw_global(context: Any, field: str, value: str, source: str) -> None:
    context.raw_globals = {**getattr(context, "raw_globals", {}), field: (_value(value), source)}


@given("the profile value {field} = {value} comes from the {layer}")
def step_value_from(context: Any, field: str, value: str, layer: str) -> None:
    """One value from one named layer: plan, action, global layer, environment or config file."""
    if layer == "plan":
        _layers(context).append((PLAN_SOURCE, {field: _value(value)}))
    elif layer == "action":
        # Not through ActionSpec, which refuses the value when the file is loaded: this checks
        # that profile resolution refuses it too, naming the action as the source.
        _layers(context).append(("action lint (lint.toml)", {field: _value(value)}))
    elif layer == "global layer":
        step_raw_global(context, field, value, "config file elsewhere.toml")
    elif layer == "environment":
        name = f"AGENTS_PLANS__{field.upper()}"
        context.extra_env = {**getattr(context, "extra_env", {}), name: value}
    else:
        assert layer == "config file", layer
        shown = json.dumps(_value(value))
        text = f"[plans]\n{field} = {shown}\n"
        (context.tmp / "config.toml").write_text(text, encoding="utf-8")


@when("the profile is resolved")
def step_resolve(context: Any) -> None:
    env = {**context.env, **getattr(context, "extra_env", {})}
    env = {name: value for name, value in env.items() if value is not None}
    context.profile, context.error = None, None
    try:
        loaded = load_settings(context.tmp / "config.toml", env=env)
        global_values = {
            name: (loaded.get(f"plans.{name}"), loaded.source(f"plans.{name}"))
            for name in PROFILE_FIELDS
        }
        global_values.update(getattr(context, "raw_globals", {}))
        layers = list(_layers(context))
        if hasattr(context, "profile_action"):
            source = str(context.tmp / f"{context.profile_action['name']}.toml")
            spec = ActionSpec(**context.profile_action, source=source)
            layers.append(spec.profile_layer())
        context.profile = resolve_profile(layers, global_values)
    except AgentsError as exc:
        context.error = exc


@then('the profile has {field} = {value} from "{source}"')
def step_profile_value(context: Any, field: str, value: str, source: str) -> None:
    assert context.error is None, context.error
    resolved = getattr(context.profile, field)
    assert resolved.value == _value(value), resolved
    assert fill(context, source) in resolved.source, resolved.source


@then("the profile is")
def step_profile_table(context: Any) -> None:
    for row in context.table:
        step_profile_value(context, row["field"], row["value"], row["source"])


@then('resolving the profile fails with "{text}"')
def step_profile_fails(context: Any, text: str) -> None:
    assert context.error is not None, f"resolved without error: {context.profile}"
    message = context.error.message
    assert "\n" not in message, message
    assert fill(context, text) in message, message
    assert context.error.exit_code == 2, context.error.exit_code


@then(
    "the resolved profile runs {parallel:d} at once, {mode}, {timeout:g} s per leaf "
    "and {attempts:d} attempts"
)
def step_profile_properties(
    context: Any, parallel: int, mode: str, timeout: float, attempts: int
) -> None:
    profile = context.profile
    assert context.error is None, context.error
    got = (profile.parallel, profile.mode.value, profile.timeout, profile.attempts)
    assert got == (parallel, mode, timeout, attempts), got
