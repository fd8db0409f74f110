"""`agents jobs`: enqueue, list, show, wait for, prune and recover background jobs (cancel,
retry and purge, of one job or many: cli/jobs_bulk.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer

from cleveragents.cli import jobs_bulk
from cleveragents.cli.commands import help_of
from cleveragents.cli.output import error, line, print_json
from cleveragents.cli.render import job_detail, jobs_table, key_values
from cleveragents.cli.state import JobRef, JsonOption, state
from cleveragents.domain.clock import utcnow
from cleveragents.domain.durations import parse_duration, parse_instant
from cleveragents.domain.jobs import DEFAULT_QUEUE, JobStatus, depth_line
from cleveragents.errors import InvalidInputError
from cleveragents.store.jobs import JobStore
from cleveragents.worker.queue import JobQueue
from cleveragents.worker.upkeep import log_recovery

app = typer.Typer(help=help_of("jobs"), no_args_is_help=True)

TIMEOUT_EXIT = 124


def installed_kinds() -> str:
    """The last paragraph of `jobs enqueue --help`: every kind installed, and any package whose
    kinds failed to load."""
    from cleveragents.worker.builtin_kinds import default_registry

    registry = default_registry()
    names = registry.names()
    described = [(name, registry.get(name).description.rstrip(".")) for name in names]
    text = "Installed kinds: " + ", ".join(
        f"{name} ({about})" if about else name for name, about in described
    )
    for point, why in registry.broken.items():
        text += f". Not loaded: {point} ({why})"
    return text + "."


HELP_EPILOGS = {"enqueue": installed_kinds}


def _payload(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            f"--payload is not valid JSON: {exc.msg} at position {exc.pos}"
        ) from None
    if not isinstance(value, dict):
        raise InvalidInputError("--payload must be a JSON object")
    return value


def payload_of(text: str | None, kind: str, argv: list[str] | None) -> dict[str, Any]:
    """The payload of `--payload TEXT`, with `-- ARGV` as the `command` kind's argv."""
    body = _payload(text)
    if argv:
        if kind != "command":
            raise InvalidInputError(
                f"only the `command` kind takes an argv after `--`, not {kind!r}"
            )
        body["argv"] = argv
    return body


def _not_before(delay: str | None, at: str | None) -> datetime | None:
    """When a job asked to wait may be claimed: --delay from now, or --at (not both)."""
    if delay is not None and at is not None:
        raise InvalidInputError("give --delay or --at, not both")
    if delay is not None:
        return utcnow() + timedelta(seconds=parse_duration(delay))
    if at is None:
        return None
    moment = parse_instant(at)
    if moment < utcnow():
        error(f"--at {at} is in the past: the job may run at once")
    return moment


