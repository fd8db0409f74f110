"""An action's prompt: a template rendered per leaf, for commands that take instructions (an AI
coding agent's CLI: ``claude -p``, ``codex exec``, ``aider --message``).

The template is ``prompt`` (inline) or ``prompt_file`` (a file next to the action file, read when
the action is loaded, so that a plan keeps the prompt it was created with). Placeholders:
``{files}`` (the leaf's files, one per line), ``{label}``, ``{dir}`` (the directory its files
share, ``.`` for the project's root), ``{project}`` (the project's name) and ``{params.NAME}``
(the action's ``[action.params]``). ``{{`` and ``}}`` are literal braces; a brace that does not
open a placeholder (``{"a": 1}``) is literal too. An unknown placeholder is refused when the
action is loaded, naming it and its line. The rendered prompt reaches the command as the
argument ``{prompt}`` and as the file ``$AGENTS_PROMPT_FILE``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, model_validator

from cleveragents.plans.field_error import FieldError

PROMPT_PLACEHOLDER = "{prompt}"
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_]\w*(?:\.[A-Za-z_][\w-]*)?)\}")
NAMES = ("files", "label", "dir", "project")


def _unknown(name: str, params: Mapping[str, Any]) -> bool:
    if name.startswith("params."):
        return name.removeprefix("params.") not in params
    return name not in NAMES


def check_template(template: str, params: Mapping[str, Any]) -> None:
    """ValueError naming the first unknown placeholder of ``template`` and its line."""
    for match in _TOKEN.finditer(template):
        name = match.group(1)
        if name is not None and _unknown(name, params):
            line = template.count("\n", 0, match.start()) + 1
            known = ", ".join([*NAMES, *(f"params.{key}" for key in params)])
            raise ValueError(
                f"line {line}: unknown placeholder {{{name}}} (known: {known}; "
                "write {{ and }} for literal braces)"
            )


def leaf_dir(files: Sequence[str]) -> str:
    """The directory a leaf's files share (``.`` when they share none but the root)."""
    if not files:
        return "."
    common = posixpath.commonpath([posixpath.dirname(path) or "." for path in files])
    return common or "."


def render(
    template: str,
    *,
    files: Sequence[str],
    label: str,
    project: str,
    params: Mapping[str, Any],
) -> str:
    """``template`` with the placeholders of one leaf filled in."""
    values = {
        "files": "\n".join(files),
        "label": label,
        "dir": leaf_dir(files),
        "project": project,
        **{f"params.{key}": str(value) for key, value in params.items()},
    }

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if match.group(1) is None:
            return token[0]  # {{ or }}
        return values.get(match.group(1), token)

    return _TOKEN.sub(fill, template)


class PromptFields(BaseModel):
    """The prompt fields of an action (``ActionSpec`` inherits them)."""

    prompt: str | None = None
    prompt_file: str | None = None  # where the prompt was read from (set by the loader)

    @model_validator(mode="after")
    def _known_placeholders(self) -> PromptFields:
        if self.prompt is not None:
            try:
                check_template(self.prompt, getattr(self, "params", {}))
            except ValueError as exc:
                if self.prompt_file is None:
                    raise FieldError(("prompt",), str(exc)) from None
                raise FieldError(("prompt_file",), f"{self.prompt_file}: {exc}") from None
        command = getattr(self, "command", None) or []
        if self.prompt is None and any(PROMPT_PLACEHOLDER in part for part in command):
            raise FieldError(
                ("command",), "uses {prompt} but the action has no prompt or prompt_file"
            )
        return self
