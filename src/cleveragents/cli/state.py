"""What every command shares: the settings (loaded once) and the database (opened on first use)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:  # imported when first used: the settings need pydantic, the store SQLAlchemy
    from cleveragents.settings import LoadedSettings
    from cleveragents.store.engine import Database


@dataclass
class AppState:
    """Global options and lazily opened resources."""

    db_url: str | None = None
    config_file: Path | None = None
    debug: bool = False
    verbose: int = 0
    _loaded: LoadedSettings | None = None
    _db: Database | None = None
    flags: dict[str, Any] = field(default_factory=dict)

    def settings(self, **flags: Any) -> LoadedSettings:
        """Settings merged with this command's flags (keys like ``async.max_workers``)."""
        merged = {"database_url": self.db_url, **self.flags, **flags}
        if self._loaded is None or flags:
            from cleveragents.settings import load_settings

            self._loaded = load_settings(self.config_file, flags=merged)
            self.flags = {k: v for k, v in merged.items() if v is not None}
        return self._loaded

    def db(self, migrate: bool = True) -> Database:
        """The database, created and migrated to head on first use (unless ``migrate`` is
        False: `agents db` reports and upgrades the schema itself)."""
        if self._db is None:
            from cleveragents.store.engine import Database
            from cleveragents.store.migrations import ensure_schema

            loaded = self.settings()
            database = Database(loaded.settings.database_url, loaded.settings.sqlite)
            database.open()
            if migrate:
                ensure_schema(database)
            self._db = database
        return self._db

    def close(self) -> None:
        """Release the database connections."""
        if self._db is not None:
            self._db.dispose()
            self._db = None


JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
ID_HELP = "its id, a unique prefix of it (6 characters or more) or @last for the newest"


def _plan_ref(ctx: typer.Context, value: str | None) -> str | None:
    """The full id of the plan the user named (store/id_refs.py says how)."""
    if value is None or ctx.resilient_parsing:  # a completion request parses without a database
        return value
    from cleveragents.store.id_refs import resolve_plan

    return resolve_plan(state(ctx).db(), value)


def _job_ref(ctx: typer.Context, value: str | None) -> str | None:
    """The full id of the job the user named."""
    if value is None or ctx.resilient_parsing:
        return value
    from cleveragents.store.id_refs import resolve_job

    return resolve_job(state(ctx).db(), value)


def subplan_ids(ctx: typer.Context, plan_id: str, refs: list[str] | None) -> list[str] | None:
    """The full ids of the subplans of ``plan_id`` the user named (prefixes, ``@last``)."""
    if refs is None:
        return None
    from cleveragents.store.id_refs import resolve_subplan

    db = state(ctx).db()
    return [resolve_subplan(db, plan_id, ref) for ref in refs]


def complete_plans(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Shell completion of a plan id (cli/completion.py)."""
    from cleveragents.cli.completion import plan_ids

    return plan_ids(ctx, incomplete)


def complete_jobs(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Shell completion of a job id."""
    from cleveragents.cli.completion import job_ids

    return job_ids(ctx, incomplete)


PlanRef = Annotated[
    str,
    typer.Argument(
        help=f"The plan: {ID_HELP}.",
        show_default=False,
        callback=_plan_ref,
        autocompletion=complete_plans,
    ),
]
JobRef = Annotated[
    str,
    typer.Argument(
        help=f"The job: {ID_HELP}.",
        show_default=False,
        callback=_job_ref,
        autocompletion=complete_jobs,
    ),
]


def state(ctx: typer.Context) -> AppState:
    """The AppState of the running command."""
    obj = ctx.find_root().obj
    assert isinstance(obj, AppState), "the root callback sets the state"
    return obj
