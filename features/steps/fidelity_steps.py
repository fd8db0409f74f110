"""Steps for fidelity: a real tool run through `agents plan run --apply` must leave the project
byte for byte as the same tool run directly in a copy of it leaves that copy.

The scenario's directory holds copies of one generated project (fidelity_project.py): "direct",
where the tool runs as a user would run it (``ruff format .``), "agents", registered as a project
and changed only by ``agents plan run --apply`` of an action running the tool on ``{files}``, and
"fresh", which stays as generated until the plan's diff is applied to it with git.
"""

from __future__ import annotations

import difflib
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import tomli_w
from behave import given, then, when
from cli_steps import fill, run_cli
from fidelity_project import write_project
from plan_helpers import leaves
from sandbox_helpers import run_git

CACHE_DIRS = frozenset({".ruff_cache", "__pycache__", ".mypy_cache", ".pytest_cache"})
"""Directories tools keep for themselves: left out of the comparison, never a recorded change."""
SKIPPED_DIRS = CACHE_DIRS | {".git", ".agents"}

RENAME_CALLS = '''\
"""Rename calls: in each file named on the command line, calls to the function that the
project's shop/names.py names OLD become calls to NEW. Run from the project's root."""
import re
import sys
from pathlib import Path

sys.path.insert(0, ".")  # the project in the current directory, as a user runs it
from shop import names  # noqa: E402

call = re.compile(r"\\b" + re.escape(names.OLD) + r"(?=\\()")
for name in sys.argv[1:]:
    path = Path(name)
    text = path.read_text(encoding="utf-8")
    renamed = call.sub(names.NEW, text)
    if renamed != text:
        path.write_text(renamed, encoding="utf-8")
'''


def _tool(name: str) -> list[str]:
    """How to start ``name`` from the Python running the tests: its console script next to
    ``sys.executable`` (what a user's shell finds in an active virtualenv), else ``-m``."""
    if name == "python":
        return [sys.executable]
    script = Path(sys.executable).parent / name
    return [str(script)] if script.is_file() else [sys.executable, "-m", name]


def _python_files(root: Path) -> list[str]:
    """The Python files a user would name: git's list in a repository (what .gitignore leaves),
    else every one under the root."""
    if (root / ".git").is_dir():
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "*.py"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return sorted(listed.splitlines())
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))


def _argv(context: Any, command: str, root: Path | None) -> list[str]:
    """``command`` as an argv: its program resolved by :func:`_tool`, ``[codemod]`` the rename
    script, ``[python files]`` the Python files under ``root``; ``{files}`` is left as it is."""
    words = shlex.split(command.replace("[python files]", "[python_files]"))
    argv = _tool(words[0])
    for word in words[1:]:
        if word == "[codemod]":
            argv.append(str(context.codemod))
        elif word == "[python_files]":
            assert root is not None, "[python files] only in a direct run"
            argv.extend(_python_files(root))
        else:
            argv.append(fill(context, word))
    return argv


