"""Steps for git-style patches: render a change, then let the real git apply it and check bytes.

A scenario describes a base tree and a target tree (files with exact bytes and modes), renders one
patch per changed file with :func:`render_patch`, and asks ``git apply`` in a fresh repository to
turn the base into the target. Git runs with no system or user configuration and no network.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
from pathlib import Path
from typing import Any

import parse
from behave import given, register_type, then, when

from cleveragents.plans.patches import (
    BINARY_SNIFF_BYTES,
    LineStats,
    git_blob_sha1,
    git_mode,
    is_binary,
    line_stats,
    render_patch,
)


@parse.with_pattern(r'[^"]*')
def _patch_text(text: str) -> str:
    return text


register_type(PatchText=_patch_text)  # quoted step text that may be empty (and holds no quote)

File = tuple[bytes, int]  # content and st_mode permission bits
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|n|r|t|\\)")
_SIMPLE_ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\"}
_IDENTITY = ["-c", "user.name=Patch Tester", "-c", "user.email=patch@example.invalid"]


def _unescape(text: str) -> bytes:
    r"""Bytes from step text: UTF-8, plus the escapes \n \r \t \\ and \xNN."""
    out = bytearray()
    pos = 0
    for match in _ESCAPE.finditer(text):
        out += text[pos : match.start()].encode("utf-8")
        code = match.group(1)
        out += bytes([int(code[1:], 16)]) if code.startswith("x") else _SIMPLE_ESCAPES[code]
        pos = match.end()
    out += text[pos:].encode("utf-8")
    return bytes(out)


def _path(text: str) -> str:
    return _unescape(text).decode("utf-8")


def _numbered(count: int) -> bytes:
    # Lines start with a digit so that git finds no "function name" to print after the @@ range.
    return b"".join(b"%03d some text\n" % number for number in range(1, count + 1))


def _random_bytes(count: int, seed: int) -> bytes:
    data = bytearray(random.Random(seed).randbytes(count))
    data[min(5, count - 1)] = 0  # a NUL in the first bytes: binary by git's rule
    return bytes(data)


def _base(context: Any) -> dict[str, File]:
    if not hasattr(context, "patch_base"):
        context.patch_base = {}
    base: dict[str, File] = context.patch_base
    return base


def _target(context: Any) -> dict[str, File]:
    if not hasattr(context, "patch_target"):
        context.patch_target = dict(_base(context))
    target: dict[str, File] = context.patch_target
    return target


def _git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run the real git with no system or user configuration, quoting paths like the default."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        HOME=str(cwd.parent),
        XDG_CONFIG_HOME=str(cwd.parent / "xdg"),
        LC_ALL="C",
    )
    argv = ["git", "-c", "core.quotePath=true", "-c", "core.autocrlf=false", *args]
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, timeout=60, check=False)
    if check:
        assert done.returncode == 0, (argv, done.returncode, done.stderr.decode(errors="replace"))
    return done


def _write_tree(root: Path, files: dict[str, File]) -> None:
    for path, (data, mode) in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode)


def _read_tree(root: Path) -> dict[str, tuple[bytes, bool]]:
    found = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if ".git" in relative.parts or not path.is_file():
            continue
        found[relative.as_posix()] = (path.read_bytes(), bool(path.stat().st_mode & 0o111))
    return found


def _expected(files: dict[str, File]) -> dict[str, tuple[bytes, bool]]:
    return {path: (data, bool(mode & 0o111)) for path, (data, mode) in files.items()}


def _assert_tree(root: Path, files: dict[str, File]) -> None:
    found, expected = _read_tree(root), _expected(files)
    assert sorted(found) == sorted(expected), (sorted(found), sorted(expected))
    for path, (data, executable) in expected.items():
        assert found[path][0] == data, (path, found[path][0][:200], data[:200])
        assert found[path][1] == executable, (path, f"executable: {executable}")


def _repo(context: Any, name: str, *, commit: bool) -> Path:
    root: Path = context.tmp / name
    root.mkdir()
    _git(root, "init", "-q")
    _write_tree(root, _base(context))
    if commit:
        _git(root, "add", "-A")
        _git(root, *_IDENTITY, "commit", "-q", "--allow-empty", "-m", "base")
    return root


def _changed_paths(context: Any) -> list[str]:
    base, target = _base(context), _target(context)
    return sorted(path for path in set(base) | set(target) if base.get(path) != target.get(path))


def _sides(context: Any, path: str) -> tuple[bytes | None, bytes | None, int | None, int | None]:
    old, new = _base(context).get(path), _target(context).get(path)
    return (
        None if old is None else old[0],
        None if new is None else new[0],
        None if old is None else old[1],
        None if new is None else new[1],
    )


# -- the base tree and the target tree -------------------------------------------------------------


@given('a patch base file "{path}" with the text "{text:PatchText}"')
def step_patch_base_text(context: Any, path: str, text: str) -> None:
    _base(context)[_path(path)] = (_unescape(text), 0o644)


@given('a patch base file "{path}" with {count:d} numbered lines')
def step_patch_base_numbered(context: Any, path: str, count: int) -> None:
    _base(context)[_path(path)] = (_numbered(count), 0o644)


@given('a patch base file "{path}" with {count:d} random bytes from seed {seed:d}')
def step_patch_base_random(context: Any, path: str, count: int, seed: int) -> None:
    _base(context)[_path(path)] = (_random_bytes(count, seed), 0o644)


@given('a patch base file "{path}" with {count:d} bytes of "{fill}" then the text "{text}"')
def step_patch_base_filled(context: Any, path: str, count: int, fill: str, text: str) -> None:
    _base(context)[_path(path)] = (_unescape(fill) * count + _unescape(text), 0o644)


@given('the patch base file "{path}" is executable')
def step_patch_base_exec(context: Any, path: str) -> None:
    data, _mode = _base(context)[_path(path)]
    _base(context)[_path(path)] = (data, 0o755)


@given('the patch target file "{path}" has the text "{text:PatchText}"')
def step_patch_target_text(context: Any, path: str, text: str) -> None:
    mode = _target(context).get(_path(path), (b"", 0o644))[1]
    _target(context)[_path(path)] = (_unescape(text), mode)


@given('the patch target file "{path}" has {count:d} random bytes from seed {seed:d}')
def step_patch_target_random(context: Any, path: str, count: int, seed: int) -> None:
    mode = _target(context).get(_path(path), (b"", 0o644))[1]
    _target(context)[_path(path)] = (_random_bytes(count, seed), mode)


@given('the patch target file "{path}" has {count:d} bytes of "{fill}" then the text "{text}"')
def step_patch_target_filled(context: Any, path: str, count: int, fill: str, text: str) -> None:
    mode = _target(context).get(_path(path), (b"", 0o644))[1]
    _target(context)[_path(path)] = (_unescape(fill) * count + _unescape(text), mode)


@given('the patch target file "{path}" has lines {numbers} {action}')
def step_patch_target_lines(context: Any, path: str, numbers: str, action: str) -> None:
    """Rewrite, remove, or insert a new line after, the given 1-based lines of the target."""
    data, mode = _target(context)[_path(path)]
    lines = data.splitlines(keepends=True)
    for number in sorted((int(n) for n in numbers.split(",")), reverse=True):
        if action == "rewritten":
            lines[number - 1] = lines[number - 1].rstrip(b"\n") + b" rewritten\n"
        elif action == "removed":
            del lines[number - 1]
        else:
            assert action == "followed by a new line", action
            lines.insert(number, b"%03d inserted\n" % number)
    _target(context)[_path(path)] = (b"".join(lines), mode)


@given('the patch target file "{path}" is deleted')
def step_patch_target_deleted(context: Any, path: str) -> None:
    del _target(context)[_path(path)]


@given('the patch target file "{path}" is made {kind}')
def step_patch_target_mode(context: Any, path: str, kind: str) -> None:
    assert kind in ("executable", "not executable"), kind
    data, _mode = _target(context)[_path(path)]
    _target(context)[_path(path)] = (data, 0o755 if kind == "executable" else 0o644)


# -- rendering and applying --------------------------------------------------------------------


@when("the patches are rendered")
@when("the patches are rendered with {lines:d} lines of context")
def step_patch_render(context: Any, lines: int = 3) -> None:
    paths = _changed_paths(context)
    context.patch = "".join(render_patch(p, *_sides(context, p), context=lines) for p in paths)


@then("the patch passes git apply --check and git apply turns the base into the target exactly")
def step_patch_applies(context: Any) -> None:
    assert context.patch.endswith("\n"), context.patch[-200:]
    patch_file = context.tmp / "change.patch"
    patch_file.write_bytes(context.patch.encode("utf-8"))
    root = _repo(context, "apply", commit=False)
    _git(root, "apply", "--check", str(patch_file))
    _git(root, "apply", str(patch_file))
    _assert_tree(root, _target(context))
    context.patch_applied = root


@then("the patch reversed with git apply -R turns the target back into the base exactly")
def step_patch_reverses(context: Any) -> None:
    root, patch_file = context.patch_applied, context.tmp / "change.patch"
    _git(root, "apply", "-R", "--check", str(patch_file))
    _git(root, "apply", "-R", str(patch_file))
    _assert_tree(root, _base(context))


@then("the patch is byte for byte what git diff prints")
@then("the patch is byte for byte what git diff {option} prints")
def step_patch_like_git(context: Any, option: str = "--patch") -> None:
    assert option in ("--patch", "--binary"), option  # --binary also writes full object names
    root = _repo(context, "diff", commit=True)
    for path in set(_base(context)) - set(_target(context)):
        (root / path).unlink()
    _write_tree(root, _target(context))
    _git(root, "add", "-A")
    done = _git(root, "diff", "--cached", "--no-renames", "--no-color", "--no-ext-diff", option)
    # git adds the nearest "function name" after a hunk's range; render_patch never does.
    printed = re.sub(r"^(@@ [^@]* @@).*$", r"\1", done.stdout.decode("utf-8"), flags=re.M)
    assert context.patch == printed, f"ours:\n{context.patch}\ngit's:\n{printed}"


@then("the patch line stats match git diff --numstat")
def step_patch_numstat(context: Any) -> None:
    root = _repo(context, "numstat", commit=True)
    for path in set(_base(context)) - set(_target(context)):
        (root / path).unlink()
    _write_tree(root, _target(context))
    _git(root, "add", "-A")
    done = _git(root, "diff", "--cached", "--no-renames", "--numstat", "-z")
    numbers = {}
    for entry in done.stdout.decode("utf-8").split("\0"):
        if entry:
            added, removed, path = entry.split("\t", 2)
            numbers[path] = LineStats(int(added.replace("-", "0")), int(removed.replace("-", "0")))
    ours = {path: line_stats(*_sides(context, path)[:2]) for path in _changed_paths(context)}
    assert ours == numbers, (ours, numbers)


@then('the patch line stats of "{path}" are +{added:d} -{removed:d}')
def step_patch_stats(context: Any, path: str, added: int, removed: int) -> None:
    stats = line_stats(*_sides(context, _path(path))[:2])
    assert stats == LineStats(added, removed), stats


@then("the patch has {count:d} hunks")
def step_patch_hunks(context: Any, count: int) -> None:
    hunks = [line for line in context.patch.splitlines() if line.startswith("@@ ")]
    assert len(hunks) == count, hunks


@then('the patch has the line "{line}"')
def step_patch_has_line(context: Any, line: str) -> None:
    wanted = _unescape(line).decode("utf-8")
    assert wanted in context.patch.split("\n"), context.patch


@then('the patch does not contain "{text}"')
def step_patch_lacks(context: Any, text: str) -> None:
    assert _unescape(text).decode("utf-8") not in context.patch, context.patch


@then("the patch is empty")
def step_patch_empty(context: Any) -> None:
    assert context.patch == "", context.patch


@then("the patch of a file absent on both sides is empty")
def step_patch_absent(context: Any) -> None:
    assert render_patch("ghost.txt", None, None, None, None) == ""
    assert line_stats(None, None) == LineStats(0, 0)


# -- the helpers on their own ------------------------------------------------------------------


@then('the patch sniffer calls {count:d} bytes of "{fill}" then "{text}" {verdict}')
def step_patch_sniff(context: Any, count: int, fill: str, text: str, verdict: str) -> None:
    assert verdict in ("binary", "text"), verdict
    data = _unescape(fill) * count + _unescape(text)
    assert is_binary(data) == (verdict == "binary"), (data[-20:], verdict)


@then("the patch sniffer looks at the first {count:d} bytes")
def step_patch_sniff_size(context: Any, count: int) -> None:
    assert count == BINARY_SNIFF_BYTES


@then('the patch blob name of "{text:PatchText}" is what git hash-object prints')
def step_patch_blob(context: Any, text: str) -> None:
    data = _unescape(text)
    source = context.tmp / "blob"
    source.write_bytes(data)
    done = _git(context.tmp, "hash-object", "--no-filters", str(source))
    assert git_blob_sha1(data) == done.stdout.decode("ascii").strip()


@then('the patch mode of {mode} is "{expected}"')
def step_patch_mode(context: Any, mode: str, expected: str) -> None:
    assert git_mode(None if mode == "None" else int(mode, 8)) == expected
