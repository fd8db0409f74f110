"""Built-in actions (``builtin:NAME``): plain Python callables shipped with the package.

They let the tool, its demos and its tests run plans with no external program installed. Each gets
its subplan's files as relative POSIX paths under ``ctx.workspace`` (the sandbox, or the project
itself for ``isolation = "in-place"``) and returns an
:class:`ActionOutcome`; a failure of the action is an exit code, never an exception. Files are read
as bytes, in chunks, so binary, huge or unreadable files never crash a built-in.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cleveragents.errors import ActionError
from cleveragents.runtime.tokens import CancellationToken

CHUNK_BYTES = 1 << 20  # read files a mebibyte at a time: memory stays flat on huge files
BINARY_SNIFF_BYTES = 8000  # a NUL in the first 8000 bytes makes a file binary, as for git
NAMED_FILES = 5  # files a failure message names before "and N more"


@dataclass(frozen=True)
class ActionContext:
    """What a built-in knows about the subplan it runs for."""

    plan_id: str
    subplan_id: str
    project_root: Path
    params: Mapping[str, Any]
    token: CancellationToken
    workspace: Path | None = None  # where the files are; None: the project itself

    @property
    def root(self) -> Path:
        """The directory the subplan's paths are relative to."""
        return self.workspace if self.workspace is not None else self.project_root


@dataclass(frozen=True)
class ActionOutcome:
    """How a built-in ended: ``exit_code`` 0 is success; ``output`` is kept as the output tail."""

    exit_code: int
    output: str


@dataclass(frozen=True)
class BuiltinAction:
    """A built-in action: its name, what it does, its parameters and the callable that runs it."""

    name: str
    description: str
    params_model: type[BaseModel]
    run: Callable[[Sequence[str], ActionContext], ActionOutcome]
    include: tuple[str, ...] = ("**/*",)
    writes: bool = False  # only a built-in that writes needs a sandbox by default


class NoParams(BaseModel):
    """No parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class MarkerParams(BaseModel):
    """``fail-on-marker``: the text whose presence fails a file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    marker: str = Field("AGENTS-FAIL", min_length=1)


class SleepParams(BaseModel):
    """``sleep``: how long to wait."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seconds: float = Field(1.0, ge=0, le=3600)


class ReplaceParams(BaseModel):
    """``replace``: a regular expression and what to put in its place."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str = Field(r"[ \t]+$", min_length=1)  # by default: strip trailing whitespace
    replacement: str = ""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern, re.MULTILINE)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return pattern


class ParamsError(ActionError):
    """The action's parameters are not valid; ``loc`` names the parameter."""

    def __init__(self, loc: tuple[str, ...], detail: str) -> None:
        super().__init__(f"params.{'.'.join(loc)}: {detail}" if loc else f"params: {detail}")
        self.loc = loc
        self.detail = detail


