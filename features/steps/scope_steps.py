"""Steps for an action's scope (plans/scope.py ``check_scope``), the stored ``in_scope`` of a
change, the revision that added it, and conflicts named once per path."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from behave import given, then, when
from plan_helpers import leaves, plan_store, the_plan_id
from sandbox_helpers import plan_changes, snapshot
from sqlalchemy import inspect, text

from cleveragents.domain.changes import CapturedChange, ChangeKind
from cleveragents.domain.clock import utcnow
from cleveragents.errors import SandboxError, ScopeError
from cleveragents.plans.actions import ActionSpec
from cleveragents.plans.scope import check_scope
from cleveragents.store.changes import ChangeStore
from cleveragents.store.migrations import downgrade, upgrade


def _names(listed: str) -> list[str]:
    return [name.strip() for name in listed.split(",") if name.strip()]


def _changed(path: str, base: bytes | None) -> CapturedChange:
    """A change of ``path``: one line added to ``base``, or a new file when there is none."""
    new = (base or b"") + b"# changed\n"
    return CapturedChange(
        path=path,
        kind=ChangeKind.CREATED if base is None else ChangeKind.MODIFIED,
        base_sha256=None if base is None else hashlib.sha256(base).hexdigest(),
        base_mode=None if base is None else 0o644,
        new_sha256=hashlib.sha256(new).hexdigest(),
        content=new,
        mode=0o644,
        base_content=base,
    )


def _check(context: Any, scope: str, files: list[str], changes: list[CapturedChange]) -> None:
    context.scope_error = None
    context.checked = None
    try:
        context.checked = check_scope(scope, files, changes)
    except (ScopeError, ValueError) as exc:
        context.scope_error = exc


# -- check_scope on its own --------------------------------------------------------------------


# Registered before the shorter step, which would take its text too.
@when(
    'the scope "{scope}" is checked for a leaf of "{files}" that changed "{paths}" '
    'and {count:d} files under "{folder}"'
)
def step_check_scope_many(
    context: Any, scope: str, files: str, paths: str, count: int, folder: str
) -> None:
    generated = [f"{folder}f{number:02d}.txt" for number in range(count, 0, -1)]  # unsorted
    changes = [_changed(path, None) for path in [*_names(paths), *generated]]
    _check(context, scope, _names(files), changes)


@when('the scope "{scope}" is checked for a leaf of "{files}" that changed "{paths}"')
def step_check_scope(context: Any, scope: str, files: str, paths: str) -> None:
    _check(context, scope, _names(files), [_changed(path, None) for path in _names(paths)])


@then("the scope check fails with the one line")
def step_scope_fails_line(context: Any) -> None:
    error = context.scope_error
    assert isinstance(error, ScopeError), error
    assert "\n" not in error.message, error.message
    assert error.message == context.text.strip(), error.message


@then('the scope error lists the paths "{paths}" and exits with {code:d}')
def step_scope_error_paths(context: Any, paths: str, code: int) -> None:
    error = context.scope_error
    assert isinstance(error, SandboxError), error  # fails the leaf like any sandbox refusal
    assert error.paths == _names(paths), error.paths
    assert error.exit_code == code, error.exit_code


@then("the scope error lists {count:d} paths")
def step_scope_error_count(context: Any, count: int) -> None:
    assert len(context.scope_error.paths) == count, context.scope_error.paths


@then("the checked changes are")
def step_checked(context: Any) -> None:
    assert context.scope_error is None, context.scope_error
    got = [(change.path, change.in_scope) for change in context.checked]
    wanted = [(row["path"], row["in_scope"] == "true") for row in context.table]
    assert got == wanted, got


@then('the scope check is refused as a programming error naming "{scope}"')
def step_scope_refused(context: Any, scope: str) -> None:
    error = context.scope_error
    assert type(error) is ValueError and repr(scope) in str(error), error


# -- recorded through the store ----------------------------------------------------------------


@given('an action file "{name}" for "{glob}" with scope "{scope}" that changes nothing itself')
def step_scoped_action(context: Any, name: str, glob: str, scope: str) -> None:
    (context.tmp / name).write_text(
        f'[action]\ncommand = ["true"]\ninclude = ["{glob}"]\nscope = "{scope}"\n',
        encoding="utf-8",
    )


@given("the plan's only leaf records changes to \"{paths}\" through its action's scope")
@when("the plan's only leaf records changes to \"{paths}\" through its action's scope")
def step_record_scoped(context: Any, paths: str) -> None:
    """What the runner does once a leaf's changes are captured: check them against the plan's
    action's scope, then record them as the leaf's changes."""
    (leaf,) = leaves(context)
    plan = plan_store(context).get(the_plan_id(context))
    root = context.tmp / "repo"
    changes = [_changed(path, (root / path).read_bytes()) for path in _names(paths)]
    _check(context, ActionSpec.model_validate(plan.action).scope, leaf.files, changes)
    if context.checked is not None:
        ChangeStore(plan_store(context).db).replace(plan.id, leaf.id, context.checked, utcnow())


@then("the plan's stored changes are")
def step_stored(context: Any) -> None:
    got = [(change.path, change.in_scope) for change in plan_changes(context)]
    wanted = [(row["path"], row["in_scope"] == "true") for row in context.table]
    assert got == wanted, got


@then('stdout has the line "{line}"')
def step_stdout_line(context: Any, line: str) -> None:
    assert line in context.result.stdout.splitlines(), context.result.stdout


# -- the revision that added in_scope ----------------------------------------------------------


@when('the schema is downgraded to revision "{revision}"')
def step_downgrade_to(context: Any, revision: str) -> None:
    downgrade(plan_store(context).db, revision)


@when("the schema is upgraded to head")
def step_upgrade_head(context: Any) -> None:
    upgrade(plan_store(context).db)


@then('the table "{table}" has no column "{column}" and {count:d} rows')
def step_no_column(context: Any, table: str, column: str, count: int) -> None:
    with plan_store(context).db.read() as conn:
        columns = [found["name"] for found in inspect(conn).get_columns(table)]
        rows = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    assert column not in columns and "path" in columns, columns
    assert rows == count, rows


# -- conflicts named once per path --------------------------------------------------------------


@given(
    'a sandboxed action "{name}" on "{glob}", one leaf per file, each writing "{path}" '
    "and appending to its own file"
)
def step_action_shared_and_own(context: Any, name: str, glob: str, path: str) -> None:
    script = f'echo $AGENTS_SUBPLAN_ID > {path}; while read -r f; do echo more >> "$f"; done'
    script += ' < "$AGENTS_FILES_FILE"'
    (context.tmp / name).write_text(
        f'[action]\ncommand = ["sh", "-c", {json.dumps(script)}]\ninclude = ["{glob}"]\n'
        'scope = "project"\n'
        "[action.decompose]\nmax_files_per_subplan = 1\nmin_files_per_subplan = 1\n",
        encoding="utf-8",
    )
    context.before = snapshot(context.tmp / "repo")


@then('the plan has {count:d} leaves that each changed "{path}"')
def step_leaves_changed(context: Any, count: int, path: str) -> None:
    ids = sorted(leaf.id for leaf in leaves(context))
    assert len(ids) == count, ids
    assert [c.subplan_id for c in plan_changes(context) if c.path == path] == ids


@then('stderr has exactly {count:d} line containing "{wanted}"')
@then('stderr has exactly {count:d} lines containing "{wanted}"')
def step_stderr_count(context: Any, count: int, wanted: str) -> None:
    found = [line for line in context.result.stderr.splitlines() if wanted in line]
    assert len(found) == count, context.result.stderr
    context.found_line = found[-1] if found else None


@then('stdout has {count:d} lines starting with "{start}"')
def step_stdout_starting(context: Any, count: int, start: str) -> None:
    found = [line for line in context.result.stdout.splitlines() if line.startswith(start)]
    assert len(found) == count, context.result.stdout


@then(
    'that line names the first {named:d} of the {count:d} leaves with their labels, then "{more}"'
)
def step_line_names(context: Any, named: int, count: int, more: str) -> None:
    ordered = sorted(leaves(context), key=lambda leaf: leaf.id)
    assert len(ordered) == count, ordered
    listed = ", ".join(f'{leaf.id} "{leaf.label}"' for leaf in ordered[:named])
    line = context.found_line
    assert line.endswith(f": changed by {count} subplans ({listed} {more})"), line
    for leaf in ordered[named:]:
        assert leaf.id not in line, line


@then('the JSON document lists the conflict of "{path}" once, with the ids of all {count:d} leaves')
def step_json_conflict(context: Any, path: str, count: int) -> None:
    document = json.loads(context.result.stdout)
    assert document["applied"] is False, document
    (conflict,) = document["conflicts"]
    ids = sorted(leaf.id for leaf in leaves(context))
    assert len(ids) == count, ids
    assert conflict["path"] == path and conflict["subplan_ids"] == ids, conflict
