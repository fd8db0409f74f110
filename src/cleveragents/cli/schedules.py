"""`agents schedule`: jobs enqueued on a cron expression or a fixed interval, by any running
worker (the rules: domain/schedules.py; exactly one job per slot: store/schedules.py)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from cleveragents.cli.commands import help_of
from cleveragents.cli.jobs import payload_of
from cleveragents.cli.output import line, print_json
from cleveragents.cli.render import key_values, when_text
from cleveragents.cli.state import JsonOption, state
from cleveragents.domain.clock import utcnow
from cleveragents.domain.durations import parse_duration
from cleveragents.domain.jobs import DEFAULT_QUEUE
from cleveragents.domain.schedules import MAX_EVERY_S, MIN_EVERY_S, CatchUp, Schedule, check_cron
from cleveragents.errors import InvalidInputError
from cleveragents.store.schedules import ScheduleStore

app = typer.Typer(help=help_of("schedule"), no_args_is_help=True)

NameArgument = Annotated[str, typer.Argument(help="The schedule's name.", show_default=False)]


def _check_name(name: str) -> str:
    if not 1 <= len(name) <= 100 or any(c.isspace() for c in name):
        raise InvalidInputError(f"invalid schedule name {name!r}: 1 to 100 characters, no spaces")
    return name


@app.command()
def add(
    ctx: typer.Context,
    name: NameArgument,
    kind: Annotated[str, typer.Argument(help="The job kind each run enqueues.")],
    argv: Annotated[
        list[str] | None,
        typer.Argument(
            help="For `command`: the program and its arguments, after `--`.", show_default=False
        ),
    ] = None,
    cron: Annotated[
        str | None,
        typer.Option("--cron", help='A cron expression: "*/15 * * * *".', show_default=False),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone", help="The cron expression's time zone (default UTC).", show_default=False
        ),
    ] = None,
    every: Annotated[
        str | None,
        typer.Option("--every", help="A fixed interval instead: 30s, 15m, 1h.", show_default=False),
    ] = None,
    payload: Annotated[
        str | None,
        typer.Option("--payload", help="The jobs' payload, a JSON object.", show_default=False),
    ] = None,
    queue_name: Annotated[
        str, typer.Option("--queue", help="The queue of the jobs it enqueues.")
    ] = DEFAULT_QUEUE,
    priority: Annotated[int, typer.Option("--priority", help="Lower runs first.")] = 0,
    retries: Annotated[
        int | None,
        typer.Option(
            "--retries",
            help="Retries of a failed run (default: async.retries).",
            show_default=False,
        ),
    ] = None,
    catch_up: Annotated[
        CatchUp,
        typer.Option(
            "--catch-up",
            help="After downtime: run the latest missed slot (latest) or none (skip).",
        ),
    ] = CatchUp.LATEST,
    json_out: JsonOption = False,
) -> None:
    """Add a schedule: any running worker enqueues a KIND job at each slot, exactly one per slot
    however many workers run. After downtime only the latest missed slot runs (--catch-up).

    Examples: `agents schedule add nightly --cron "0 3 * * *" --timezone Europe/Paris command --
    make report`, `agents schedule add ping --every 30s noop`."""
    from cleveragents.worker.queue import JobQueue

    _check_name(name)
    if (cron is None) == (every is None):
        raise InvalidInputError("give --cron or --every (one of them)")
    if timezone is not None and cron is None:
        raise InvalidInputError("--timezone goes with --cron")
    every_s = None
    if cron is not None:
        check_cron(cron, timezone)
    else:
        every_s = parse_duration(every or "")
        if not MIN_EVERY_S <= every_s <= MAX_EVERY_S:
            raise InvalidInputError(
                f"--every must be at least {MIN_EVERY_S:g} s and at most a year"
            )
    body = payload_of(payload, kind, argv)
    app_state = state(ctx)
    defaults = app_state.settings().settings.async_
    job = JobQueue(app_state.db()).build(
        kind,
        body,
        priority=priority,
        retries=defaults.retries if retries is None else retries,
        backoff_s=defaults.backoff,
        max_attempts=defaults.max_attempts,
        queue=queue_name,
    )
    options = job.model_dump(
        mode="json", include={"queue", "priority", "retries", "backoff_s", "max_attempts"}
    )
    now = utcnow()
    schedule = ScheduleStore(app_state.db()).add(
        Schedule(
            name=name,
            kind=kind,
            payload=job.payload,
            job=options,
            cron=cron,
            timezone=timezone,
            every_s=every_s,
            catch_up=catch_up,
            created_at=now,
            next_run_at=now,
        )
    )
    if json_out:
        print_json(schedule.to_json())
    else:
        line(f"schedule {name}: {schedule.when}, next run {when_text(schedule.next_run_at)}")


@app.command("list")
def list_(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """Every schedule: when it runs, its next and last run, whether it is paused."""
    found = ScheduleStore(state(ctx).db()).find()
    if json_out:
        print_json([schedule.to_json() for schedule in found])
        return
    from cleveragents.cli.render import schedules_table

    schedules_table(found)


@app.command()
def show(
    ctx: typer.Context,
    name: NameArgument,
    last: Annotated[
        int, typer.Option("--runs", min=0, max=10_000, help="Show this many latest runs.")
    ] = 10,
    json_out: JsonOption = False,
) -> None:
    """One schedule and its latest runs (slot and job)."""
    store = ScheduleStore(state(ctx).db())
    schedule, runs = store.get(name), store.runs(name, last)
    recent = [{"slot": slot.isoformat(), "job_id": job_id} for slot, job_id in runs]
    if json_out:
        print_json({**schedule.to_json(), "runs": recent})
        return
    pairs: list[tuple[str, Any]] = [
        ("name", schedule.name),
        ("runs", schedule.when),
        ("kind", schedule.kind),
        ("payload", schedule.payload),
        ("job", schedule.job),
        ("catch up", schedule.catch_up.value),
        ("paused", schedule.paused),
        ("next run", when_text(schedule.next_run_at)),
        ("last run", when_text(schedule.last_run_at)),
        ("last job", schedule.last_job_id or "-"),
    ]
    key_values(
        [
            (key, json.dumps(value) if isinstance(value, dict) else str(value))
            for key, value in pairs
        ]
    )
    for slot, job_id in runs:
        line(f"  {when_text(slot)}  {job_id}")


@app.command()
def remove(ctx: typer.Context, name: NameArgument) -> None:
    """Delete a schedule (the jobs it enqueued stay)."""
    ScheduleStore(state(ctx).db()).remove(name)
    line(f"removed schedule {name}")


@app.command()
def pause(ctx: typer.Context, name: NameArgument) -> None:
    """Stop enqueueing until resumed."""
    ScheduleStore(state(ctx).db()).set_paused(name, True, utcnow())
    line(f"paused schedule {name}")


@app.command()
def resume(ctx: typer.Context, name: NameArgument) -> None:
    """Enqueue again, from the first slot after now (the paused slots do not run)."""
    schedule = ScheduleStore(state(ctx).db()).set_paused(name, False, utcnow())
    line(f"resumed schedule {name}: next run {when_text(schedule.next_run_at)}")
