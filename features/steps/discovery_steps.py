"""Steps about discovering a project's files: real trees in the scenario's temp directory."""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path
from typing import Any

from behave import given, then, when

from cleveragents.errors import InvalidInputError
from cleveragents.plans.discovery import discover_files

OUTSIDE = "[outside]"  # in a link target: the directory next to the project, outside it


def _project(context: Any) -> Path:
    root: Path = context.tmp / "project"
    root.mkdir(exist_ok=True)
    return root


def _write(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@given("a project tree with the files")
def step_tree(context: Any) -> None:
    root = _project(context)
    for row in context.table:
        _write(root / row["path"], f"{row['path']}\n")


@given('the project file "{path}" reads')
def step_project_file(context: Any, path: str) -> None:
    _write(_project(context) / path, context.text + "\n")


@given("the files outside the project")
def step_outside(context: Any) -> None:
    for row in context.table:
        _write(context.tmp / "outside" / row["path"], "outside\n")


@given('the project link "{path}" points to "{target}"')
def step_link(context: Any, path: str, target: str) -> None:
    link = _project(context) / path
    link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target.replace(OUTSIDE, str(context.tmp / "outside")), link)


@given('the project directory "{path}" cannot be read')
def step_locked(context: Any, path: str) -> None:
    locked = _project(context) / path
    locked.chmod(0)
    # Give it back its permissions before the scenario's directory is removed.
    context.cleanups.append(lambda: locked.chmod(stat.S_IRWXU))


@when("discovering files")
def step_discover(context: Any) -> None:
    context.discovered = discover_files(_project(context))


@when("discovering files with the globs")
def step_discover_globs(context: Any) -> None:
    include = [row["include"] for row in context.table if row["include"]]
    exclude = [row["exclude"] for row in context.table if row["exclude"]]
    context.discovered = discover_files(_project(context), include=include, exclude=exclude)


@when("discovering files as an unprivileged user")
def step_discover_unprivileged(context: Any) -> None:
    root = _project(context)
    if os.geteuid() != 0:
        _assert_unlistable(root / "locked")
        context.discovered = discover_files(root)
        return
    # root reads any directory whatever its mode: look through an ordinary user's eyes for the
    # length of the walk (the effective uid only, so that it can be taken back). The temp
    # directory (mode 0700) must let that user reach the project.
    context.tmp.chmod(0o755)
    os.seteuid(pwd.getpwnam("nobody").pw_uid)
    try:
        _assert_unlistable(root / "locked")
        context.discovered = discover_files(root)
    finally:
        os.seteuid(0)


def _assert_unlistable(directory: Path) -> None:
    """The scenario means something only if the directory really cannot be listed."""
    try:
        os.listdir(directory)
    except PermissionError:
        return
    raise AssertionError(f"{directory} can be listed; the scenario would prove nothing")


@when('discovering files in "{root}" including "{include}"')
def step_discover_bad(context: Any, root: str, include: str) -> None:
    _project(context)
    context.error = None
    try:
        discover_files(context.tmp / root, include=[include])
    except InvalidInputError as exc:
        context.error = exc


@then("the discovered files are")
def step_discovered(context: Any) -> None:
    wanted = [row["path"] for row in context.table]
    assert context.discovered == wanted, context.discovered


@then("discovering the files again gives the same list")
def step_again(context: Any) -> None:
    assert discover_files(_project(context)) == context.discovered


@then('the discovery fails with "{text}"')
def step_discovery_fails(context: Any, text: str) -> None:
    assert context.error is not None, "discovered without error"
    message = context.error.message.replace(str(context.tmp), "[tmp]")
    assert text in message, message
    assert "\n" not in message, message
    assert context.error.exit_code == 2
