"""`agents diagnostics`: is the system healthy? For terminals and CI."""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cleveragents.cli.render import diagnostics_table, line
from cleveragents.cli.state import state
from cleveragents.diagnostics.checks import CheckResult, Context, Status, run_checks
from cleveragents.diagnostics.probe import run_probe
from cleveragents.diagnostics.report import Report
from cleveragents.domain.clock import utcnow
from cleveragents.errors import ConfigError, InvalidInputError
from cleveragents.store.engine import Database
from cleveragents.worker.queue import JobQueue


class Format(StrEnum):
    """Report formats."""

    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"


def diagnostics(
    ctx: typer.Context,
    output_format: Annotated[
        Format, typer.Option("--format", help="text, json (one document) or junit (XML).")
    ] = Format.TEXT,
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
    ] = 10.0,
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
    started = time.monotonic()
    app_state = state(ctx)
    try:
        loaded = app_state.settings()
    except ConfigError as exc:
        report = Report(
            [CheckResult("settings", Status.FAIL, exc.message, {}, "agents config show")],
            utcnow(),
            (time.monotonic() - started) * 1000,
        )
        _emit(report, output_format, output, strict)
        raise typer.Exit(1) from None
    if run_async:
        job = JobQueue(app_state.db()).enqueue("diagnostics.report", {"strict": strict})
        if output_format is Format.JSON:
            typer.echo(json.dumps({"job_id": job.id}))
        else:
            line(job.id)
        return
    candidate = Database(loaded.settings.database_url, loaded.settings.sqlite)
    candidate.dispose()
    if not candidate.exists():  # looking must not create it
        missing = CheckResult(
            "database",
            Status.FAIL,
            f"no database at {candidate.path}",
            {"path": str(candidate.path)},
            "agents db upgrade",
        )
        _emit(
            Report([missing], utcnow(), (time.monotonic() - started) * 1000),
            output_format,
            output,
            strict,
        )
        raise typer.Exit(1)
    db = app_state.db(migrate=False)
    results = run_checks(Context(db=db, settings=loaded, now=utcnow()))
    workers = next(r for r in results if r.name == "workers")
    if probe is None:
        probe = bool(workers.details.get("live"))
    if probe:
        schema_ok = next(r for r in results if r.name == "schema").status is Status.OK
        if schema_ok:
            results.append(run_probe(db, probe_timeout, utcnow))
        else:
            results.append(
                CheckResult(
                    "probe",
                    Status.FAIL,
                    "not run: the schema is not at head",
                    {},
                    "agents db upgrade",
                )
            )
    report = Report(results, utcnow(), (time.monotonic() - started) * 1000)
    _emit(report, output_format, output, strict)
    if report.status(strict) is Status.FAIL:
        raise typer.Exit(1)


def _document(report: Report, output_format: Format, strict: bool) -> str:
    if output_format is Format.JSON:
        return json.dumps(report.to_json(strict), indent=2) + "\n"
    if output_format is Format.JUNIT:
        return report.to_junit()
    return "".join(f"{text}\n" for text in _text_lines(report, strict))


def _text_lines(report: Report, strict: bool) -> list[str]:
    lines = []
    for check in report.checks:
        lines.append(f"{check.status.value:<4}  {check.name:<12}  {check.message}")
        if check.remedy and check.status is not Status.OK:
            lines.append(f"      {'':<12}  remedy: {check.remedy}")
    lines.append(f"status: {report.status(strict).value} ({report.duration_ms:.0f} ms)")
    return lines


def _emit(report: Report, output_format: Format, output: Path | None, strict: bool) -> None:
    if output is not None:
        try:
            output.write_text(_document(report, output_format, strict), encoding="utf-8")
        except OSError as exc:
            raise InvalidInputError(f"cannot write {output}: {exc.strerror or exc}") from exc
    if output_format is Format.TEXT or output is not None:
        if not diagnostics_table(report.checks, report.status(strict).value, report.duration_ms):
            for text in _text_lines(report, strict):
                line(text)
        return
    typer.echo(_document(report, output_format, strict), nl=False)
