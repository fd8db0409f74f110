"""Steps about configuration: precedence, validation messages, the config file."""

from __future__ import annotations

from typing import Any

from behave import given, then, when

from cleveragents.errors import ConfigError
from cleveragents.settings import load_settings


@given("a config file containing")
def step_config_file(context: Any) -> None:
    text = context.text.replace("[tmp]", str(context.tmp))
    (context.tmp / "config.toml").write_text(text, encoding="utf-8")


@given("the config file is a directory")
def step_config_dir(context: Any) -> None:
    (context.tmp / "config.toml").mkdir()


@when("settings are loaded")
@when("settings are loaded with the flag {key} = {value}")
def step_load(context: Any, key: str | None = None, value: str | None = None) -> None:
    env = {**context.env, **getattr(context, "extra_env", {})}
    env = {name: value for name, value in env.items() if value is not None}
    flags = {key: value} if key else {}
    context.error = None
    try:
        context.loaded = load_settings(context.tmp / "config.toml", env=env, flags=flags)
    except ConfigError as exc:
        context.error = exc


@then('setting {key} is {value} from "{source}"')
def step_setting(context: Any, key: str, value: str, source: str) -> None:
    assert context.error is None, context.error
    got = context.loaded.get(key)
    assert str(got).lower() == value.replace("[tmp]", str(context.tmp)).lower(), got
    assert source in context.loaded.source(key), context.loaded.source(key)


@then('loading fails with "{text}"')
def step_load_fails(context: Any, text: str) -> None:
    assert context.error is not None, "settings loaded without error"
    message = context.error.message.replace(str(context.tmp), "[tmp]")
    assert text in message, message
    assert context.error.exit_code == 2


@then("the config file still contains")
def step_config_unchanged(context: Any) -> None:
    content = (context.tmp / "config.toml").read_text(encoding="utf-8")
    assert content.strip() == context.text.strip(), content


@then("the default database is in the data directory")
def step_default_db(context: Any) -> None:
    context.env.pop("AGENTS_DATABASE_URL")
    loaded = load_settings(context.tmp / "config.toml", env=context.env)
    expected = f"sqlite:///{context.tmp}/data/agents/agents.db"
    assert loaded.settings.database_url == expected, loaded.settings.database_url
    assert loaded.source("database_url") == "default"
