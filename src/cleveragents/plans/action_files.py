"""Action files: finding an action by reference, loading and validating a file (one line per
problem, naming the file, the line and the field), and listing a project's actions."""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from cleveragents.domain.names import is_valid_name
from cleveragents.errors import ActionError, ActionNotFoundError
from cleveragents.plans.actions import (
    ACTIONS_DIR,
    BUILTIN_PREFIX,
    BUILTIN_SOURCE,
    ActionSpec,
    builtin_action,
)
from cleveragents.plans.builtin_actions import BUILTIN_ACTIONS
from cleveragents.plans.decompose import DecomposeConfig
from cleveragents.plans.field_error import FieldError
from cleveragents.plans.policy import ExitPolicy
from cleveragents.plans.prompts import PromptFields
from cleveragents.plans.results import ResultFields
from cleveragents.plans.verify import VerifySpec

_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


def resolve_action(ref: str, *, project_root: Path | None = None) -> ActionSpec:
    """The action ``ref`` names: ``builtin:NAME``, a path to an action file, or a bare NAME
    found as ``<project_root>/.agents/actions/NAME.toml``."""
    if ref.startswith(BUILTIN_PREFIX):
        return builtin_action(ref.removeprefix(BUILTIN_PREFIX))
    path = Path(ref).expanduser()
    if path.is_file():
        return load_action_file(path)
    folder = None if project_root is None else project_root / ACTIONS_DIR
    if folder is not None and is_valid_name(ref) and (folder / f"{ref}.toml").is_file():
        return load_action_file(folder / f"{ref}.toml")
    where = f", not in {folder}" if folder is not None else ""
    hint = f" (did you mean {BUILTIN_PREFIX}{ref}?)" if ref in BUILTIN_ACTIONS else ""
    raise ActionNotFoundError(
        f"no action {ref!r}: not a file, not a built-in ({BUILTIN_PREFIX}NAME){where}{hint}"
    )


def _toml_problem(exc: tomllib.TOMLDecodeError, text: str) -> str:
    reason = str(exc)
    found = _TOML_POSITION.search(reason)
    if found is None:  # pragma: no cover - every tomllib error names a position
        return f"invalid TOML: {reason}"
    reason = reason[: found.start()]
    if found.group(1) is None:
        lines = text.count("\n") + (not text.endswith("\n"))
        return f"line {max(lines, 1)} (end of file): invalid TOML: {reason}"
    return f"line {found.group(1)}, column {found.group(2)}: invalid TOML: {reason}"


def _describe(exc: ValidationError) -> str:
    """The first validation error as ``action.FIELD: what is wrong (got VALUE)``."""
    errors = exc.errors()
    first = errors[0]
    loc = ["action", *(str(part) for part in first["loc"])]
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, FieldError):
        loc += cause.loc
        detail = cause.detail
    elif first["type"] == "extra_forbidden":
        models: dict[str, type[BaseModel]] = {"decompose": DecomposeConfig, "verify": VerifySpec}
        model = models.get(loc[1] if len(loc) > 2 else "", ActionSpec)
        known = [name for name in model.model_fields if name != "source"]
        inherited = {
            *ExitPolicy.model_fields,
            *PromptFields.model_fields,
            *ResultFields.model_fields,
        }
        known.sort(key=lambda name: name in inherited)  # the action's own fields first
        detail = f"unknown field (known: {', '.join(known)})"
    else:
        detail = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] != "value_error":
            detail += f" (got {_short(first['input'])})"
    extra = len(errors) - 1
    more = f" (and {extra} more problem{'s' if extra > 1 else ''})" if extra else ""
    return f"{'.'.join(loc)}: {detail}{more}"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_action_file(path: Path) -> ActionSpec:
    """Load and validate the action file at ``path``; one-line :class:`ActionError` otherwise.

    The action's name defaults to the file's stem; ``source`` is the file's absolute path.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ActionError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ActionError(f"{path}: not UTF-8 text (bad byte at offset {exc.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ActionError(f"{path}: {_toml_problem(exc, text)}") from None
    others = sorted(set(data) - {"action"})
    if others:
        raise ActionError(
            f"{path}: unknown top-level key {others[0]!r}: an action file holds one [action] table"
        )
    table = data.get("action")
    if not isinstance(table, dict):
        problem = "no [action] table" if table is None else "action must be one [action] table"
        raise ActionError(f"{path}: {problem} (with a name and a command or builtin)")
    if "source" in table:
        raise ActionError(f"{path}: action.source: set by agents, not in the file")
    table = _read_prompt(path, table)
    try:
        return ActionSpec.model_validate(
            {"name": path.stem, **table, "source": str(path.resolve())}
        )
    except ValidationError as exc:
        raise ActionError(f"{path}: {_describe(exc)}") from None


def _read_prompt(path: Path, table: dict[str, Any]) -> dict[str, Any]:
    """``table`` with the text of its ``prompt_file`` (next to the action file) as its prompt."""
    name = table.get("prompt_file")
    if name is None:
        return table
    if "prompt" in table:
        raise ActionError(f"{path}: action: set prompt or prompt_file, not both")
    if not isinstance(name, str):
        raise ActionError(f'{path}: action.prompt_file: a path, such as "port.md"')
    prompt_path = (path.parent / name).resolve()
    try:
        text = prompt_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ActionError(f"{path}: action.prompt_file: {prompt_path}: {why}") from None
    return {**table, "prompt": text, "prompt_file": str(prompt_path)}


@dataclass
class ActionEntry:
    """One line of ``agents action list``: how to refer to it, where it is, or why it is broken."""

    name: str
    source: str
    description: str
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The entry as a JSON-ready dict."""
        return asdict(self)


def list_actions(project_root: Path | None) -> list[ActionEntry]:
    """Built-ins (as ``builtin:NAME``), then the project's ``.agents/actions/*.toml`` by name.

    A file that does not load is listed with its error rather than ending the listing.
    """
    entries = [
        ActionEntry(f"{BUILTIN_PREFIX}{name}", BUILTIN_SOURCE, BUILTIN_ACTIONS[name].description)
        for name in sorted(BUILTIN_ACTIONS)
    ]
    folder = None if project_root is None else project_root / ACTIONS_DIR
    if folder is None or not folder.is_dir():
        return entries
    for path in sorted(folder.glob("*.toml")):
        try:
            spec = load_action_file(path)
        except ActionError as exc:
            error = exc.message.removeprefix(f"{path}: ")
            entries.append(ActionEntry(path.stem, str(path.resolve()), "", error))
        else:
            entries.append(ActionEntry(path.stem, spec.source, spec.description))
    return entries
