"""`agents plan status` and `agents plan show`: where a plan is, and what it is."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer

from cleveragents.cli.output import line, print_json
from cleveragents.cli.render import key_values, plan_status_json, subplan_tree
from cleveragents.cli.state import JsonOption, PlanRef, state, subplan_ids
from cleveragents.domain.paths import paths_to_text, safe_text
from cleveragents.domain.plans import Plan, Subplan, SubplanState
from cleveragents.errors import NotFoundError
from cleveragents.plans.prompts import render
from cleveragents.store.changes import ChangeStore
from cleveragents.store.plans import PlanStore

TAIL_LINES = 20  # lines of a failed leaf's output that `plan status` shows
LISTED = 100  # leaves `plan status` lists in text; past that it says how to see the rest
# The order `plan status` lists leaves in: what needs a look first.
STATE_ORDER = [SubplanState.FAILED, SubplanState.CANCELLED, SubplanState.RUNNING]
STATE_ORDER += [SubplanState.PENDING, SubplanState.COMPLETED]
StateOption = Annotated[
    list[SubplanState] | None,
    typer.Option("--state", help="Only the leaves in this state (repeatable).", show_default=False),
]


def output_tail(output: str | None, lines: int = TAIL_LINES) -> list[str]:
    """The last ``lines`` lines of ``output`` that are not blank."""
    kept = [text for text in (output or "").splitlines() if text.strip()]
    return kept[-lines:]


def status(
    ctx: typer.Context,
    plan_id: PlanRef,
    states: StateOption = None,
    json_out: JsonOption = False,
) -> None:
    """Where a plan is: phase, leaf counts, recorded changes, then its leaves, failures first,
    each with its state, duration and attempts, the last lines of a failed leaf's output (its
    whole output: `agents plan logs`) and when a waiting one tries again."""
    db = state(ctx).db()
    plans = PlanStore(db)
    plan = plans.get(plan_id)
    nodes = plans.subplans(plan_id)
    document = {**plan_status_json(plan, nodes), "changes": ChangeStore(db).summary(plan_id)}
    document["totals"] = totals = plans.totals(plan_id)
    recorded = ChangeStore(db).by_subplan(plan.id)
    for node in document["subplans"]:  # which leaves' changes are written (apply --completed)
        node["changes"], node["applied"] = recorded.get(node["id"], (0, 0))
    if states:
        wanted = {state.value for state in states}
        document["subplans"] = [n for n in document["subplans"] if n["state"] in wanted]
    if json_out:
        print_json(document)
        return
    counts = document["counts"]
    changes = document["changes"]
    key_values(
        [
            ("plan", plan.id),
            ("project", plan.project_name),
            ("action", plan.action_name),
            ("phase", plan.phase.value),
            ("job", plan.job_id or "-"),
            ("leaves", "  ".join(f"{name} {count}" for name, count in counts.items())),
            (
                "changes",
                "  ".join(f"{name} {changes[name]}" for name in ("created", "modified", "deleted"))
                + f"  (applied {changes['applied']})",
            ),
            ("error", plan.error_message or "-"),
        ]
        + ([("reported", _totals(totals))] if totals else [])
        + (
            [("concurrency", f"{plan.concurrency} of {plan.profile.parallel} (rate limits)")]
            if plan.concurrency is not None
            else []
        )
    )
    verified = Counter(node.verification for node in nodes if node.verification)
    if verified:
        line("  verification: " + "  ".join(f"{name} {n}" for name, n in sorted(verified.items())))
    _list_leaves(plan, [node for node in nodes if node.is_leaf], states)
    for node in nodes:
        _leaf_notes(node)


def _list_leaves(plan: Plan, leaves: list[Subplan], states: list[SubplanState] | None) -> None:
    """The leaves, failures first (then cancelled, running, pending, completed), one line each;
    at most LISTED of them."""
    if states:
        leaves = [leaf for leaf in leaves if leaf.state in states]
    leaves.sort(key=lambda leaf: STATE_ORDER.index(leaf.state))
    if leaves:
        line("subplans:")
    width = max((len(leaf.label) for leaf in leaves[:LISTED]), default=0)
    for leaf in leaves[:LISTED]:
        line(f"  {leaf.state.value:<9} {leaf.label.ljust(width)}  {_leaf_detail(leaf)}".rstrip())
        if leaf.state is SubplanState.FAILED:
            line(f"    error: {leaf.error_message}")
            for text in output_tail(leaf.output_tail):
                line(f"    | {text}")
        if leaf.state is SubplanState.RUNNING and leaf.retry_at is not None:
            line(
                f"    waiting: attempt {leaf.attempts} failed ({leaf.error_message}); "
                f"next attempt at {leaf.retry_at.isoformat(timespec='seconds')}"
            )
    if len(leaves) > LISTED:
        line(
            f"  ... and {len(leaves) - LISTED} more (`agents plan status {plan.id} --state "
            "failed`, or --json for all)"
        )


def _leaf_detail(leaf: Subplan) -> str:
    """``12.3s  attempt 2  3 files``: how long it ran, which attempt, how big it is."""
    parts = []
    if leaf.started_at is not None and leaf.finished_at is not None:
        parts.append(f"{(leaf.finished_at - leaf.started_at).total_seconds():.1f}s")
    if leaf.attempts > 1:
        parts.append(f"attempt {leaf.attempts}")
    parts.append(f"{leaf.file_count} file{'s' if leaf.file_count != 1 else ''}")
    return "  ".join(parts)


def _leaf_notes(node: Subplan) -> None:
    """What `plan status` says of a subplan besides its line: a rejection, a bad result."""
    if node.rejection is not None:
        line(f"  rejected {node.label}: {node.rejection}")
    if node.is_leaf and node.result_error is not None:
        line(f"  invalid result of {node.label}: {node.result_error}")


def _totals(totals: dict[str, float]) -> str:
    """``cost $0.4200  tokens in 12,000 out 900``: what the leaves reported, summed."""
    parts = []
    if "cost_usd" in totals:
        parts.append(f"cost ${totals['cost_usd']:.4f}")
    if "input_tokens" in totals or "output_tokens" in totals:
        tokens_in, tokens_out = totals.get("input_tokens", 0), totals.get("output_tokens", 0)
        parts.append(f"tokens in {tokens_in:,.0f} out {tokens_out:,.0f}")
    return "  ".join(parts)


SubplanOption = Annotated[
    str | None,
    typer.Option("--subplan", help="One leaf subplan: its files, state and rendered prompt."),
]


def show(
    ctx: typer.Context,
    plan_id: PlanRef,
    subplan: SubplanOption = None,
    json_out: JsonOption = False,
) -> None:
    """A plan's action, its profile with where each value came from, and its subplan tree (or,
    with --subplan, one leaf with the prompt its command gets)."""
    plans = PlanStore(state(ctx).db())
    plan = plans.get(plan_id)
    nodes = plans.subplans(plan_id)
    if subplan is not None:
        [subplan] = subplan_ids(ctx, plan_id, [subplan]) or []
        _show_leaf(plan, nodes, subplan, json_out)
        return
    bound = [
        {"action": event.data["action"], "source": event.data.get("source"), "at": event.at}
        for event in plans.phase_events(plan_id)
        if "action" in event.data
    ]
    if json_out:
        document = {**plan_status_json(plan, nodes), "action_definition": plan.action}
        print_json({**document, "action_bound": bound})
        return
    key_values(
        [
            ("plan", plan.id),
            ("project", plan.project_name),
            ("action", f"{plan.action_name} ({plan.action.get('source', '?')})"),
            ("phase", plan.phase.value),
        ]
        + [
            ("bound", f"{b['action']} ({b['source']}) at {b['at']:%Y-%m-%d %H:%M:%S}")
            for b in bound
        ]
        + [
            (name, f"{value['value']}  (from {value['source']})")
            for name, value in plan.profile.as_json().items()
        ]
    )
    subplan_tree(plan, nodes)


def _show_leaf(plan: Plan, nodes: list[Subplan], subplan_id: str, json_out: bool) -> None:
    leaf = next((node for node in nodes if node.id == subplan_id and node.is_leaf), None)
    if leaf is None:
        raise NotFoundError(f"plan {plan.id} has no leaf subplan {subplan_id}")
    template = plan.action.get("prompt")
    prompt = None
    if template is not None:
        params = plan.action.get("params") or {}
        prompt = render(
            template, files=leaf.files, label=leaf.label, project=plan.project_name, params=params
        )
    if json_out:
        document = leaf.model_dump(mode="json", exclude={"files"})
        shown = None if prompt is None else safe_text(prompt)
        print_json({**document, "files": paths_to_text(leaf.files), "prompt": shown})
        return
    key_values(
        [
            ("subplan", leaf.id),
            ("label", leaf.label),
            ("state", leaf.state.value),
            ("attempts", str(leaf.attempts)),
            ("files", str(leaf.file_count)),
        ]
    )
    for path in leaf.files:
        line(f"  {path}")
    if prompt is not None:
        line("prompt:")
        line(prompt)
