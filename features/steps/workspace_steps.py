"""Steps for whole-project workspaces: overlays, their fallback, and what is recorded."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from behave import given, then, when
from cli_steps import run_cli
from sandbox_helpers import recorded_contents, run_git, snapshot
from typer.testing import CliRunner

import cleveragents
import cleveragents.diagnostics.checks as checks
import cleveragents.plans.workspaces as workspaces
from cleveragents.cli.app import app


@given('the action "{name}" for the files "{glob}" running')
def step_action_for(context: Any, name: str, glob: str) -> None:
    script = " ".join(context.text.split("\n"))
    literal = "'''" + script + "'''"  # a TOML literal string: no escapes
    (context.tmp / name).write_text(
        f'[action]\nname = "{Path(name).stem}"\ncommand = ["sh", "-c", {literal}]\n'
        f'include = ["{glob}"]\nisolation = "sandbox"\n',
        encoding="utf-8",
    )
    context.before = snapshot(context.tmp / "repo")


@given('the action "{name}" has isolation "{isolation}"')
def step_isolation(context: Any, name: str, isolation: str) -> None:
    path = context.tmp / name
    text = re.sub(r'(?m)^isolation = ".*"$', f'isolation = "{isolation}"', path.read_text())
    path.write_text(text, encoding="utf-8")


@given('overlays are refused here with "{reason}"')
def step_refused(context: Any, reason: str) -> None:
    saved = (workspaces.overlay_problem, checks.overlay_problem)

    def refused(*_args: Any) -> str:
        return reason

    workspaces.overlay_problem = refused
    checks.overlay_problem = refused

    def restore() -> None:
        workspaces.overlay_problem, checks.overlay_problem = saved

    context.cleanups.append(restore)


@given("overlays are as this machine has them")
def step_machine_overlays(context: Any) -> None:
    """Nothing to change: the real probe runs."""


@given('the setting "{key}" is "{value}"')
def step_setting_env(context: Any, key: str, value: str) -> None:
    section, _, name = key.partition(".")
    context.env[f"AGENTS_{section.upper()}__{name.upper()}"] = value


@then('the plan\'s recorded file "{path}" holds "{text}"')
def step_recorded_file(context: Any, path: str, text: str) -> None:
    got = recorded_contents(context)[path]
    wanted = text.encode().decode("unicode_escape").encode()
    assert got == wanted, got


@then('the project "{project}" has no file "{path}"')
def step_no_file(context: Any, project: str, path: str) -> None:
    assert not (context.tmp / project / path).exists(), path


@given('the project\'s file "{path}" has a hard link "{link}" outside the project')
def step_hard_link(context: Any, path: str, link: str) -> None:
    os.link(context.tmp / "repo" / path, context.tmp / link)


@given(
    'a sandboxed action "{name}" that edits "{path}" and then the project\'s copy through "{link}"'
)
def step_racing_action(context: Any, name: str, path: str, link: str) -> None:
    # The hard link lies outside the overlay, so writing through it edits the project's file
    # itself while the leaf runs, as another process would.
    script = f"printf 'ONE\\n' > {path}; printf 'edited meanwhile\\n' > {context.tmp / link}"
    (context.tmp / name).write_text(
        f'[action]\ncommand = ["sh", "-c", "{script}"]\nscope = "project"\n', encoding="utf-8"
    )


@given(
    'an action "{name}" for the files "{glob}" that edits "{path}" and then the project\'s copy '
    'through "{link}"'
)
def step_racing_other(context: Any, name: str, glob: str, path: str, link: str) -> None:
    script = f"printf 'NEW\\n' > {path}; printf 'edited meanwhile\\n' > {context.tmp / link}"
    (context.tmp / name).write_text(
        f'[action]\ncommand = ["sh", "-c", "{script}"]\ninclude = ["{glob}"]\nscope = "project"\n',
        encoding="utf-8",
    )


@given(
    'a git worktree "{name}" of the project "{project}" on the branch "{branch}", '
    "added as a project"
)
def step_worktree(context: Any, name: str, project: str, branch: str) -> None:
    root = context.tmp / project
    run_git(context, root, "worktree", "add", "-q", str(context.tmp / name), "-b", branch)
    context.first_commit = run_git(context, root, "rev-parse", branch).strip()
    run_cli(context, f"project add {context.tmp / name} --name {name}")


@then('the branch "{branch}" of the project "{project}" still points at its first commit')
def step_branch_unmoved(context: Any, branch: str, project: str) -> None:
    now = run_git(context, context.tmp / project, "rev-parse", branch).strip()
    assert now == context.first_commit, (now, context.first_commit)


@given('the directory "{sub}" of the project "{project}" is added as the project "{name}"')
def step_sub_project(context: Any, sub: str, project: str, name: str) -> None:
    run_cli(context, f"project add {context.tmp / project / sub} --name {name}")


@given('a directory is mounted on "{where}" inside the project "{project}"')
def step_nested_mount(context: Any, where: str, project: str) -> None:
    source = context.tmp / "mounted"
    source.mkdir()
    (source / "v.txt").write_text("vendored\n", encoding="utf-8")
    target = context.tmp / project / where
    target.mkdir()
    subprocess.run(["mount", "--bind", str(source), str(target)], check=True)
    context.cleanups.append(lambda: subprocess.run(["umount", "-l", str(target)], check=False))


@when(
    "user {uid:d} runs a plan that appends a line to each file of a project of theirs, with --apply"
)
def step_other_user_plan(context: Any, uid: int) -> None:
    context.tmp.chmod(0o711)
    home = context.tmp / "theirs"
    project = home / "project"
    (project / "pkg").mkdir(parents=True)
    for name in ("a.txt", "pkg/b.txt"):
        (project / name).write_text(f"{name}\n", encoding="utf-8")
    action = home / "append.toml"
    action.write_text(
        '[action]\ncommand = ["sh", "-c", "for f; do echo added >> $f; done", "sh", "{files}"]\n',
        encoding="utf-8",
    )
    # The database is made here, as root: the migrations' scripts may lie where another user
    # cannot look (a checkout under a private directory), and at head they are not read again.
    made = CliRunner().invoke(
        app,
        ["db", "upgrade"],
        env={"AGENTS_CONFIG": str(home / "config.toml"), "XDG_DATA_HOME": str(home / "data")},
    )
    assert made.exit_code == 0, made.output
    for path in (home, *home.rglob("*")):
        os.chown(path, uid, uid)
    agents = str(Path(sys.executable).with_name("agents"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": str(home),
        "AGENTS_CONFIG": str(home / "config.toml"),
        "XDG_DATA_HOME": str(home / "data"),
        "PYTHONPATH": str(Path(cleveragents.__file__).parents[1]),
    }
    script = (
        f'"{agents}" project add "{project}" --name theirs && '
        f'"{agents}" plan run --project theirs --action "{action}" --apply'
    )
    argv = [
        "setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=+dac_read_search",  # to reach this interpreter wherever it is (/root...)
        "--ambient-caps=+dac_read_search",
        "sh",
        "-c",
        script,
    ]
    context.other_run = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    context.other_project = project


@then("that run used overlays, exited 0, and each file of their project has the line appended")
def step_other_user_plan_done(context: Any) -> None:
    done = context.other_run
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "workspaces: overlay of the project" in done.stderr, done.stderr
    for name in ("a.txt", "pkg/b.txt"):
        text = (context.other_project / name).read_text(encoding="utf-8")
        assert text == f"{name}\nadded\n", (name, text)


@given('a project "{name}" on a tmpfs holding "{first}" and "{second}", added')
def step_tmpfs_project(context: Any, name: str, first: str, second: str) -> None:
    shm = Path("/dev/shm")
    assert shm.is_dir() and os.statvfs(shm).f_bsize, "no /dev/shm tmpfs on this machine"
    root = Path(tempfile.mkdtemp(prefix="agents-feature-", dir=shm)) / name
    root.mkdir()
    context.cleanups.append(lambda: shutil.rmtree(root.parent, ignore_errors=True))
    for path in (first, second):
        (root / path).write_text(f"{path}\n", encoding="utf-8")
    run_cli(context, f"project add {root} --name {name}")
