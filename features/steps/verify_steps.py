"""Steps for an action's verification."""

from __future__ import annotations

import json
from typing import Any

from behave import given, then, when
from cli_steps import fill
from plan_helpers import leaves


@given('the action file "{name}" holding')
def step_action_holding(context: Any, name: str) -> None:
    (context.tmp / name).write_text(fill(context, context.text) + "\n", encoding="utf-8")


@given('the file "{path}" of the project "{project}" holds "{text}"')
def step_project_file(context: Any, path: str, project: str, text: str) -> None:
    (context.tmp / project / path).write_text(text.replace("\\n", "\n"), encoding="utf-8")


@then('the plan\'s only leaf has verification "{outcome}"')
def step_leaf_verification(context: Any, outcome: str) -> None:
    (leaf,) = leaves(context)
    assert leaf.verification == outcome, (leaf.verification, leaf.error_message, leaf.output_tail)


@then('the JSON document\'s subplan has "{key}" equal to "{value}"')
def step_json_subplan(context: Any, key: str, value: str) -> None:
    document = json.loads(context.result.stdout)
    found = [node[key] for node in document["subplans"] if node["files"]]
    assert found == [value], found


@then('the file "{name}" has {count:d} lines')
def step_file_lines(context: Any, name: str, count: int) -> None:
    lines = (context.tmp / name).read_text(encoding="utf-8").splitlines()
    assert len(lines) == count, lines


@then('the JSON document\'s action has "{key}" equal to "{value}"')
def step_json_action(context: Any, key: str, value: str) -> None:
    document = json.loads(context.result.stdout)
    assert document["action_definition"][key] == value, document["action_definition"]


@given('the leaf of "{path}" is known as [{label}]')
@when('the leaf of "{path}" is known as [{label}]')
def step_leaf_label(context: Any, path: str, label: str) -> None:
    (leaf,) = [leaf for leaf in leaves(context) if path in leaf.files]
    context.ids = {**getattr(context, "ids", {}), label: leaf.id}


@then('the JSON list holds exactly the paths "{paths}"')
def step_json_paths(context: Any, paths: str) -> None:
    got = sorted(item["path"] for item in json.loads(context.result.stdout))
    assert got == sorted(part.strip() for part in paths.split(",")), got


@then('the JSON document\'s subplan of "{path}" has "{key}" equal to "{value}"')
def step_json_subplan_of(context: Any, path: str, key: str, value: str) -> None:
    document = json.loads(context.result.stdout)
    (node,) = [node for node in document["subplans"] if path in node["files"]]
    assert node[key] == value, node


@then('the JSON document\'s subplan of "{path}" has "{key}" equal to {number:g}')
def step_json_subplan_number(context: Any, path: str, key: str, number: float) -> None:
    document = json.loads(context.result.stdout)
    (node,) = [node for node in document["subplans"] if path in node["files"]]
    assert node[key] == number, node


@then('the JSON document says the action "{name}" was bound once, from "{file}"')
def step_action_bound(context: Any, name: str, file: str) -> None:
    bound = json.loads(context.result.stdout)["action_bound"]
    assert len(bound) == 1 and bound[0]["action"] == name, bound
    assert bound[0]["source"].endswith(file) and bound[0]["at"], bound


@then('stdout has a "{key}" line with "{text}"')
def step_key_line(context: Any, key: str, text: str) -> None:
    lines = [x for x in context.result.stdout.splitlines() if x.split()[:1] == [key]]
    assert any(text in x for x in lines), context.result.stdout
