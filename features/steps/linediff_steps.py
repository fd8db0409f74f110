"""Steps for line diffs checked against ``git diff --no-index``: repetitive files, where a diff
algorithm has many equally short edits to choose from (and difflib took quadratic time).

The base and target trees are the ones ``patch_steps`` keeps (``context.patch_base`` and
``context.patch_target``); these steps add repetitive files to them and compare one file's hunks
and line counts with what the real git prints for the same two files outside any repository.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
from pathlib import Path
from typing import Any

from behave import given, then

from cleveragents.plans.patches import LineStats, line_stats, render_patch

_FUNCTION_NAME = re.compile(r"^(@@ [^@]* @@).*$", re.M)


def _trees(context: Any) -> tuple[dict[str, tuple[bytes, int]], dict[str, tuple[bytes, int]]]:
    if not hasattr(context, "patch_base"):
        context.patch_base = {}
    if not hasattr(context, "patch_target"):
        context.patch_target = dict(context.patch_base)
    return context.patch_base, context.patch_target


def _no_index(context: Any, path: str, *options: str) -> str:
    """What ``git diff --no-index OPTIONS old new`` prints for the base and target of ``path``."""
    base, target = _trees(context)
    sides = []
    for name, tree in (("old", base), ("new", target)):
        file = context.tmp / "no-index" / name / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(tree[path][0])
        sides.append(str(file.relative_to(context.tmp / "no-index")))
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", HOME=str(context.tmp), LC_ALL="C")
    argv = ["git", "diff", "--no-index", "--no-color", "--no-ext-diff", *options, *sides]
    cwd = Path(context.tmp / "no-index")
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, timeout=60, check=False)
    assert done.returncode == 1, (argv, done.returncode, done.stderr.decode(errors="replace"))
    return done.stdout.decode("utf-8")


def _hunks(patch: str) -> str:
    """A patch from its first hunk on, without the function names git adds after a range."""
    start = patch.find("\n@@ ")
    assert start != -1, patch[:500]
    return _FUNCTION_NAME.sub(r"\1", patch[start + 1 :])


@given('a patch base file "{path}" with {count:d} copies of the line "{text}"')
def step_repetitive_base(context: Any, path: str, count: int, text: str) -> None:
    if not hasattr(context, "patch_base"):
        context.patch_base = {}  # the target tree is copied from it at its first step
    context.patch_base[path] = ((text + "\n").encode("utf-8") * count, 0o644)


@given('the patch target file "{path}" has line {number:d} changed to "{text}"')
def step_repetitive_change(context: Any, path: str, number: int, text: str) -> None:
    _base, target = _trees(context)
    data, mode = target[path]
    lines = data.splitlines(keepends=True)
    lines[number - 1] = (text + "\n").encode("utf-8")
    target[path] = (b"".join(lines), mode)


@then('the patch hunks of "{path}" are what git diff --no-index prints')
def step_hunks_like_no_index(context: Any, path: str) -> None:
    base, target = _trees(context)
    ours = render_patch(path, base[path][0], target[path][0], 0o644, 0o644)
    theirs = _no_index(context, path)
    assert _hunks(ours) == _hunks(theirs), f"ours:\n{_hunks(ours)}\ngit's:\n{_hunks(theirs)}"


@then('the patch line stats of "{path}" are what git diff --no-index --numstat prints')
def step_stats_like_no_index(context: Any, path: str) -> None:
    base, target = _trees(context)
    added, removed, _name = _no_index(context, path, "--numstat").split("\t", 2)
    expected = LineStats(int(added), int(removed))
    assert line_stats(base[path][0], target[path][0]) == expected, expected


def _drawn(count: int, kinds: int, seed: int) -> bytes:
    """``count`` lines, each one of ``kinds`` different lines picked at random from ``seed``."""
    pick = random.Random(seed)
    return b"".join(b"line %d\n" % pick.randrange(kinds) for _ in range(count))


@given('a patch base file "{path}" with {count:d} lines of {kinds:d} kinds from seed {seed:d}')
def step_drawn_base(context: Any, path: str, count: int, kinds: int, seed: int) -> None:
    if not hasattr(context, "patch_base"):
        context.patch_base = {}
    context.patch_base[path] = (_drawn(count, kinds, seed), 0o644)


@given('the patch target file "{path}" has {count:d} lines of {kinds:d} kinds from seed {seed:d}')
def step_drawn_target(context: Any, path: str, count: int, kinds: int, seed: int) -> None:
    _base, target = _trees(context)
    target[path] = (_drawn(count, kinds, seed), 0o644)


_CODE = [
    "def f():",
    "    return 1",
    "",
    "    x = 1",
    "}",
    "\tif x:",
    "\t    pass",
    " " * 250 + "deep",
    "    ",
    "class A:",
    "        y = 2",
]


def _code(count: int, pick: random.Random) -> list[bytes]:
    lines: list[bytes] = []
    while len(lines) < count:
        if pick.random() < 0.02:
            lines.extend([b"\n"] * 21)  # a long run of blank lines
        lines.append((pick.choice(_CODE) + "\n").encode("utf-8"))
    return lines[:count]


@given('a patch base file "{path}" with {count:d} code-like lines from seed {seed:d}')
def step_code_base(context: Any, path: str, count: int, seed: int) -> None:
    if not hasattr(context, "patch_base"):
        context.patch_base = {}
    context.patch_base[path] = (b"".join(_code(count, random.Random(seed))), 0o644)


@given('the patch target file "{path}" has {count:d} code-like edits from seed {seed:d}')
def step_code_edits(context: Any, path: str, count: int, seed: int) -> None:
    """Blocks of the file copied elsewhere in it and runs of lines removed: edits that could be
    shown in several places."""
    _base, target = _trees(context)
    data, mode = target[path]
    lines = data.splitlines(keepends=True)
    pick = random.Random(seed)
    for _ in range(count):
        at = pick.randrange(len(lines))
        size = pick.randint(1, 6)
        if pick.random() < 0.6:
            source = pick.randrange(len(lines))
            lines[at:at] = lines[source : source + size]
        else:
            del lines[at : at + size]
    target[path] = (b"".join(lines), mode)
