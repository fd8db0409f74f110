"""`agents db`: schema upgrade and revision."""

from __future__ import annotations

import typer

from cleveragents.cli.commands import help_of
from cleveragents.cli.output import line, print_json
from cleveragents.cli.render import key_values
from cleveragents.cli.state import JsonOption, state
from cleveragents.store.migrations import HEAD_REVISION, current_revision, upgrade

app = typer.Typer(help=help_of("db"), no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(ctx: typer.Context) -> None:
    """Upgrade the schema to the newest revision (commands also do this on first use)."""
    before, after = upgrade(state(ctx).db(migrate=False))
    line(
        f"database at revision {after}" + ("" if before == after else f" (was {before or 'empty'})")
    )


@app.command("current")
def current_cmd(
    ctx: typer.Context,
    json_out: JsonOption = False,
) -> None:
    """Show the database URL, its schema revision and the newest known revision."""
    database = state(ctx).db(migrate=False)
    current, head = current_revision(database), HEAD_REVISION
    doc = {"url": database.safe_url, "current": current, "head": head, "at_head": current == head}
    if json_out:
        print_json(doc)
    else:
        key_values([(k, str(v)) for k, v in doc.items()])


@app.command("vacuum")
def vacuum_cmd(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Give the space freed by `plan delete` and `plan prune` back to the disk (SQLite rewrites
    the file: it needs as much free disk as the file's size; PostgreSQL runs VACUUM)."""
    database = state(ctx).db()
    before = database.path.stat().st_size if database.path is not None else None
    database.vacuum()
    after = database.path.stat().st_size if database.path is not None else None
    if json_out:
        print_json({"url": database.safe_url, "bytes_before": before, "bytes_after": after})
    elif before is not None and after is not None:
        line(f"{database.path}: {before:,} -> {after:,} bytes")
    else:
        line(f"{database.safe_url}: vacuumed")
