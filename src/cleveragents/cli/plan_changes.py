"""`agents plan diff` and `agents plan apply`: review a sandboxed plan's changes, then write
them to the project."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cleveragents.cli.output import error, json_line, line, print_json
from cleveragents.cli.plan_jobs import INTERRUPTED_EXIT, enqueue_phase, interrupt_to_token
from cleveragents.cli.render import console
from cleveragents.cli.state import AppState, JsonOption, PlanRef, state, subplan_ids
from cleveragents.domain.changes import ChangeKind
from cleveragents.domain.clock import utcnow
from cleveragents.domain.jobs import JobPhase
from cleveragents.domain.paths import display_path, path_to_text
from cleveragents.domain.plans import Plan, PlanPhase
from cleveragents.errors import ApplyConflictError, InvalidInputError
from cleveragents.store.changes import ChangeStore
from cleveragents.store.plans import PlanStore
from cleveragents.store.projects import ProjectStore

PathsArgument = Annotated[
    list[str] | None,
    typer.Argument(
        help="Only these files, or files under these directories (after --).", show_default=False
    ),
]

if TYPE_CHECKING:  # the plan machinery is imported by the commands that use it
    from cleveragents.plans.apply import ApplyReport, PlanApplier
    from cleveragents.plans.review import ReviewedChange

OUTSIDE_LEAF = "outside its leaf's files"  # --stat's mark of a change kept by scope = "project"


def _in_place_note(plan: Plan) -> str | None:
    from cleveragents.plans.actions import IN_PLACE

    if plan.action.get("isolation") == IN_PLACE:
        return (
            f"plan {plan.id} ran in place (isolation in-place): its changes are in the project "
            "already; there is nothing to review or apply"
        )
    return None


def diff(
    ctx: typer.Context,
    plan_id: PlanRef,
    paths: PathsArgument = None,
    stat: Annotated[bool, typer.Option("--stat", help="A summary: lines per file.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="The changes as a JSON list.")] = False,
    subplan: Annotated[
        str | None,
        typer.Option(
            "--subplan", help="Only what this subplan (its id) changed.", show_default=False
        ),
    ] = None,
) -> None:
    """Show what a plan's subplans changed in their sandboxes, as a unified diff.

    Colored on a terminal; plain when piped, so `agents plan diff PLAN | git apply` works.
    Paths after -- narrow it to those files or directories. Conflicts (two subplans changing
    one path, or a file changed in the project since) are named on stderr.
    """
    db = state(ctx).db()
    plans = PlanStore(db)
    plan = plans.get(plan_id)
    if subplan is not None:
        [subplan] = subplan_ids(ctx, plan.id, [subplan]) or []
    root = ProjectStore(db).get(plan.project_id).root_path
    from cleveragents.plans.review import review

    reviewed = review(ChangeStore(db), plan_id, root, paths or (), subplan)
    if json_out:
        # A path that is not UTF-8 in its stored text form (docs/actions.md, "File names").
        print_json(
            [{**item.as_json(), "path": path_to_text(item.change.path)} for item in reviewed]
        )
        return
    shown = _show_stat(reviewed) if stat else _show_patches(reviewed)
    _warn_rejected(plans, plan.id)
    if not shown:
        note = _in_place_note(plan)
        error(note or f"plan {plan_id} has no changes" + (" under those paths" if paths else ""))


def reject(
    ctx: typer.Context,
    plan_id: PlanRef,
    subplans: Annotated[
        list[str], typer.Argument(help="The subplans (ids) whose changes to drop.")
    ],
    reason: Annotated[
        str, typer.Option("--reason", help="Why; shown by plan status and plan diff.")
    ] = "rejected",
    json_out: JsonOption = False,
) -> None:
    """Drop what these subplans changed, before apply: their changes will not be applied.

    `plan status` and `plan diff` show them rejected, with the reason. A subplan whose changes
    are applied already cannot be rejected (exit 2).
    """
    db = state(ctx).db()
    plan = PlanStore(db).get(plan_id)
    from cleveragents.plans import lifecycle

    subplans = list(dict.fromkeys(subplan_ids(ctx, plan.id, subplans) or []))
    dropped = lifecycle.reject(db, plan, subplans, reason, utcnow())
    if json_out:
        print_json({"plan_id": plan.id, "rejected": subplans, "changes_dropped": dropped})
        return
    line(f"plan {plan.id}: rejected {len(set(subplans))} subplan(s), {dropped} change(s) dropped")


def _warn_rejected(plans: PlanStore, plan_id: str) -> None:
    for node in plans.subplans(plan_id, leaves_only=True):
        if node.rejection is not None:
            error(f"rejected: {node.label} ({node.id}): {node.rejection}")


def _warn_conflict(item: ReviewedChange) -> None:
    if item.conflict and item.first_of_path:  # a path several subplans changed: named once
        error(f"conflict: {display_path(item.change.path)}: {item.conflict}")


def _show_patches(reviewed: Any) -> int:
    shown = 0
    colored = console().is_terminal
    for item in reviewed:
        shown += 1
        _warn_conflict(item)
        patch = item.patch()
        if patch is None:
            shown_path = display_path(item.change.path)
            error(f"{shown_path}: its content before the run is not known; no diff shown")
            continue
        if colored:
            from rich.syntax import Syntax

            console().print(Syntax(patch, "diff", theme="ansi_dark", background_color="default"))
        else:
            sys.stdout.write(patch)
    sys.stdout.flush()
    return shown


def _show_stat(reviewed: Any) -> int:
    rows: list[tuple[str, str]] = []
    added_total = removed_total = 0
    for item in reviewed:
        _warn_conflict(item)
        added, removed = item.stats()
        kind = item.change.kind
        if item.binary:
            detail = f"Bin {kind.value}, {item.change.size:,} bytes"
        elif added is None or removed is None:
            detail = f"{kind.value} (lines unknown)"
        else:
            added_total += added
            removed_total += removed
            detail = f"+{added:,} -{removed:,}" + (
                f" ({kind.value})" if kind is not ChangeKind.MODIFIED else ""
            )
            base_mode, mode = item.change.base_mode, item.change.mode
            if kind is ChangeKind.MODIFIED and base_mode != mode:
                detail += f" (mode {base_mode:o} -> {mode:o})"
        if not item.change.in_scope:
            detail += f" ({OUTSIDE_LEAF})"
        rows.append((display_path(item.change.path), detail))
    if not rows:
        return 0
    width = max(len(path) for path, _ in rows)
    for path, detail in rows:
        line(f" {path.ljust(width)} | {detail}")
    files = f"{len(rows):,} file{'s' if len(rows) != 1 else ''} changed"
    line(f" {files}, +{added_total:,} -{removed_total:,}")
    return len(rows)


def apply(
    ctx: typer.Context,
    plan_id: PlanRef,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and list what would be written; write nothing.")
    ] = False,
    run_async: Annotated[
        bool, typer.Option("--async", help="Let a worker apply it (a plan.apply job).")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="With --async: wait for the worker to finish it.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="The outcome as JSON.")] = False,
    completed: Annotated[
        bool,
        typer.Option(
            "--completed",
            help="A plan that failed or was cancelled: write its completed subplans' changes; "
            "it stays resumable.",
        ),
    ] = False,
) -> None:
    """Write an executed plan's changes to its project: all of them, or none.

    Takes the project's lock and the plan's; refuses (exit 3, every conflicting path listed,
    nothing written) when a file changed in the project since the plan ran. Each file is
    replaced atomically; an apply that stopped half-way (a crash, a full disk) is completed by
    running this again. Exit 2 for a plan that is not executed.
    """
    app_state = state(ctx)
    db = app_state.db()
    plan = PlanStore(db).get(plan_id)
    if plan.phase is PlanPhase.APPLIED and not dry_run:  # done: say so, exit 0
        if json_out:
            print_json({"plan_id": plan.id, "phase": plan.phase.value, "already": True})
        else:
            line(f"plan {plan.id} is applied already: its changes are in the project")
        return
    from cleveragents.plans import lifecycle

    lifecycle.refuse_if_queued(db, plan)
    applier = _applier(app_state)
    if run_async and not dry_run:
        if completed:
            raise InvalidInputError("--completed applies here; it does not go with --async")
        applier.check_applicable(plan_id)
        enqueue_phase(app_state, plan, JobPhase.APPLY, wait, json_out)
        return
    apply_now(app_state, plan_id, dry_run=dry_run, json_out=json_out, completed=completed)


def _applier(app_state: AppState) -> PlanApplier:
    from cleveragents.plans.apply import PlanApplier

    locks = app_state.settings().settings.locks
    return PlanApplier(
        app_state.db(), plan_lock_ttl_s=locks.plan_ttl, project_lock_ttl_s=locks.project_ttl
    )


def apply_now(
    app_state: AppState,
    plan_id: str,
    *,
    dry_run: bool,
    json_out: bool,
    one_line: bool = False,
    completed: bool = False,
) -> None:
    """Apply (or dry-run) here and report; the exit code says how it went. ``one_line``: the
    JSON outcome as one line (after `plan run --json`'s JSON Lines events)."""
    from cleveragents.plans.apply import ApplyError

    emit = json_line if one_line else print_json
    applier = _applier(app_state)
    with interrupt_to_token() as token:
        try:
            report = applier.apply(plan_id, dry_run=dry_run, token=token, completed=completed)
        except ApplyConflictError as exc:
            if json_out:
                emit(
                    {
                        "plan_id": plan_id,
                        "applied": False,
                        "conflicts": [
                            {**conflict.model_dump(), "path": path_to_text(conflict.path)}
                            for conflict in exc.conflicts
                        ],
                    }
                )
            for conflict in exc.conflicts:
                error(f"conflict: {display_path(conflict.path)}: {conflict.reason}")
            raise
        except ApplyError:
            if token.cancelled:
                error(f"plan {plan_id}: apply interrupted; run `agents plan apply {plan_id}` again")
                raise typer.Exit(INTERRUPTED_EXIT) from None
            raise
    _report(report, json_out, emit)


def _report(report: ApplyReport, json_out: bool, emit: Any = print_json) -> None:
    kinds = dict.fromkeys(ChangeKind, 0)
    for change in report.to_write:
        kinds[change.kind] += 1
    if json_out:
        emit(
            {
                "plan_id": report.plan.id,
                "phase": report.plan.phase.value,
                "dry_run": report.dry_run,
                "applied": not report.dry_run,
                "written": len(report.to_write),
                "already": len(report.already),
                "by_change": {kind.value: count for kind, count in kinds.items()},
                "paths": [
                    {"path": path_to_text(change.path), "change": change.kind.value}
                    for change in report.to_write
                ],
            }
        )
        return
    detail = ", ".join(f"{kind.value} {count:,}" for kind, count in kinds.items() if count)
    already = f"; {len(report.already):,} already applied" if report.already else ""
    count = len(report.to_write)
    files = f"{count:,} file{'s' if count != 1 else ''}"
    if report.dry_run:
        for change in report.to_write:
            line(f"  would write {change.kind.value:<8} {display_path(change.path)}")
        what = f"{files} would be written ({detail or 'none'}){already}"
        line(f"plan {report.plan.id}: dry run: {what}")
        return
    note = _in_place_note(report.plan) if not report.total else None
    if note:
        line(note)
    plan = report.plan
    if plan.phase is not PlanPhase.APPLIED:  # --completed: the plan is to be resumed
        line(
            f"plan {plan.id} ({plan.phase.value}): its completed subplans' changes applied: "
            f"{files} written ({detail or 'none'}){already}; resume it with "
            f"`agents plan execute {plan.id}`, then apply the rest"
        )
        return
    line(f"plan {plan.id} applied: {files} written ({detail or 'none'}){already}")