def _tree(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root``, its bytes and permission bits; caches, .git and .agents aside."""
    found: dict[str, tuple[bytes, int]] = {}
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in files:
            path = Path(directory) / name
            assert not path.is_symlink(), path
            found[path.relative_to(root).as_posix()] = (
                path.read_bytes(),
                path.stat().st_mode & 0o777,
            )
    return found


def _compare(got_root: Path, want_root: Path) -> None:
    """Fail naming every path that differs, with the first differing file's diff."""
    got, want = _tree(got_root), _tree(want_root)
    only_got = sorted(set(got) - set(want))
    only_want = sorted(set(want) - set(got))
    differ = sorted(p for p in set(got) & set(want) if got[p] != want[p])
    if not (only_got or only_want or differ):
        return
    lines = [
        f"{got_root.name} and {want_root.name} differ: {len(differ)} files differ, "
        f"{len(only_got)} only in {got_root.name}, {len(only_want)} only in {want_root.name}"
    ]
    lines += [f"  differs: {p}" for p in differ[:10]]
    lines += [f"  only in {got_root.name}: {p}" for p in only_got[:10]]
    lines += [f"  only in {want_root.name}: {p}" for p in only_want[:10]]
    if differ:
        first = differ[0]
        if got[first][1] != want[first][1]:
            lines.append(f"  {first}: mode {got[first][1]:o} != {want[first][1]:o}")
        diff = difflib.unified_diff(
            want[first][0].decode("utf-8", "replace").splitlines(),
            got[first][0].decode("utf-8", "replace").splitlines(),
            f"{want_root.name}/{first}",
            f"{got_root.name}/{first}",
            lineterm="",
            n=1,
        )
        lines += list(diff)[:40]
    raise AssertionError("\n".join(lines))


def _env(context: Any) -> dict[str, str]:
    """The environment of the direct run: the one `agents` and its commands run with."""
    merged = {**os.environ, **context.env, **getattr(context, "extra_env", {})}
    return {k: v for k, v in merged.items() if v is not None}


@given('a generated Python project {variant}, copied to "{first}", "{second}" and "{third}"')
def step_generated_project(context: Any, variant: str, first: str, second: str, third: str) -> None:
    assert variant in ("with a .gitignore", "without a .gitignore"), variant
    original = context.tmp / "original"
    write_project(original, gitignore=variant == "with a .gitignore")
    for name in (first, second, third):
        shutil.copytree(original, context.tmp / name, symlinks=True)
    context.extra_env = {
        **getattr(context, "extra_env", {}),
        # black keeps a cache of formatted files in the user's cache directory: the scenario's own
        "BLACK_CACHE_DIR": str(context.tmp / "black-cache"),
        # Python writes __pycache__ as it does by default, whatever the machine's environment says
        "PYTHONDONTWRITEBYTECODE": None,
    }
    context.codemod = context.tmp / "rename_calls.py"
    context.codemod.write_text(RENAME_CALLS, encoding="utf-8")


@given('an action file "{name}" running `{command}` with isolation "{isolation}"')
def step_tool_action(context: Any, name: str, command: str, isolation: str) -> None:
    argv = _argv(context, command, None)
    assert "{files}" in argv, argv
    action = {
        "action": {
            "name": Path(name).stem,
            "command": argv,
            "include": ["**/*.py"],
            "isolation": isolation,
            # several leaves of a few files each: no leaf holds the whole project
            "decompose": {"max_files_per_subplan": 8, "min_files_per_subplan": 2},
            "profile": {"failure_mode": "continue_on_error", "max_parallel": 4},
        }
    }
    (context.tmp / name).write_text(tomli_w.dumps(action), encoding="utf-8")
    context.isolation = isolation


@when('the user runs `{command}` in the copy "{copy}"')
def step_direct_run(context: Any, command: str, copy: str) -> None:
    root = context.tmp / copy
    argv = _argv(context, command, root)
    done = subprocess.run(argv, cwd=root, env=_env(context), capture_output=True, check=False)
    assert done.returncode == 0, (
        f"{command} exited {done.returncode} in {copy}:\n"
        + (done.stdout + done.stderr).decode("utf-8", "replace")[-2000:]
    )


@then("the plan ran every subplan to completion and was applied")
def step_plan_applied(context: Any) -> None:
    result = context.result
    if result.exit_code == 0:
        return
    failed = [
        f"  {leaf.label}: {leaf.error_message}"
        for leaf in leaves(context)
        if leaf.state.value != "completed"
    ]
    last = (result.stdout + result.stderr).strip().splitlines()[-1:]
    raise AssertionError(
        "\n".join(
            [
                f"plan run --apply exited {result.exit_code}; "
                f"{len(failed)} of {len(leaves(context))} subplans did not complete",
                *failed[:8],
                *last,
            ]
        )
    )


@then('the copy "{got}" is byte for byte the copy "{want}", tool caches aside')
def step_same_tree(context: Any, got: str, want: str) -> None:
    _compare(context.tmp / got, context.tmp / want)


@then("no change the plan recorded is in a tool's cache")
def step_no_cache_recorded(context: Any) -> None:
    result = run_cli(context, "plan diff [plan] --json")
    assert result.exit_code == 0, result.stderr
    paths = [change["path"] for change in json.loads(result.stdout)]
    cached = sorted({p for p in paths if CACHE_DIRS.intersection(p.split("/"))})
    assert not cached, f"recorded changes in caches ({len(paths)} changes in all): {cached[:10]}"


@then(
    'the plan\'s diff passes `git apply --check` in the copy "{fresh}" and, applied there, '
    'gives the copy "{want}"'
)
def step_diff_applies(context: Any, fresh: str, want: str) -> None:
    result = run_cli(context, "plan diff [plan]")
    if context.isolation == "in-place":
        # nothing is recorded in place (docs/sandbox.md): the project was changed directly
        assert result.stdout == "", result.stdout[:2000]
        assert "ran in place" in result.stderr, result.stderr
        return
    assert result.exit_code == 0, result.stderr
    patch = result.stdout
    assert patch.startswith("diff --git "), patch[:2000]
    run_git(context, context.tmp / fresh, "apply", "--check", "-", stdin=patch)
    run_git(context, context.tmp / fresh, "apply", "-", stdin=patch)
    _compare(context.tmp / fresh, context.tmp / want)
