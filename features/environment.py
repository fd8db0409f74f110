"""behave hooks: a fresh temp directory and SQLite database per scenario, warnings as errors."""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any


def before_all(context: Any) -> None:
    """Warnings are errors: a deprecation in our code must fail the suite."""
    warnings.simplefilter("error")
    # SQLAlchemy's pool may warn about connections garbage-collected by a test that crashed on
    # purpose; that is not a defect of the code under test.
    warnings.filterwarnings("ignore", message=".*garbage collector.*")


def before_scenario(context: Any, scenario: Any) -> None:
    """Each scenario gets its own directory, database and config file."""
    context.tmp = Path(tempfile.mkdtemp(prefix="agents-feature-"))
    context.db_url = f"sqlite:///{context.tmp / 'agents.db'}"
    context.env = {
        "AGENTS_CONFIG": str(context.tmp / "config.toml"),
        "AGENTS_DATABASE_URL": context.db_url,
        "XDG_DATA_HOME": str(context.tmp / "data"),
    }
    context.cleanups = []


def after_scenario(context: Any, scenario: Any) -> None:
    """Stop whatever the scenario started and remove its files."""
    for cleanup in reversed(context.cleanups):
        cleanup()
    shutil.rmtree(context.tmp, ignore_errors=True)
