"""`agents db`: schema upgrade and revision."""

from __future__ import annotations

from typing import Annotated

import typer

from cleveragents.cli.render import key_values, line, print_json
from cleveragents.cli.state import state
from cleveragents.store.engine import Database
from cleveragents.store.migrations import HEAD_REVISION, current_revision, upgrade

app = typer.Typer(help="The database schema.", no_args_is_help=True)


def _open(ctx: typer.Context) -> Database:
    loaded = state(ctx).settings()
    database = Database(loaded.settings.database_url, loaded.settings.sqlite)
    database.open()
    state(ctx)._db = database  # closed with the rest of the state
    return database


@app.command("upgrade")
def upgrade_cmd(ctx: typer.Context) -> None:
    """Upgrade the schema to the newest revision (commands also do this on first use)."""
    before, after = upgrade(_open(ctx))
    line(
        f"database at revision {after}" + ("" if before == after else f" (was {before or 'empty'})")
    )


@app.command("current")
def current_cmd(
    ctx: typer.Context,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Show the database URL, its schema revision and the newest known revision."""
    database = _open(ctx)
    current, head = current_revision(database), HEAD_REVISION
    doc = {"url": database.safe_url, "current": current, "head": head, "at_head": current == head}
    if json_out:
        print_json(doc)
    else:
        key_values([(k, str(v)) for k, v in doc.items()])
