"""One typed configuration: defaults < config file < environment < command-line flags.

Every key has the form ``section.name`` (or a bare ``name`` at the top level). In the TOML config
file it is ``name`` under ``[section]``; in the environment it is ``AGENTS_SECTION__NAME``
(``AGENTS_ASYNC__MAX_WORKERS=8``); on the command line it is the command's own flag.

This module is the only place that reads ``os.environ`` for settings. The layers are merged here
into one flat ``key -> value`` map that remembers the source of every key, and the result is
validated by plain pydantic models: ``agents config show`` names where each value came from, and an
invalid value is reported with its source (see docs/choices.md for why not pydantic-settings).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import annotated_types
import tomli_w
from pydantic import BaseModel, ValidationError

from cleveragents.domain.environ import CONFIG_ENV, ENV_PREFIX
from cleveragents.domain.profile import DEFAULT_SOURCE
from cleveragents.errors import ConfigError
from cleveragents.settings.sections import (  # re-exported: callers import them here
    AsyncSettings,
    LocksSettings,
    LogsSettings,
    PlansSettings,
    SandboxSettings,
    Settings,
    SQLiteSettings,
)

__all__ = [
    "AsyncSettings",
    "LoadedSettings",
    "LocksSettings",
    "LogsSettings",
    "PlansSettings",
    "SQLiteSettings",
    "SandboxSettings",
    "Settings",
    "load_settings",
]


SECTIONS: dict[str, type[BaseModel]] = {
    "async": AsyncSettings,
    "sqlite": SQLiteSettings,
    "plans": PlansSettings,
    "locks": LocksSettings,
    "sandbox": SandboxSettings,
    "logs": LogsSettings,
}
TOP_LEVEL = ("database_url",)


def all_keys() -> list[str]:
    """Every settable key, as ``section.name`` or ``name``."""
    keys = list(TOP_LEVEL)
    for section, model in SECTIONS.items():
        keys += [f"{section}.{name}" for name in model.model_fields]
    return keys


def _field_info(key: str) -> Any:
    section, _, name = key.rpartition(".")
    if not section:
        return Settings.model_fields[name]
    return SECTIONS[section].model_fields[name]


def _bound(value: Any) -> str:
    return "" if value is None else f"{value:g}"


def describe_range(key: str) -> str:
    """The allowed values of a key, in words ("1..256", "one of normal, full")."""
    info = _field_info(key)
    low = high = None
    for meta in info.metadata:
        if isinstance(meta, annotated_types.Ge | annotated_types.Gt):
            low = meta.ge if isinstance(meta, annotated_types.Ge) else meta.gt
        if isinstance(meta, annotated_types.Le | annotated_types.Lt):
            high = meta.le if isinstance(meta, annotated_types.Le) else meta.lt
    if low is not None or high is not None:
        return f"{_bound(low)}..{_bound(high)}"
    annotation = info.annotation
    choices = getattr(annotation, "__args__", None)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        choices = tuple(member.value for member in annotation)
    if choices and all(isinstance(c, str) for c in choices):
        return "one of " + ", ".join(choices)
    if annotation is bool:
        return "true or false"
    return "a string"


def default_data_dir(env: Mapping[str, str]) -> Path:
    """``$XDG_DATA_HOME/agents`` (``~/.local/share/agents`` when unset)."""
    base = env.get("XDG_DATA_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".local/share")
    return Path(base) / "agents"


def default_config_file(env: Mapping[str, str]) -> Path:
    """``$AGENTS_CONFIG``, else ``$XDG_CONFIG_HOME/agents/config.toml``."""
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "agents" / "config.toml"


@dataclass
class LoadedSettings:
    """Validated settings, the config file they came from, and where each value came from."""

    settings: Settings
    config_file: Path
    sources: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> Any:
        """The value of ``key`` (``section.name``)."""
        section, _, name = key.rpartition(".")
        holder: Any = self.settings
        if section:
            holder = getattr(self.settings, "async_" if section == "async" else section)
        return getattr(holder, name)

    def source(self, key: str) -> str:
        """Where the value of ``key`` came from ("default", "config file …", "environment …")."""
        return self.sources.get(key, DEFAULT_SOURCE)


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from exc


def _flatten_file(data: Mapping[str, Any], path: Path) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in data.items():
        if name in SECTIONS and isinstance(value, Mapping):
            for sub, sub_value in value.items():
                flat[f"{name}.{sub}"] = sub_value
        else:
            flat[name] = value
    for key in flat:
        if key not in all_keys():
            raise ConfigError(f"unknown setting {key!r} in config file {path}")
    return flat


def _from_env(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    known = set(all_keys())
    found: dict[str, tuple[str, str]] = {}
    for var, value in env.items():
        if not var.startswith(ENV_PREFIX):
            continue
        key = var[len(ENV_PREFIX) :].lower().replace("__", ".")
        if key in known:
            found[key] = (value, f"environment {var}")
    return found


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        section, _, name = key.rpartition(".")
        if section:
            nested.setdefault(section, {})[name] = value
        else:
            nested[name] = value
    return nested


def _error_key(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc if part != "async_")


def _validation_message(
    exc: ValidationError, sources: Mapping[str, str], flat: Mapping[str, Any]
) -> str:
    error = exc.errors()[0]
    key = _error_key(error["loc"])
    if key in flat:
        return (
            f"{key} = {flat[key]!r} is not valid: must be {describe_range(key)} "
            f"(from {sources.get(key, DEFAULT_SOURCE)})"
        )
    # A check across fields ("stale_after must exceed heartbeat_interval"): name the sources.
    detail = str(error["msg"]).removeprefix("Value error, ")
    involved = [k for k in flat if k.startswith(f"{key}.") and k in detail]
    where = "; ".join(f"{k} from {sources.get(k, DEFAULT_SOURCE)}" for k in involved)
    return f"{detail}" + (f" ({where})" if where else "")


def load_settings(
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> LoadedSettings:
    """Merge defaults < config file < environment < flags and validate the result.

    ``flags`` maps keys (``async.max_workers``) to values given on the command line; ``None``
    values are ignored. Raises :class:`ConfigError` naming the key, the value, the allowed range
    and where the value came from.
    """
    env = os.environ if env is None else env
    path = config_file or default_config_file(env)
    flat: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, value in _flatten_file(_read_config_file(path), path).items():
        flat[key], sources[key] = value, f"config file {path}"
    for key, (value, origin) in _from_env(env).items():
        flat[key], sources[key] = value, origin
    for key, value in (flags or {}).items():
        if value is not None:
            flat[key], sources[key] = value, f"command line ({key})"
    if not flat.get("database_url"):
        flat["database_url"] = "sqlite:///" + str(default_data_dir(env) / "agents.db")
        sources.setdefault("database_url", DEFAULT_SOURCE)
    try:
        settings = Settings(**_nest(flat))
    except ValidationError as exc:
        raise ConfigError(_validation_message(exc, sources, flat)) from None
    return LoadedSettings(settings=settings, config_file=path, sources=sources)


def set_in_config_file(path: Path, key: str, raw_value: str) -> Any:
    """Validate ``key = raw_value`` against the full configuration and write it to ``path``.

    The file is rewritten through a temporary file and ``os.replace``: a crash leaves the old file
    or the new one, never half of it. Returns the validated (typed) value.
    """
    if key not in all_keys():
        raise ConfigError(f"unknown setting {key!r}; known: {', '.join(all_keys())}")
    data = _read_config_file(path)
    _flatten_file(data, path)
    section, _, name = key.rpartition(".")
    candidate = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in data.items()}
    target = candidate.setdefault(section, {}) if section else candidate
    target[name] = raw_value
    flat = _flatten_file(candidate, path)
    try:
        validated = Settings(**_nest(flat))
    except ValidationError as exc:
        raise ConfigError(_validation_message(exc, {key: "config set"}, flat)) from None
    holder: Any = validated
    if section:
        holder = getattr(validated, "async_" if section == "async" else section)
    typed = getattr(holder, name)
    target[name] = typed
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(tomli_w.dumps(candidate), encoding="utf-8")
    os.replace(tmp, path)
    return typed
