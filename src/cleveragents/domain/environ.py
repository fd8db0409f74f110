"""The environment variables `agents` reads, by name (light: the CLI's root imports it)."""

ENV_PREFIX = "AGENTS_"  # AGENTS_<SECTION>__<KEY> sets a setting
CONFIG_ENV = "AGENTS_CONFIG"  # the config file
