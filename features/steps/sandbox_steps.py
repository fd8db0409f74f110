"""Steps for sandboxed subplans, the changes they record, `plan diff` and the project's files."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from behave import given, then, when
from plan_helpers import leaves, the_plan_id
from sandbox_helpers import holds_recorded, plan_changes, recorded_contents, run_git, snapshot


@given('a sandboxed action "{name}" running')
def step_sandboxed_action(context: Any, name: str, isolation: str = "sandbox") -> None:
    script = " ".join(context.text.split("\n"))
    literal = "'''" + script + "'''"  # a TOML literal string: no escapes
    (context.tmp / name).write_text(
        f'[action]\nname = "{Path(name).stem}"\ncommand = ["sh", "-c", {literal}]\n'
        f'isolation = "{isolation}"\nscope = "project"\n',
        encoding="utf-8",
    )
    context.before = snapshot(context.tmp / "repo")


@given('an action "{name}" in a workspace of its files only, running')
def step_files_action(context: Any, name: str) -> None:
    step_sandboxed_action(context, name, "files")


@given('a sandboxed action "{name}" running one leaf per file, each writing "{path}"')
def step_action_per_file(context: Any, name: str, path: str) -> None:
    (context.tmp / name).write_text(
        f'[action]\nname = "both"\ncommand = ["sh", "-c", "echo $AGENTS_SUBPLAN_ID > {path}"]\n'
        'scope = "project"\n'
        "[action.decompose]\nmax_files_per_subplan = 1\nmin_files_per_subplan = 1\n",
        encoding="utf-8",
    )
    context.before = snapshot(context.tmp / "repo")


@given('the project "{project}" is a git repository with everything committed')
def step_git_repo(context: Any, project: str) -> None:
    root = context.tmp / project
    run_git(context, root, "init", "-q")
    run_git(context, root, "add", "-A")
    run_git(context, root, "commit", "-qm", "base")


@given('the project "{project}" has a symlink "{link}" to a directory outside it')
def step_symlink_out(context: Any, project: str, link: str) -> None:
    context.outside = Path(tempfile.mkdtemp(prefix="agents-outside-"))
    context.cleanups.append(lambda: shutil.rmtree(context.outside, ignore_errors=True))
    (context.tmp / project / link).symlink_to(context.outside, target_is_directory=True)
    context.before = snapshot(context.tmp / project)


@given('the project "{project}" has a symlink "{link}" to its file "{target}"')
def step_inside_link(context: Any, project: str, link: str, target: str) -> None:
    (context.tmp / project / link).symlink_to(target)


@then('the project "{project}" is byte for byte as it was')
def step_unchanged(context: Any, project: str) -> None:
    assert snapshot(context.tmp / project) == context.before


@then('the project "{project}" is byte for byte as it was after the edits')
def step_unchanged_after_edits(context: Any, project: str) -> None:
    assert snapshot(context.tmp / project) == context.after_edits


@then("the plan's recorded changes are")
def step_recorded(context: Any) -> None:
    got = [
        (c.path, c.kind.value, "" if c.mode is None else f"{c.mode:o}")
        for c in plan_changes(context)
    ]
    wanted = [(row["path"], row["change"], row["mode"]) for row in context.table]
    assert got == wanted, got


@then("the plan has no recorded changes")
def step_no_changes(context: Any) -> None:
    assert plan_changes(context) == [], plan_changes(context)


@then("each recorded change has the base hash of the project's file and the new content's hash")
def step_hashes(context: Any) -> None:
    recorded = recorded_contents(context)
    for change in plan_changes(context):
        base = context.before.get(change.path)
        if base is None:
            assert change.base_sha256 is None, change
        else:
            assert change.base_sha256 == hashlib.sha256(base[0]).hexdigest(), change
            assert change.base_mode == base[1], change
        new = recorded[change.path]
        assert change.new_sha256 == (None if new is None else hashlib.sha256(new).hexdigest())


@then("no sandbox of the plan is left in TMPDIR")
def step_no_sandbox(context: Any) -> None:
    left = list(Path(tempfile.gettempdir()).glob(f"agents-plan-{the_plan_id(context)}-*"))
    assert not left, left


@then('`git apply --check` accepts the diff in the project "{project}"')
def step_git_check(context: Any, project: str) -> None:
    run_git(context, context.tmp / project, "apply", "--check", "-", stdin=context.result.stdout)


@then(
    'after `git apply` of the diff a copy of the project "{project}" holds what the plan recorded'
)
def step_git_apply(context: Any, project: str) -> None:
    copy = context.tmp / "copy"
    shutil.copytree(context.tmp / project, copy, symlinks=True)
    run_git(context, copy, "apply", "-", stdin=context.result.stdout)
    holds_recorded(context, copy)


@then('the project "{project}" holds what the plan recorded')
def step_project_recorded(context: Any, project: str) -> None:
    holds_recorded(context, context.tmp / project)


@then('the file "{path}" has mode {mode}')
def step_mode(context: Any, path: str, mode: str) -> None:
    assert (context.tmp / path).stat().st_mode & 0o777 == int(mode, 8)


@then('no temp file of an apply is left in the project "{project}"')
def step_no_temp(context: Any, project: str) -> None:
    left = [p for p in (context.tmp / project).rglob("*.tmp") if ".agents-" in p.name]
    assert not left, left


@then('the leaf\'s output lists exactly its own files and "{text}"')
def step_workspace_listing(context: Any, text: str) -> None:
    (leaf,) = leaves(context)
    lines = (leaf.output_tail or "").splitlines()
    assert lines[-1] == text, lines
    assert sorted(line.removeprefix("./") for line in lines[:-1]) == sorted(leaf.files), lines


@then('the plan\'s only leaf failed with "{text}"')
def step_only_leaf_failed(context: Any, text: str) -> None:
    (leaf,) = leaves(context)
    assert leaf.state.value == "failed" and text in (leaf.error_message or ""), leaf


@then("the plan's only leaf's output is \"{text}\"")
def step_only_leaf_output(context: Any, text: str) -> None:
    (leaf,) = leaves(context)
    assert (leaf.output_tail or "").strip() == text, leaf.output_tail


@when('the project\'s file "{path}" is {what}')
def step_edit_project(context: Any, path: str, what: str) -> None:
    target = context.tmp / "repo" / path
    if what == "edited":
        target.write_bytes(target.read_bytes() + b"edited by hand\n")
    elif what == "deleted":
        target.unlink()
    elif what == "created":
        target.write_bytes(b"made by hand\n")
    else:  # replaced by a directory
        target.unlink()
        target.mkdir()
    context.after_edits = snapshot(context.tmp / "repo")


@then('the project\'s file "{path}" holds "{text}"')
def step_file_holds(context: Any, path: str, text: str) -> None:
    got = (context.tmp / "repo" / path).read_bytes()
    assert got == text.encode().decode("unicode_escape").encode(), got


@when('the project\'s file "{path}" gets mode {mode}')
def step_chmod(context: Any, path: str, mode: str) -> None:
    (context.tmp / "repo" / path).chmod(int(mode, 8))


@when('the project\'s symlink "{link}" is pointed outside the project')
def step_link_outside(context: Any, link: str) -> None:
    path = context.tmp / "repo" / link
    path.unlink()
    outside = Path(tempfile.mkdtemp(prefix="agents-outside-"))
    context.cleanups.append(lambda: shutil.rmtree(outside, ignore_errors=True))
    (outside / "secret.txt").write_text("secret\n", encoding="utf-8")
    path.symlink_to(outside / "secret.txt")


@then('every line of stdout is one JSON document, the last one with "{field}" "{value}"')
def step_json_lines(context: Any, field: str, value: str) -> None:
    documents = [json.loads(line) for line in context.result.stdout.splitlines()]
    assert documents and documents[-1][field] == value, documents[-1:]
