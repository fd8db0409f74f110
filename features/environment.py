"""behave hooks: a fresh temp directory and database per scenario, warnings as errors.

The database is an SQLite file in the scenario's directory, or, when ``AGENTS_TEST_POSTGRES_URL``
names a PostgreSQL server (the nox ``postgres`` session starts a throwaway one), a database of
its own on that server, created for the scenario and dropped after it.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

POSTGRES_URL = os.environ.get("AGENTS_TEST_POSTGRES_URL", "")
_databases = itertools.count(1)


def _admin(sql: str) -> None:
    """Run one statement on the PostgreSQL server, outside any transaction."""
    import psycopg

    with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _scenario_database(context: Any) -> str:
    if not POSTGRES_URL:
        return f"sqlite:///{context.tmp / 'agents.db'}"
    name = f"scenario_{os.getpid()}_{next(_databases)}"
    _admin(f"CREATE DATABASE {name}")
    context.pg_database = name
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


def before_all(context: Any) -> None:
    """Warnings are errors: a deprecation in our code must fail the suite."""
    warnings.simplefilter("error")
    # SQLAlchemy's pool may warn about connections garbage-collected by a test that crashed on
    # purpose; that is not a defect of the code under test.
    warnings.filterwarnings("ignore", message=".*garbage collector.*")


def before_scenario(context: Any, scenario: Any) -> None:
    """Each scenario gets its own directory, database and config file."""
    if "postgres" in scenario.effective_tags and not POSTGRES_URL:
        scenario.skip("needs a PostgreSQL server: `nox -s postgres_tests` starts one")
        return
    context.tmp = Path(tempfile.mkdtemp(prefix="agents-feature-"))
    context.db_url = _scenario_database(context)
    context.env = {
        "AGENTS_CONFIG": str(context.tmp / "config.toml"),
        "AGENTS_DATABASE_URL": context.db_url,
        "XDG_DATA_HOME": str(context.tmp / "data"),
    }
    backend = context.config.userdata.get("sandbox_backend")
    if backend:  # `behave -D sandbox_backend=copy`: the same scenarios on the other backend
        context.env["AGENTS_SANDBOX__BACKEND"] = backend
    context.cleanups = []


def after_scenario(context: Any, scenario: Any) -> None:
    """Stop whatever the scenario started and remove its files."""
    if not hasattr(context, "cleanups"):
        return  # skipped before it started
    for cleanup in reversed(context.cleanups):
        cleanup()
    shutil.rmtree(context.tmp, ignore_errors=True)
    if getattr(context, "pg_database", None):
        _admin(f"DROP DATABASE {context.pg_database} WITH (FORCE)")
