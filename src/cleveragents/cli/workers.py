"""`agents worker`: run a worker process, list registered workers."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from cleveragents.cli.commands import help_of
from cleveragents.cli.output import error, print_json
from cleveragents.cli.render import worker_liveness, workers_table
from cleveragents.cli.state import JsonOption, state
from cleveragents.domain.clock import utcnow
from cleveragents.domain.jobs import depth_line
from cleveragents.store.jobs import JobStore
from cleveragents.store.workers import WorkerStore
from cleveragents.worker.builtin_kinds import default_registry
from cleveragents.worker.queues import QueueChoice
from cleveragents.worker.signals import install_signal_handlers
from cleveragents.worker.worker import AsyncWorker

app = typer.Typer(help=help_of("worker"), no_args_is_help=True)


@app.command()
def run(
    ctx: typer.Context,
    max_workers: Annotated[
        int | None,
        typer.Option(
            "--max-workers",
            help="Threads to run jobs on (default: async.max_workers).",
            show_default=False,
        ),
    ] = None,
    poll_interval: Annotated[
        float | None,
        typer.Option(
            "--poll-interval",
            help="Seconds between full polls (default: async.poll_interval).",
            show_default=False,
        ),
    ] = None,
    burst: Annotated[
        bool, typer.Option("--burst", help="Exit once nothing is left to claim.")
    ] = False,
    queues: Annotated[
        str | None,
        typer.Option(
            "--queues",
            help="Serve these queues, preferring the first (a,b), or every queue ('*'). "
            "Default: default.",
            show_default=False,
        ),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            min=0,
            max=65535,
            help="Serve Prometheus metrics on 127.0.0.1:PORT/metrics (0: any free port, logged).",
            show_default=False,
        ),
    ] = None,
    limits: Annotated[
        list[str] | None,
        typer.Option(
            "--concurrency-limit",
            help="QUEUE=N: at most N jobs of that queue run here at once (repeatable).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run jobs until stopped. Ctrl-C or SIGTERM stops gracefully (running jobs finish within
    async.shutdown_grace, the rest go back to the queue); a second signal exits at once.

    A worker serves the queue `default` unless `--queues` says otherwise (`--queues mail,default`
    claims from mail first; `--queues '*'` serves every queue)."""
    choice = QueueChoice.parse(queues, limits or [])
    app_state = state(ctx)
    loaded = app_state.settings(
        **{"async.max_workers": max_workers, "async.poll_interval": poll_interval}
    )
    registry = default_registry(plan_lock_ttl_s=loaded.settings.locks.plan_ttl, settings=loaded)
    metrics = None
    if metrics_port is not None:
        from cleveragents.worker.metrics import WorkerMetrics

        metrics = WorkerMetrics(app_state.db())
        metrics.serve(metrics_port)
    worker = AsyncWorker(
        app_state.db(),
        loaded.settings.async_,
        registry=registry,
        plans_ttl=loaded.settings.plans.ttl,
        queues=choice,
        metrics=metrics,
    )
    restore = install_signal_handlers(worker)
    try:
        worker.run(burst=burst)
    finally:
        restore()
        if metrics is not None:
            metrics.close()
    if worker.unfinished_threads:  # pragma: no cover - needs a job kind that ignores its token
        # (every built-in kind honours it) and os._exit would end the test runner itself.
        # Their jobs are back in the queue; threads that ignore their token cannot be joined.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    if worker.fatal_error is not None:
        raise typer.Exit(1)


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include stopped workers.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Registered workers, with heartbeat freshness, the queues each serves and counters; in
    text, stderr then says how many jobs are queued and running in each queue."""
    app_state = state(ctx)
    stale_after = app_state.settings().settings.async_.stale_after
    workers = WorkerStore(app_state.db()).find(include_stopped=all_)
    now = utcnow()
    if json_out:
        print_json(
            [{**w.to_json(), "liveness": worker_liveness(w, now, stale_after)} for w in workers]
        )
    else:
        workers_table(workers, now, stale_after)
        depths = JobStore(app_state.db()).depths()
        if depths:  # on stderr: stdout stays the listing alone, for scripts
            error(f"by queue: {depth_line(depths)}")