@app.command()
def enqueue(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="Job kind (the installed ones are listed below).")],
    argv: Annotated[
        list[str] | None,
        typer.Argument(
            help="For `command`: the program and its arguments, after `--`.", show_default=False
        ),
    ] = None,
    payload: Annotated[
        str | None,
        typer.Option("--payload", help="The payload as a JSON object.", show_default=False),
    ] = None,
    priority: Annotated[int, typer.Option("--priority", help="Lower runs first (0 or more).")] = 0,
    max_attempts: Annotated[
        int | None,
        typer.Option(
            "--max-attempts",
            help="Runs allowed if workers die (default: async.max_attempts).",
            show_default=False,
        ),
    ] = None,
    count: Annotated[
        int, typer.Option("--count", min=1, max=1_000_000, help="Enqueue this many copies at once.")
    ] = 1,
    delay: Annotated[
        str | None,
        typer.Option(
            "--delay", help="Not before this long from now (90s, 10m, 2h).", show_default=False
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Not before this time (ISO 8601 with a zone: 2026-12-24T08:00:00Z).",
            show_default=False,
        ),
    ] = None,
    unique_key: Annotated[
        str | None,
        typer.Option(
            "--unique-key",
            help="While a job with this key is queued or running, add none: print that job's id.",
            show_default=False,
        ),
    ] = None,
    queue_name: Annotated[
        str,
        typer.Option("--queue", help="The queue: only workers serving it run the job."),
    ] = DEFAULT_QUEUE,
    retries: Annotated[
        int | None,
        typer.Option(
            "--retries",
            help="Try a failed run again this many times (default: async.retries).",
            show_default=False,
        ),
    ] = None,
    backoff: Annotated[
        str | None,
        typer.Option(
            "--backoff",
            help="The first retry waits up to this long, doubling after (default: async.backoff).",
            show_default=False,
        ),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Add a job to the queue and print its id. With --delay or --at it stays queued, and no
    worker claims it, until then. With --retries N a failed run is tried again up to N times,
    each after a random wait of up to --backoff doubled per failure (capped by
    async.max_backoff); a cancelled job never is. With --unique-key, a job holding the key
    already is printed instead (exit 0; --json: "deduplicated": true).

    Examples: `agents jobs enqueue sleep --payload '{"seconds": 5}'`,
    `agents jobs enqueue command --delay 10m -- make test`.
    """
    run_after = _not_before(delay, at)
    app_state = state(ctx)
    settings = app_state.settings().settings
    body = payload_of(payload, kind, argv)
    queue = JobQueue(app_state.db())
    attempts = settings.async_.max_attempts if max_attempts is None else max_attempts
    options: dict[str, Any] = {
        "priority": priority,
        "max_attempts": attempts,
        "run_after": run_after,
        "queue": queue_name,
        "retries": settings.async_.retries if retries is None else retries,
        "backoff_s": settings.async_.backoff if backoff is None else parse_duration(backoff),
    }
    if unique_key is not None:
        if count != 1:
            raise InvalidInputError("--unique-key enqueues one job; it does not go with --count")
        job, held = queue.enqueue_unique(kind, body, unique_key=unique_key, **options)
        if held and not json_out:
            error(
                f"job {job.id} ({job.status.value}) holds the unique key {unique_key!r}: none added"
            )
        print_json({**job.to_json(), "deduplicated": held}) if json_out else line(job.id)
        return
    if count == 1:
        job = queue.enqueue(kind, body, **options)
        print_json(job.to_json()) if json_out else line(job.id)
        return
    template = queue.build(kind, body, **options)
    ids = queue.enqueue_many([template] * count)
    if json_out:
        print_json({"ids": ids, "count": len(ids)})
    else:
        for job_id in ids:
            line(job_id)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        JobStatus | None,
        typer.Option("--status", help="Only jobs in this status.", show_default=False),
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only jobs of this kind.", show_default=False)
    ] = None,
    queue_name: Annotated[
        str | None,
        typer.Option("--queue", help="Only jobs of this queue.", show_default=False),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=100_000, help="At most this many, newest first.")
    ] = 50,
    json_out: JsonOption = False,
) -> None:
    """List jobs, newest first; in text, stderr then says how many are queued and running in
    each queue (stdout stays the listing alone, for scripts)."""
    store = JobStore(state(ctx).db())
    jobs = store.find(status=status, kind=kind, limit=limit, queue=queue_name)
    if json_out:
        print_json([job.to_json() for job in jobs])
        return
    jobs_table(jobs)
    depths = store.depths()
    if depths:
        error(f"by queue: {depth_line(depths)}")


@app.command()
def show(ctx: typer.Context, job_id: JobRef, json_out: JsonOption = False) -> None:
    """Show one job: status, attempts, worker, timestamps, error and result, then each run
    that did not succeed (failed or lost with its worker) with its error."""
    store = JobStore(state(ctx).db())
    job, history = store.get(job_id), store.history(job_id)
    if json_out:
        print_json({**job.to_json(), "history": [attempt.to_json() for attempt in history]})
    else:
        job_detail(job, history)


app.command()(jobs_bulk.cancel)
app.command()(jobs_bulk.retry)
app.command()(jobs_bulk.purge)


@app.command()
def wait(
    ctx: typer.Context,
    job_id: JobRef,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=0,
            help="Give up after this many seconds (exit 124).",
            show_default=False,
        ),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Wait for a job to finish.

    Exit 0 if it succeeded, 1 if it failed or was cancelled, 124 on timeout.
    """
    job = JobQueue(state(ctx).db()).wait(job_id, timeout)
    if json_out:
        print_json(job.to_json())
    else:
        line(
            f"{job.id} {job.status.value}" + (f": {job.error_message}" if job.error_message else "")
        )
    if not job.status.is_terminal:
        raise typer.Exit(TIMEOUT_EXIT)
    if job.status != JobStatus.SUCCEEDED:
        raise typer.Exit(1)


@app.command()
def prune(
    ctx: typer.Context,
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            help="Age like 90s, 15m, 12h, 7d (default: async.job_ttl).",
            show_default=False,
        ),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Delete finished jobs older than the given age."""
    app_state = state(ctx)
    seconds = (
        app_state.settings().settings.async_.job_ttl
        if older_than is None
        else parse_duration(older_than)
    )
    queue = JobQueue(app_state.db())
    deleted = queue.store.prune(queue.clock() - timedelta(seconds=seconds))
    print_json({"deleted": deleted}) if json_out else line(f"deleted {deleted} finished job(s)")


@app.command()
def recover(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Requeue (or fail, without attempts left) running jobs whose worker stopped heartbeating."""
    app_state = state(ctx)
    stale_after = app_state.settings().settings.async_.stale_after
    queue = JobQueue(app_state.db())
    report = queue.recover(stale_after)
    log_recovery(report)
    if json_out:
        print_json(report.model_dump())
        return
    key_values(
        [
            ("requeued", ", ".join(report.requeued) or "none"),
            ("failed", ", ".join(report.failed) or "none"),
            ("workers lost", ", ".join(report.lost_workers) or "none"),
        ]
    )
