"""`agents diagnostics`: is the system healthy? For terminals and CI.

The report is built by :func:`cleveragents.diagnostics.run.diagnose`; this module parses the
options, renders the report (a rich table on a terminal), writes ``--output`` and sets the exit
code. ``--async`` enqueues a ``diagnostics.report`` job instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cleveragents.cli.output import json_line, line
from cleveragents.cli.render import diagnostics_table
from cleveragents.cli.state import state
from cleveragents.diagnostics.report import Report, ReportFormat
from cleveragents.diagnostics.results import Status
from cleveragents.diagnostics.run import PROBE_TIMEOUT_S, diagnose, settings_or_report
from cleveragents.errors import InvalidInputError
from cleveragents.worker.builtin_kinds import default_registry
from cleveragents.worker.queue import JobQueue

app = typer.Typer()


@app.command("diagnostics")
def diagnostics(
    ctx: typer.Context,
    output_format: Annotated[
        ReportFormat, typer.Option("--format", help="text, json (one document) or junit (XML).")
    ] = ReportFormat.TEXT,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            help="Also write the report (in --format) to this file; stdout gets the summary.",
            show_default=False,
        ),
    ] = None,
    probe: Annotated[
        bool | None,
        typer.Option(
            "--probe/--no-probe",
            help="Run a probe job through a worker (default: when a live worker is registered).",
            show_default=False,
        ),
    ] = None,
    probe_timeout: Annotated[
        float, typer.Option("--probe-timeout", min=0.1, help="Seconds to wait for the probe.")
    ] = PROBE_TIMEOUT_S,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    run_async: Annotated[
        bool,
        typer.Option(
            "--async",
            help="Let a worker run the checks: prints the job id; the report is its result "
            "(`agents jobs show ID --json`).",
        ),
    ] = False,
) -> None:
    """Check the database, schema, workers, queue, stuck jobs, locks and plans.

    Exit 0 when nothing failed, 1 when a check failed (--strict: or warned). Changes nothing
    but the probe job, which is removed afterwards.
    """
    app_state = state(ctx)
    if run_async:
        loaded = settings_or_report(app_state.settings)
        if isinstance(loaded, Report):  # the settings cannot be loaded: a failing report
            _finish(loaded, output_format, output, strict)
            return
        job = JobQueue(app_state.db()).enqueue("diagnostics.report", {"strict": strict})
        if output_format is ReportFormat.JSON:
            json_line({"job_id": job.id})
        else:
            line(job.id)
        return
    report = diagnose(
        app_state.settings,
        lambda: app_state.db(migrate=False),
        probe=probe,
        probe_timeout_s=probe_timeout,
        job_kinds=default_registry().facts(),
    )
    _finish(report, output_format, output, strict)


def _finish(report: Report, output_format: ReportFormat, output: Path | None, strict: bool) -> None:
    """Emit ``report``; exit 1 when it failed."""
    _emit(report, output_format, output, strict)
    if report.status(strict) is Status.FAIL:
        raise typer.Exit(1)


def _emit(report: Report, output_format: ReportFormat, output: Path | None, strict: bool) -> None:
    if output is not None:
        try:
            output.write_text(report.document(output_format, strict), encoding="utf-8")
        except OSError as exc:
            raise InvalidInputError(f"cannot write {output}: {exc.strerror or exc}") from exc
    if output_format is ReportFormat.TEXT or output is not None:
        if not diagnostics_table(report.checks, report.status(strict).value, report.duration_ms):
            for text in report.text_lines(strict):
                line(text)
        return
    typer.echo(report.document(output_format, strict), nl=False)
