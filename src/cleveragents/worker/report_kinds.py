"""Job kinds that report on the system from inside a worker: ``diagnostics.report``."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict

from cleveragents.diagnostics.checks import Context, run_checks
from cleveragents.diagnostics.report import Report
from cleveragents.settings import LoadedSettings, load_settings
from cleveragents.worker.kinds import JobContext, JobKind


class ReportPayload(BaseModel):
    """How to judge the report."""

    model_config = ConfigDict(extra="forbid")

    strict: bool = False


def report_kinds(settings: LoadedSettings | None = None) -> tuple[JobKind, ...]:
    """The report kinds, judging with ``settings`` (default: the worker's own, loaded now)."""

    def report(payload: ReportPayload, ctx: JobContext) -> dict[str, Any]:
        assert ctx.db is not None, "the worker passes its database"
        started = time.monotonic()
        loaded = settings or load_settings()
        results = run_checks(Context(db=ctx.db, settings=loaded, now=ctx.clock()))
        done = Report(results, ctx.clock(), (time.monotonic() - started) * 1000)
        return done.to_json(payload.strict)

    return (
        JobKind(
            "diagnostics.report",
            ReportPayload,
            report,
            "Run the diagnostics checks; the report is the job's result.",
        ),
    )
