"""Actions: what a plan runs on each leaf subplan, from a TOML file or a built-in.

An action file holds one ``[action]`` table (see ``docs/actions.md``). Loading it reports every
problem as one :class:`ActionError` line naming the file, the line and column where TOML gives one,
and the field (``lint.toml: action.decompose.max_depth: Input should be less than or equal to 32
(got 99)``). A resolved action is stored with its plan as a JSON snapshot, so a plan keeps running
the action it was created with even if the file changes later.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pathspec import GitIgnoreSpec
from pydantic import (
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cleveragents.domain.names import is_valid_name
from cleveragents.domain.profile import PROFILE_FIELDS
from cleveragents.errors import ActionError, ActionNotFoundError, InvalidInputError
from cleveragents.plans.builtin_actions import BUILTIN_ACTIONS, ParamsError, check_params
from cleveragents.plans.decompose import DecomposeConfig
from cleveragents.plans.field_error import FieldError
from cleveragents.plans.policy import ExitPolicy
from cleveragents.plans.prompts import PROMPT_PLACEHOLDER, PromptFields
from cleveragents.plans.results import ResultFields
from cleveragents.plans.scope import FILES_SCOPE, SCOPES
from cleveragents.plans.verify import VerifySpec

BUILTIN_PREFIX = "builtin:"
BUILTIN_SOURCE = "builtin"
ACTIONS_DIR = Path(".agents") / "actions"  # a project's own actions, as NAME.toml
FILES_PLACEHOLDER = "{files}"
FILE_PLACEHOLDER = "{file}"
SANDBOX = "sandbox"  # a workspace per leaf holding the whole project; `plan apply` writes changes
FILES = "files"  # a workspace per leaf holding copies of its own files only
IN_PLACE = "in-place"  # the command works on the project's files directly
ISOLATIONS = (SANDBOX, FILES, IN_PLACE)
# How $AGENTS_FILES_FILE separates its names: one per line (the default), or each ended by a NUL
# byte, the one separator no file name can hold.
NEWLINE = "newline"
NUL = "nul"
FILES_SEPARATORS = {NEWLINE: "\n", NUL: "\0"}
_TIMEOUT = PROFILE_FIELDS["timeout_s"]
_NOT_SHELL = 'must be an argv list such as ["ruff", "check", "{files}"], not a shell string'


def check_argv(command: list[str]) -> list[str]:
    """``command`` if it is a runnable argv with well-placed placeholders; ValueError if not."""
    if not command or not command[0].strip():
        raise ValueError("must name a program to run (got an empty command)")
    if "{file" in command[0]:
        raise ValueError(f"the program cannot be a placeholder (got {command[0]!r})")
    for part in command:
        if FILES_PLACEHOLDER in part and part != FILES_PLACEHOLDER:
            raise ValueError(f"{{files}} must be a whole argument (got {part!r})")
    for part in command:
        if PROMPT_PLACEHOLDER in part and part != PROMPT_PLACEHOLDER:
            raise ValueError(f"{{prompt}} must be a whole argument (got {part!r})")
    if FILES_PLACEHOLDER in command and any(FILE_PLACEHOLDER in part for part in command):
        raise ValueError("use either {files} (one run) or {file} (a run per file), not both")
    return command


class ActionSpec(PromptFields, ResultFields, ExitPolicy):
    """A resolved, validated action: the ``[action]`` table of a file, or a built-in (with
    the exit policy of ``policy.py``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    command: list[str] | None = None
    builtin: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    include: list[str] = Field(default_factory=lambda: ["**/*"])
    exclude: list[str] = Field(default_factory=list)
    isolation: str = SANDBOX
    files_separator: str = NEWLINE
    output: Literal["keep", "show"] = "keep"  # show: `plan run` prints each leaf's output
    scope: str = FILES_SCOPE
    timeout_s: int | None = Field(None, ge=_TIMEOUT.minimum, le=_TIMEOUT.maximum)
    decompose: DecomposeConfig = Field(default_factory=DecomposeConfig)
    profile: dict[str, Any] = Field(default_factory=dict)
    verify: VerifySpec | None = None
    source: str = BUILTIN_SOURCE

    @model_validator(mode="before")
    @classmethod
    def _default_isolation(cls, data: Any) -> Any:
        """A built-in that only reads runs in place unless told otherwise (a sandbox would copy
        files it never changes), and its output is shown. Everything else defaults to a sandbox."""
        builtin = BUILTIN_ACTIONS.get(str(data.get("builtin"))) if isinstance(data, dict) else None
        if builtin is not None and not builtin.writes:  # what it says is what it is for: shown
            return {
                "isolation": IN_PLACE,
                "output": "show",
                **{k: v for k, v in data.items() if v is not None},
            }
        return data

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        if not is_valid_name(name):
            raise ValueError(
                f"{name!r} is not a valid name: use letters, digits, '.', '_' and '-', "
                "starting with a letter or digit (up to 100)"
            )
        return name

    @field_validator("command", mode="before")
    @classmethod
    def _argv_not_shell(cls, command: Any) -> Any:
        if isinstance(command, str):
            raise ValueError(_NOT_SHELL)
        return command

    @field_validator("command")
    @classmethod
    def _valid_command(cls, command: list[str] | None) -> list[str] | None:
        return None if command is None else check_argv(command)

    @field_validator("verify", mode="before")
    @classmethod
    def _valid_verify(cls, verify: Any) -> Any:
        command = verify.get("command") if isinstance(verify, dict) else None
        if isinstance(command, str):
            raise FieldError(("command",), _NOT_SHELL)
        if isinstance(command, list) and all(isinstance(part, str) for part in command):
            try:
                check_argv(command)
            except ValueError as exc:
                raise FieldError(("command",), str(exc)) from None
        return verify

    @model_validator(mode="after")
    def _command_or_builtin(self) -> ActionSpec:
        if (self.command is None) == (self.builtin is None):
            raise ValueError(
                "set exactly one of command (a program to run) or builtin (a built-in's name)"
            )
        return self

    @field_validator("builtin")
    @classmethod
    def _known_builtin(cls, builtin: str | None) -> str | None:
        if builtin is not None and builtin not in BUILTIN_ACTIONS:
            known = ", ".join(sorted(BUILTIN_ACTIONS))
            raise ValueError(f"unknown built-in {builtin!r} (known: {known})")
        return builtin

    @field_validator("params")
    @classmethod
    def _valid_params(cls, params: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        builtin = info.data.get("builtin")
        if builtin is None:
            if params and "builtin" in info.data and info.data.get("prompt") is None:
                raise ValueError(
                    "only built-ins and actions with a prompt take params; "
                    "pass arguments in command"
                )
            return params
        try:
            return check_params(builtin, params)
        except ParamsError as exc:
            raise FieldError(exc.loc, exc.detail) from None

    @field_validator("include", "exclude")
    @classmethod
    def _valid_globs(cls, patterns: list[str], info: ValidationInfo) -> list[str]:
        if info.field_name == "include" and not patterns:
            raise ValueError('must list at least one glob (the default is ["**/*"])')
        for position, pattern in enumerate(patterns):
            try:
                GitIgnoreSpec.from_lines([pattern])
            except (ValueError, re.error) as exc:
                raise FieldError((str(position),), f"invalid glob {pattern!r}: {exc}") from None
        return patterns

    @field_validator("isolation")
    @classmethod
    def _known_isolation(cls, isolation: str) -> str:
        if isolation not in ISOLATIONS:
            raise ValueError(f'must be "sandbox", "files" or "in-place" (got {isolation!r})')
        return isolation

    @field_validator("files_separator")
    @classmethod
    def _known_separator(cls, separator: str, info: ValidationInfo) -> str:
        if separator not in FILES_SEPARATORS:
            raise ValueError(f'must be "newline" or "nul" (got {separator!r})')
        if separator != NEWLINE and info.data.get("builtin") is not None:
            raise ValueError("only command actions get a files list ($AGENTS_FILES_FILE)")
        return separator

    @field_validator("scope")
    @classmethod
    def _known_scope(cls, scope: str) -> str:
        if scope not in SCOPES:
            raise ValueError(f'must be "files" or "project" (got {scope!r})')
        return scope

    @field_validator("profile")
    @classmethod
    def _valid_profile(cls, profile: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        for key, value in profile.items():
            field = PROFILE_FIELDS.get(key)
            if field is None:
                known = ", ".join(PROFILE_FIELDS)
                raise FieldError((key,), f"unknown profile field (known: {known})")
            if key == "timeout_s" and info.data.get("timeout_s") is not None:
                raise FieldError(
                    (key,), "timeout_s is set both in [action] and in [action.profile]; keep one"
                )
            try:
                field.check(value, "the action")
            except InvalidInputError:
                raise FieldError(
                    (key,), f"{value!r} is not allowed (allowed: {field.allowed})"
                ) from None
        return profile

    def profile_layer(self) -> tuple[str, dict[str, Any]]:
        """The action's layer of the automation profile: ``(source, values)``, with timeout_s."""
        values = dict(self.profile)
        if self.timeout_s is not None:
            if "timeout_s" in values:  # only reachable for a spec built without validation
                raise ActionError(f"action {self.name}: timeout_s is set twice; keep one")
            values["timeout_s"] = self.timeout_s
        return f"action {self.name} ({self.source})", values

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy stored with a plan; ``ActionSpec.model_validate`` reads it back."""
        return self.model_dump(mode="json")


def builtin_action(name: str) -> ActionSpec:
    """The spec of built-in ``name``; :class:`ActionNotFoundError` listing the known ones."""
    builtin = BUILTIN_ACTIONS.get(name)
    if builtin is None:
        known = ", ".join(f"{BUILTIN_PREFIX}{known}" for known in sorted(BUILTIN_ACTIONS))
        raise ActionNotFoundError(f"no built-in action {name!r} (known: {known})")
    return ActionSpec(
        name=name,
        description=builtin.description,
        builtin=name,
        params={},  # given, so that validation fills in the defaults
        include=list(builtin.include),
        source=BUILTIN_SOURCE,
    )