def check_params(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` validated against built-in ``name``'s model, with defaults filled in.

    Raises :class:`ParamsError` naming the first bad parameter.
    """
    model = BUILTIN_ACTIONS[name].params_model
    try:
        return model.model_validate(dict(params)).model_dump(mode="json")
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(str(part) for part in first["loc"])
        detail = str(first["msg"])
        if first["type"] == "extra_forbidden":
            known = ", ".join(model.model_fields) or "none"
            detail = f"unknown parameter of builtin:{name} (known: {known})"
        else:
            detail += f" (got {first['input']!r})"
        raise ParamsError(loc, detail) from None


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def _count_lines(path: Path) -> int:
    """Lines as an editor counts them: newlines, plus a last line that has none."""
    lines, last = 0, b"\n"
    for chunk in _chunks(path):
        lines += chunk.count(b"\n")
        last = chunk[-1:]
    return lines + (last != b"\n")


def _contains(path: Path, needle: bytes) -> bool:
    overlap = len(needle) - 1  # a marker may straddle two chunks
    tail = b""
    for chunk in _chunks(path):
        window = tail + chunk
        if needle in window:
            return True
        tail = window[-overlap:] if overlap else b""
    return False


def _unreadable(count: int) -> str:
    return f" ({count} unreadable)" if count else ""


def _cancelled(done: int, total: int) -> ActionOutcome:
    return ActionOutcome(1, f"cancelled after {done} of {total} files")


_SUCCESS = ActionOutcome(0, "")


def run_noop(files: Sequence[str], ctx: ActionContext) -> ActionOutcome:
    """Do nothing and succeed (the in-process speed benchmark runs thousands of these)."""
    return _SUCCESS


def run_count_lines(files: Sequence[str], ctx: ActionContext) -> ActionOutcome:
    """Count the lines of ``files``; unreadable files are skipped and reported."""
    total = unreadable = 0
    for done, name in enumerate(files):
        if ctx.token.cancelled:
            return _cancelled(done, len(files))
        try:
            total += _count_lines(ctx.root / name)
        except OSError:
            unreadable += 1
    return ActionOutcome(0, f"{total} lines in {len(files)} files{_unreadable(unreadable)}")


def run_fail_on_marker(files: Sequence[str], ctx: ActionContext) -> ActionOutcome:
    """Fail (exit 1) naming the files that contain the marker; succeed when none does."""
    marker = MarkerParams.model_validate(ctx.params).marker
    needle = marker.encode("utf-8")
    found: list[str] = []
    unreadable = 0
    for done, name in enumerate(files):
        if ctx.token.cancelled:
            return _cancelled(done, len(files))
        try:
            if _contains(ctx.root / name, needle):
                found.append(name)
        except OSError:
            unreadable += 1
    if not found:
        return ActionOutcome(0, f"no marker in {len(files)} files{_unreadable(unreadable)}")
    named = ", ".join(found[:NAMED_FILES])
    more = f" and {len(found) - NAMED_FILES} more" if len(found) > NAMED_FILES else ""
    return ActionOutcome(1, f"marker {marker!r} found in {len(found)} files: {named}{more}")


def run_sleep(files: Sequence[str], ctx: ActionContext) -> ActionOutcome:
    """Wait ``seconds`` on the cancellation token, so a cancel ends the wait at once."""
    seconds = SleepParams.model_validate(ctx.params).seconds
    if ctx.token.wait(seconds):
        return ActionOutcome(0, "woken early: cancelled")
    return ActionOutcome(0, f"slept {seconds:g} s")


def run_replace(files: Sequence[str], ctx: ActionContext) -> ActionOutcome:
    """Replace every match of ``pattern`` (a Python regular expression, ``^``/``$`` per line) in
    the UTF-8 text files among ``files``; other files are left alone. In place, files are
    rewritten through a temporary file and ``os.replace``, so one is never seen half-written."""
    params = ReplaceParams.model_validate(ctx.params)
    regex = re.compile(params.pattern, re.MULTILINE)
    replaced = changed = skipped = 0
    for done, name in enumerate(files):
        if ctx.token.cancelled:
            return _cancelled(done, len(files))
        path = ctx.root / name
        try:
            data = path.read_bytes()
            if b"\0" in data[:BINARY_SNIFF_BYTES]:  # git's rule for a binary file
                raise UnicodeDecodeError("utf-8", data, 0, 1, "binary")
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            skipped += 1
            continue
        new_text, count = regex.subn(params.replacement, text)
        if count and new_text != text:
            if ctx.workspace is not None and ctx.workspace != ctx.project_root:
                path.write_bytes(new_text.encode("utf-8"))  # a sandbox copy: nobody else sees it
            else:
                _rewrite(path, new_text.encode("utf-8"))
            replaced += count
            changed += 1
    note = f" ({skipped} not UTF-8 text or unreadable)" if skipped else ""
    return ActionOutcome(0, f"{replaced} replacements in {changed} of {len(files)} files{note}")


def _rewrite(path: Path, data: bytes) -> None:
    """``path`` with ``data``, keeping its mode, via a temp file in its directory."""
    mode = path.stat().st_mode & 0o777
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


BUILTIN_ACTIONS: dict[str, BuiltinAction] = {
    action.name: action
    for action in (
        BuiltinAction("noop", "does nothing and succeeds", NoParams, run_noop),
        BuiltinAction("count-lines", "counts the lines of its files", NoParams, run_count_lines),
        BuiltinAction(
            "fail-on-marker",
            "fails naming the files that contain a marker (param: marker)",
            MarkerParams,
            run_fail_on_marker,
        ),
        BuiltinAction(
            "sleep",
            "waits some seconds, or until cancelled (param: seconds)",
            SleepParams,
            run_sleep,
        ),
        BuiltinAction(
            "replace",
            "replaces a regular expression in text files; by default strips trailing whitespace"
            " (params: pattern, replacement)",
            ReplaceParams,
            run_replace,
            writes=True,
        ),
    )
}
