"""Steps for file names that are not UTF-8 or hold a newline: the project's files, what a command
got, what the plan recorded, and the path codec of ``domain/paths.py``.

A file name is written in a step as a Python bytes literal (``b"bad\\xff.txt"``), so a step says
exactly which bytes it means; a list of them is separated by ", ".
"""

from __future__ import annotations

import ast
import json
import os
import re
from typing import Any

from behave import given, then, when
from plan_helpers import write_action
from sandbox_helpers import plan_changes, snapshot

from cleveragents.domain.paths import (
    display_path,
    path_from_text,
    path_to_text,
    paths_from_text,
    paths_to_text,
    safe_text,
)

# Records its argv (each argument NUL-ended) and a copy of its files list next to the project,
# then appends a line to each file it was given.
_APPEND = (
    'printf "%s\\0" "$@" > "$LOG/argv"; cp "$AGENTS_FILES_FILE" "$LOG/files"; '
    'for f; do printf "added\\n" >> "$f"; done'
)


def _bytes(literal: str) -> bytes:
    value = ast.literal_eval(literal)
    assert isinstance(value, bytes), literal
    return value


def _many(literals: str) -> list[bytes]:
    return [_bytes(part) for part in literals.split(", ")]


@given('the project "{project}" holds a file named {name} with the bytes {content}')
@when('the project "{project}" holds a file named {name} with the bytes {content}')
def step_named_file(context: Any, project: str, name: str, content: str) -> None:
    target = os.path.join(os.fsencode(context.tmp / project), _bytes(name))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as out:
        out.write(_bytes(content))


@given('an action file "{name}" that appends a line to each of its files')
def step_append_action(context: Any, name: str) -> None:
    _append_action(context, name, "")


@given('an action file "{name}" that appends a line to each of its files, listed NUL-separated')
def step_append_action_nul(context: Any, name: str) -> None:
    _append_action(context, name, 'files_separator = "nul"\n')


def _append_action(context: Any, name: str, extra: str) -> None:
    script = f"LOG='{context.tmp}'; {_APPEND}"
    write_action(context, name, ["sh", "-c", script, "sh", "{files}"], extra)
    context.before = snapshot(context.tmp / "repo")


@then("the command got the arguments {names}")
def step_arguments(context: Any, names: str) -> None:
    got = (context.tmp / "argv").read_bytes().split(b"\0")[:-1]
    assert got == _many(names), got


@then("the files list the command got is {content}")
def step_files_list(context: Any, content: str) -> None:
    got = (context.tmp / "files").read_bytes()
    assert got == _bytes(content), got


@then("the command never ran")
def step_never_ran(context: Any) -> None:
    assert not (context.tmp / "argv").exists()


@then("the plan recorded changes to the files named {names}")
def step_recorded_names(context: Any, names: str) -> None:
    got = sorted(os.fsencode(change.path) for change in plan_changes(context))
    assert got == sorted(_many(names)), got


@then('the project\'s file named {name} in "{project}" holds {content}')
def step_named_holds(context: Any, name: str, project: str, content: str) -> None:
    with open(os.path.join(os.fsencode(context.tmp / project), _bytes(name)), "rb") as handle:
        got = handle.read()
    assert got == _bytes(content), got


@then('the project "{project}" holds exactly the files named {names}')
def step_exact_names(context: Any, project: str, names: str) -> None:
    got = sorted(os.listdir(os.fsencode(context.tmp / project)))
    assert got == sorted(_many(names)), got


@when("the file name {name} is stored, shown and written as prose")
def step_codec(context: Any, name: str) -> None:
    context.raw = _bytes(name)
    path = os.fsdecode(context.raw)
    context.stored = path_to_text(path)
    context.stored.encode("utf-8")  # what a text column must accept
    context.back = path_from_text(context.stored)
    context.shown = display_path(path)
    context.prose = safe_text(f"in {path}")
    assert paths_from_text(paths_to_text([path, "plain.txt"])) == [context.back, "plain.txt"]


def _str(literal: str) -> str:
    value = ast.literal_eval(literal)
    assert isinstance(value, str), literal
    return value


@then("its stored text is {text}, read back as the same bytes")
def step_codec_stored(context: Any, text: str) -> None:
    assert context.stored == _str(text), context.stored
    assert os.fsencode(context.back) == context.raw, context.back
    assert path_to_text(context.back) == context.stored


@then("it is shown as {shown} and written as prose {prose}")
def step_codec_shown(context: Any, shown: str, prose: str) -> None:
    assert context.shown == _str(shown), context.shown
    assert context.prose == f"in {_str(prose)}", context.prose


@then("the stored text {text} is refused as a path")
def step_codec_refused(context: Any, text: str) -> None:
    try:
        path_from_text(_str(text))
    except ValueError as exc:
        assert "is not a stored path" in str(exc), exc
    else:
        raise AssertionError(f"{text!r} was read as a path")


@then("the string {text} is no file name: prose {prose}, shown as {shown}")
def step_codec_no_name(context: Any, text: str, prose: str, shown: str) -> None:
    value = _str(text)
    try:
        path_to_text(value)
    except ValueError as exc:
        assert "is not a file name" in str(exc), exc
    else:
        raise AssertionError(f"{value!r} was stored as a path")
    assert safe_text(value) == _str(prose), safe_text(value)
    assert display_path(value) == _str(shown), display_path(value)


@then("each line of stdout is JSON holding no lone surrogate")
def step_json_lines_clean(context: Any) -> None:
    lines = context.result.stdout.splitlines()
    assert lines
    for line in lines:
        assert not re.search(r"\\ud[89a-f]", line, re.IGNORECASE), line
        json.loads(line)


@then("the string {text} is stored as {stored}")
def step_codec_normalised(context: Any, text: str, stored: str) -> None:
    assert path_to_text(_str(text)) == _str(stored), path_to_text(_str(text))
