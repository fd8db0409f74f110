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
