"""`agents jobs retry`, `jobs cancel` and `jobs purge`: one job, or many by status, kind and age.

The rules (which jobs each verb takes, what it leaves) are store/bulk_jobs.py's. Jobs named by id
are all acted on or none is (exit 3); jobs chosen by filters that a verb does not take are left
and counted. `--dry-run` says what would be done and changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from cleveragents.cli.output import error, line, print_json
from cleveragents.cli.state import ID_HELP, JsonOption, complete_jobs, state
from cleveragents.domain.clock import utcnow
from cleveragents.domain.durations import parse_duration
from cleveragents.domain.jobs import RETRYABLE_STATUSES, TERMINAL_STATUSES, JobStatus
from cleveragents.errors import InvalidInputError

if TYPE_CHECKING:
    from cleveragents.store.bulk_jobs import BulkResult, JobSelection

JobRefs = Annotated[
    list[str] | None,
    typer.Argument(
        help=f"The jobs: each {ID_HELP}.", autocompletion=complete_jobs, show_default=False
    ),
]
StatusOption = Annotated[
    JobStatus | None,
    typer.Option("--status", help="Only jobs in this status.", show_default=False),
]
KindOption = Annotated[
    str | None, typer.Option("--kind", help="Only jobs of this kind.", show_default=False)
]
QueueOption = Annotated[
    str | None, typer.Option("--queue", help="Only jobs of this queue.", show_default=False)
]
SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Only jobs that finished (or, unfinished, were created) within this long: 1h, 2d.",
        show_default=False,
    ),
]
OlderOption = Annotated[
    str | None,
    typer.Option(
        "--older-than",
        help="Only jobs that finished (or were created) longer ago than this: 7d.",
        show_default=False,
    ),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Say what would be done; change nothing.")
]


MAX_AGE_S = 100 * 365 * 86_400.0  # a century: anything older is every job


def _ago(text: str | None, now: datetime) -> datetime | None:
    return None if text is None else now - timedelta(seconds=min(parse_duration(text), MAX_AGE_S))


def _selection(
    ctx: typer.Context,
    refs: list[str] | None,
    status: JobStatus | None,
    kind: str | None,
    queue: str | None,
    since: str | None = None,
    older_than: str | None = None,
) -> JobSelection:
    from cleveragents.store.bulk_jobs import JobSelection
    from cleveragents.store.id_refs import resolve_job

    now = utcnow()
    db = state(ctx).db()
    selection = JobSelection(
        ids=tuple(dict.fromkeys(resolve_job(db, ref) for ref in refs or [])),
        status=status,
        kind=kind,
        queue=queue,
        since=_ago(since, now),
        before=_ago(older_than, now),
    )
    if selection.empty:
        raise InvalidInputError("name the jobs: give their ids, or choose them with --status")
    return selection


def _only(status: JobStatus | None, allowed: frozenset[JobStatus], verb: str) -> None:
    if status is None or status in allowed:
        return
    if allowed == TERMINAL_STATUSES:
        raise InvalidInputError(
            f"only finished jobs (succeeded, failed or cancelled) can be {verb}"
        )
    names = " or ".join(sorted(s.value for s in allowed))
    raise InvalidInputError(f"only {names} jobs can be {verb}, not {status.value} ones")


def _report(result: BulkResult, verb: str, json_out: bool) -> None:
    if json_out:
        print_json(result.to_json())
        return
    for job_id, why in result.skipped.items():
        error(f"left {job_id}: {why}")
    if result.dry_run:
        line(f"would {verb} {len(result.ids)} job(s){':' if result.ids else ''}")
        for job_id in result.ids:
            line(f"  {job_id}")
    else:
        past = {"retry": "retried", "cancel": "cancelled", "purge": "purged"}[verb]
        line(f"{past} {len(result.ids)} job(s)")


def retry(
    ctx: typer.Context,
    job_ids: JobRefs = None,
    status: StatusOption = None,
    kind: KindOption = None,
    queue: QueueOption = None,
    since: SinceOption = None,
    dry_run: DryRunOption = False,
    json_out: JsonOption = False,
) -> None:
    """Queue failed or cancelled jobs again, to run now: by id, or all that match (`agents jobs
    retry --status failed --kind command --since 1h`). Their retries start afresh; what their
    earlier runs did stays in `jobs show`."""
    from cleveragents.store.bulk_jobs import BulkJobs

    _only(status, RETRYABLE_STATUSES, "retried")
    selection = _selection(ctx, job_ids, status, kind, queue, since)
    _report(BulkJobs(state(ctx).db()).retry(selection, utcnow(), dry_run), "retry", json_out)


def cancel(
    ctx: typer.Context,
    job_ids: JobRefs = None,
    status: StatusOption = None,
    kind: KindOption = None,
    queue: QueueOption = None,
    dry_run: DryRunOption = False,
    json_out: JsonOption = False,
) -> None:
    """Cancel jobs: a queued one at once, a running one is stopped by its worker. By id, or all
    that match (`agents jobs cancel --status queued --queue mail`)."""
    _only(status, frozenset({JobStatus.QUEUED, JobStatus.RUNNING}), "cancelled")
    if job_ids and len(job_ids) == 1 and status is kind is queue is None and not dry_run:
        _cancel_one(ctx, job_ids[0], json_out)
        return
    from cleveragents.store.bulk_jobs import BulkJobs

    selection = _selection(ctx, job_ids, status, kind, queue)
    _report(BulkJobs(state(ctx).db()).cancel(selection, utcnow(), dry_run), "cancel", json_out)


def _cancel_one(ctx: typer.Context, ref: str, json_out: bool) -> None:
    from cleveragents.store.id_refs import resolve_job
    from cleveragents.store.jobs import JobStore

    db = state(ctx).db()
    job = JobStore(db).cancel(resolve_job(db, ref), utcnow())
    if json_out:
        print_json(job.to_json())
    elif job.status == JobStatus.CANCELLED:
        line(f"cancelled {job.id}")
    else:
        line(f"cancel requested for {job.id}; its worker will stop it")


def purge(
    ctx: typer.Context,
    job_ids: JobRefs = None,
    status: StatusOption = None,
    kind: KindOption = None,
    queue: QueueOption = None,
    older_than: OlderOption = None,
    dry_run: DryRunOption = False,
    json_out: JsonOption = False,
) -> None:
    """Delete finished jobs and their attempt history: by id, or all that match (`agents jobs
    purge --status failed --older-than 7d`). Queued and running jobs are never purged."""
    from cleveragents.store.bulk_jobs import BulkJobs

    _only(status, TERMINAL_STATUSES, "purged")
    if not job_ids and status is None and older_than is None:
        raise InvalidInputError("name the jobs: give their ids, --status or --older-than")
    selection = _selection(ctx, job_ids, status, kind, queue, older_than=older_than)
    _report(BulkJobs(state(ctx).db()).purge(selection, dry_run), "purge", json_out)
