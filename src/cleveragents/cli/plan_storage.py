"""`agents plan delete` and `agents plan prune`: keep the database to the plans worth keeping.

The rules (what may go, what goes with a plan) are store/plan_removal.py's; `agents db vacuum`
gives the freed space back to the disk.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from cleveragents.cli.output import line, print_json
from cleveragents.cli.state import ID_HELP, JsonOption, complete_plans, state
from cleveragents.domain.clock import utcnow
from cleveragents.domain.durations import parse_duration
from cleveragents.domain.plans import PlanPhase
from cleveragents.store.id_refs import resolve_plan
from cleveragents.store.plan_removal import FINISHED_PHASES, Removal, delete_plans, prune_plans

PlanRefs = Annotated[
    list[str],
    typer.Argument(help=f"The plans: each {ID_HELP}.", autocompletion=complete_plans),
]


def delete(ctx: typer.Context, plan_ids: PlanRefs, json_out: JsonOption = False) -> None:
    """Delete plans: their subplans, events, output and recorded changes, and the stored file
    contents nothing else refers to. A plan that runs (or whose job is queued) is refused, and
    then none is deleted (exit 3). Its project's files are not touched."""
    db = state(ctx).db()
    removal = delete_plans(db, [resolve_plan(db, ref) for ref in plan_ids], utcnow())
    _report(removal, json_out)


def prune(
    ctx: typer.Context,
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than", help="Plans that finished longer ago than this (90s, 12h, 7d...)."
        ),
    ],
    phases: Annotated[
        list[PlanPhase] | None,
        typer.Option(
            "--phase",
            help="Only plans in this phase (repeatable; default: executed, applied, failed, "
            "cancelled).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say which plans would go; delete nothing.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Delete the plans that finished before a given age, as `plan delete` does (plans that
    run, or whose job is queued, are kept)."""
    now = utcnow()
    cutoff = now - timedelta(seconds=parse_duration(older_than))
    removal = prune_plans(state(ctx).db(), cutoff, phases or FINISHED_PHASES, now, dry_run)
    _report(removal, json_out)


def _report(removal: Removal, json_out: bool) -> None:
    if json_out:
        print_json(
            {
                "plans": removal.plan_ids,
                "changes": removal.changes,
                "contents_freed": removal.blobs,
                "dry_run": removal.dry_run,
            }
        )
        return
    plans = f"{len(removal.plan_ids)} plan{'s' if len(removal.plan_ids) != 1 else ''}"
    if removal.dry_run:
        for plan_id in removal.plan_ids:
            line(f"  would delete plan {plan_id}")
        line(f"{plans} ({removal.changes} recorded changes) would be deleted")
        return
    line(
        f"deleted {plans} ({removal.changes} recorded changes, {removal.blobs} stored file "
        "contents no longer used); `agents db vacuum` gives the space back to the disk"
    )
