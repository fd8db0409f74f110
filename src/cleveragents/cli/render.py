"""All terminal output: rich tables on a terminal, plain lines otherwise, JSON on request.

rich is imported when something is drawn for a terminal (or to ask whether stdout is one), not
when this module is: plain output (output.py) costs nothing of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from cleveragents.cli.output import line
from cleveragents.domain.paths import paths_to_text

if TYPE_CHECKING:  # the models come with the stores that return them
    from rich.console import Console
    from rich.tree import Tree

    from cleveragents.domain.jobs import AsyncJob, JobAttempt, WorkerInfo
    from cleveragents.domain.locks import Lock
    from cleveragents.domain.plans import Plan, Subplan
    from cleveragents.domain.projects import Project
    from cleveragents.domain.schedules import Schedule


@cache
def console() -> Console:
    """The rich console on stdout. No emoji codes: ids, paths and owner ids like host:1234:abc
    must print as they are."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True, emoji=False)


def escape(text: str) -> str:
    """``text`` shown as it is inside rich markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


when_text = _when  # a moment as every listing shows it (UTC)


def schedules_table(schedules: Sequence[Schedule]) -> None:
    """A listing of schedules."""
    _table(
        "schedules",
        ["name", "runs", "kind", "queue", "next run", "last run", "last job", "paused"],
        (
            [
                s.name,
                s.when,
                s.kind,
                str(s.job.get("queue", "default")),
                _when(s.next_run_at),
                _when(s.last_run_at),
                s.last_job_id or "-",
                "paused" if s.paused else "-",
            ]
            for s in schedules
        ),
    )


def _table(title: str, headers: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    rows = list(rows)
    if console().is_terminal:
        from rich.table import Table

        table = Table(title=title, title_justify="left")
        # Ids are for copying: never truncate the first column, squeeze the others instead.
        id_width = max((len(row[0]) for row in rows), default=2)
        table.add_column(headers[0], no_wrap=True, min_width=id_width)
        for header in headers[1:]:
            table.add_column(header)
        for row in rows:
            table.add_row(*(escape(cell) for cell in row))  # cells are data, not markup
        console().print(table)
        return
    line("\t".join(headers))
    for row in rows:
        line("\t".join(row))


def jobs_table(jobs: Sequence[AsyncJob]) -> None:
    """A listing of jobs."""
    _table(
        "jobs",
        [
            "id",
            "kind",
            "queue",
            "status",
            "priority",
            "attempts",
            "retries",
            "worker",
            "created",
            "finished",
            "not before",
        ],
        (
            [
                job.id,
                job.kind,
                job.queue,
                job.status.value,
                str(job.priority),
                str(job.attempts),
                f"{min(job.failures, job.retries)}/{job.retries}" if job.retries else "-",
                job.worker_id or "-",
                _when(job.created_at),
                _when(job.finished_at),
                _when(job.run_after)
                if job.status == "queued" and job.run_after > job.created_at
                else "-",
            ]
            for job in jobs
        ),
    )


def projects_table(projects: Sequence[Project]) -> None:
    """A listing of projects."""
    _table(
        "projects",
        ["name", "path", "id", "added"],
        ([p.name, p.root_path, p.id, _when(p.created_at)] for p in projects),
    )


def job_detail(job: AsyncJob, history: Sequence[JobAttempt] = ()) -> None:
    """One job, field by field, then the runs that did not succeed."""
    doc = job.to_json()
    width = max(len(k) for k in doc)
    for key, value in doc.items():
        shown = json.dumps(value) if isinstance(value, dict | list) else value
        line(f"{key.ljust(width)}  {'-' if shown is None else shown}")
    if history:
        line("")
        line("runs that did not succeed:")
    for attempt in history:
        then = f"; queued again, not before {_when(attempt.retry_at)}" if attempt.retry_at else ""
        line(
            f"  attempt {attempt.attempt} {attempt.outcome.value} at "
            f"{_when(attempt.finished_at)} on {attempt.worker_id or '-'}: "
            f"{attempt.error_message or '-'}{then}"
        )


def workers_table(workers: Sequence[WorkerInfo], now: datetime, stale_after: float) -> None:
    """A listing of workers, with whether their heartbeat is fresh."""
    _table(
        "workers",
        [
            "id",
            "host",
            "pid",
            "queues",
            "status",
            "threads",
            "running",
            "done",
            "failed",
            "heartbeat",
        ],
        (
            [
                w.id,
                w.hostname,
                str(w.pid),
                w.queues or "default",
                worker_liveness(w, now, stale_after),
                str(w.max_workers),
                str(w.jobs_running),
                str(w.jobs_succeeded),
                str(w.jobs_failed),
                f"{(now - w.last_heartbeat).total_seconds():.1f}s ago",
            ]
            for w in workers
        ),
    )


def worker_liveness(worker: WorkerInfo, now: datetime, stale_after: float) -> str:
    """running, stale (no heartbeat for stale_after), stopped or lost."""
    if worker.status.value == "running" and not worker.is_live(
        now - timedelta(seconds=stale_after)
    ):
        return "stale"
    return worker.status.value


def key_values(pairs: Iterable[tuple[str, str]]) -> None:
    """Aligned ``key  value`` lines."""
    pairs = list(pairs)
    width = max((len(k) for k, _ in pairs), default=0)
    for key, value in pairs:
        line(f"{key.ljust(width)}  {value}")


def plans_table(plans: Sequence[Plan]) -> None:
    """Plans, one per row."""
    _table(
        "plans",
        ["id", "project", "action", "phase", "created", "finished"],
        ((p.id, p.project_name, p.action_name, p.phase.value, *_times(p)) for p in plans),
    )


def _times(plan: Plan) -> tuple[str, str]:
    return _when(plan.created_at), _when(plan.finished_at)


STATE_STYLES = {
    "completed": "green",
    "failed": "red",
    "cancelled": "yellow",
    "running": "cyan",
    "pending": "dim",
}


def subplan_tree(plan: Plan, nodes: Sequence[Subplan]) -> None:
    """The subplan tree: a rich tree on a terminal, indented lines otherwise."""
    if not nodes:
        return
    children: dict[str | None, list[Subplan]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)

    def describe(node: Subplan) -> str:
        files = f"{node.file_count} file" + ("" if node.file_count == 1 else "s")
        state = f"  {node.state.value}" if node.is_leaf else ""
        return f"{node.label}  ({files}){state}"

    if not console().is_terminal:
        for node in nodes:
            line("  " * node.depth + describe(node))
        return
    root = children[None][0]
    from rich.tree import Tree

    tree = Tree(describe(root))

    def grow(branch: Tree, node: Subplan) -> None:
        for child in children.get(node.id, []):
            style = STATE_STYLES.get(child.state.value, "") if child.is_leaf else "bold"
            grow(branch.add(f"[{style}]{escape(describe(child))}[/]"), child)

    grow(tree, root)
    console().print(tree)


def locks_table(locks: Sequence[Lock], now: datetime) -> None:
    """Locks, one per row."""
    _table(
        "locks",
        ["resource", "owner", "acquired", "expires", "stale"],
        (
            (
                f"{lock.resource_type.value} {lock.resource_id}",
                lock.holder,
                _when(lock.acquired_at),
                _when(lock.expires_at),
                "yes" if lock.is_stale(now) else "no",
            )
            for lock in locks
        ),
    )


def diagnostics_table(checks: Sequence[Any], status: str, duration_ms: float) -> bool:
    """The checks as a rich table on a terminal; False (nothing printed) otherwise."""
    if not console().is_terminal:
        return False
    styles = {"ok": "green", "warn": "yellow", "fail": "red"}
    from rich.table import Table

    table = Table(title=f"diagnostics: {status} ({duration_ms:.0f} ms)", title_justify="left")
    for header in ("status", "check", "message", "remedy"):
        table.add_column(header)
    for check in checks:
        style = styles[check.status.value]
        table.add_row(
            f"[{style}]{check.status.value}[/]",
            escape(check.name),
            escape(check.message),
            escape(check.remedy or "") if check.status.value != "ok" else "",
        )
    console().print(table)
    return True


def plan_json(plan: Plan) -> dict[str, Any]:
    """A plan as `plan list --json` shows it."""
    return {
        "id": plan.id,
        "project": plan.project_name,
        "action": plan.action_name,
        "phase": plan.phase.value,
        "created_at": plan.created_at.isoformat(),
        "started_at": plan.started_at.isoformat() if plan.started_at else None,
        "finished_at": plan.finished_at.isoformat() if plan.finished_at else None,
        "job_id": plan.job_id,
    }


def plan_status_json(plan: Plan, nodes: list[Subplan]) -> dict[str, Any]:
    """A plan with its profile, leaf counts and every subplan: `plan status --json`'s shape."""
    leaves = [node for node in nodes if node.is_leaf]
    from cleveragents.domain.plans import tree_states

    states = tree_states(nodes)
    tally = dict.fromkeys(("pending", "running", "completed", "failed", "cancelled"), 0)
    for leaf in leaves:
        tally[leaf.state.value] += 1
    return {
        **plan_json(plan),
        "profile": plan.profile.as_json(),
        "concurrency": plan.concurrency,  # set once rate limits lowered it
        "counts": tally,
        "subplans": [
            {
                "id": node.id,
                "parent_id": node.parent_id,
                "depth": node.depth,
                "label": node.label,
                "state": states[node.id].value,
                "files": paths_to_text(node.files),  # names that are not UTF-8: stored text
                "exit_code": node.exit_code,
                "error_message": node.error_message,
                "verification": node.verification,
                "rejection": node.rejection,
                "attempts": node.attempts,
                "cost_usd": node.cost_usd,
                "input_tokens": node.input_tokens,
                "output_tokens": node.output_tokens,
                "result": node.result_json,
                "result_error": node.result_error,
                "retry_at": node.retry_at.isoformat() if node.retry_at else None,
                "started_at": node.started_at.isoformat() if node.started_at else None,
                "finished_at": node.finished_at.isoformat() if node.finished_at else None,
            }
            for node in nodes
        ],
        "error_message": plan.error_message,
    }
