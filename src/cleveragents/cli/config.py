"""`agents config`: show, get and set settings."""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from cleveragents.cli.commands import help_of
from cleveragents.cli.output import line, print_json
from cleveragents.cli.render import key_values
from cleveragents.cli.state import JsonOption, state
from cleveragents.domain.redaction import redact_url
from cleveragents.errors import ConfigError
from cleveragents.settings import all_keys, default_config_file, describe_range, set_in_config_file

app = typer.Typer(help=help_of("config"), no_args_is_help=True)


def _shown(key: str, value: Any) -> Any:
    return redact_url(value) if key == "database_url" and isinstance(value, str) else value


@app.command("show")
def show(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Every setting with its value and where the value came from."""
    loaded = state(ctx).settings()
    rows = [
        {
            "key": k,
            "value": _shown(k, loaded.get(k)),
            "source": loaded.source(k),
            "allowed": describe_range(k),
        }
        for k in all_keys()
    ]
    if json_out:
        print_json({"config_file": str(loaded.config_file), "settings": rows})
        return
    line(f"config file: {loaded.config_file}")
    key_values((r["key"], f"{r['value']}  ({r['source']})") for r in rows)


@app.command("get")
def get(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="section.name, e.g. async.max_workers")],
    json_out: JsonOption = False,
) -> None:
    """Print one setting's value (with --json: its value and where it came from)."""
    if key not in all_keys():
        raise ConfigError(f"unknown setting {key!r}; known: {', '.join(all_keys())}")
    loaded = state(ctx).settings()
    value = _shown(key, loaded.get(key))
    if json_out:
        print_json({"key": key, "value": value, "source": loaded.source(key)})
    else:
        line(str(value).lower() if isinstance(value, bool) else str(value))


# A value may start with "-" (`config set plans.retries -4`): it is the value, not an option.
@app.command("set", context_settings={"ignore_unknown_options": True})
def set_(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="section.name, e.g. async.max_workers")],
    value: Annotated[str, typer.Argument(help="The new value.")],
) -> None:
    """Write one setting to the user's config file (validated first; nothing written if invalid)."""
    path = state(ctx).config_file or default_config_file(os.environ)
    typed = set_in_config_file(path, key, value)
    line(f"{key} = {_shown(key, typed)} (written to {path})")
