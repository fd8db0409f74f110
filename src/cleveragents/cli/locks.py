"""`agents locks`: see who holds plan and project locks, and release a stuck one."""

from __future__ import annotations

from typing import Annotated

import typer

from cleveragents.cli.commands import help_of
from cleveragents.cli.output import error, line, print_json
from cleveragents.cli.render import locks_table
from cleveragents.cli.state import JsonOption, state
from cleveragents.domain.clock import utcnow
from cleveragents.domain.locks import ResourceType
from cleveragents.errors import ConflictError, NotFoundError
from cleveragents.store.locks import LockService

app = typer.Typer(help=help_of("locks"), no_args_is_help=True)


@app.command("list")
def list_(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Every lock: resource, owner, when acquired, when it expires, and whether it is stale
    (expired but not purged; anyone may take it over)."""
    now = utcnow()
    found = LockService(state(ctx).db()).find()
    if json_out:
        print_json([lock.to_json(now) for lock in found])
    else:
        locks_table(found, now)


@app.command()
def release(
    ctx: typer.Context,
    resource_type: Annotated[
        ResourceType, typer.Argument(help="plan or project.", show_default=False)
    ],
    resource_id: Annotated[str, typer.Argument(help="The plan's or project's id.")],
    owner: Annotated[
        str | None,
        typer.Option("--owner", help="Release only if this owner holds it (your own lock)."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Release it whoever holds it (the holder runs unprotected)."),
    ] = False,
) -> None:
    """Release a lock: your own (--owner OWNER), or anyone's with --force."""
    locks = LockService(state(ctx).db())
    held = locks.get(resource_type, resource_id)
    if held is None:
        raise NotFoundError(f"no lock on {resource_type.value} {resource_id}")
    if force:
        removed = locks.force_release(resource_type, resource_id)
        if removed is None:
            raise NotFoundError(f"no lock on {resource_type.value} {resource_id}")
        if not removed.is_stale(utcnow()):
            error(
                f"warning: released a live lock held by {removed.holder}; "
                "that run is no longer protected and will stop when it next renews"
            )
        line(f"released the lock on {resource_type.value} {resource_id}")
        return
    if owner is None or not locks.release(resource_type, resource_id, owner):
        raise ConflictError(
            f"{resource_type.value} {resource_id} is locked by {held.holder}; "
            "pass --owner with your own owner id, or --force to release it anyway"
        )
    line(f"released the lock on {resource_type.value} {resource_id}")
