"""Job kinds that report on the system from inside a worker: ``diagnostics.report``."""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict

from cleveragents.settings import LoadedSettings, load_settings
from cleveragents.worker.kinds import JobContext, JobKind


class ReportPayload(BaseModel):
    """How to judge the report."""

    model_config = ConfigDict(extra="forbid")

    strict: bool = False


def report_kinds(settings: LoadedSettings | None = None) -> tuple[JobKind, ...]:
    """The report kinds, judging with ``settings`` (default: the worker's own, loaded now)."""

    def report(payload: ReportPayload, ctx: JobContext) -> dict[str, Any]:
        from cleveragents.diagnostics.run import check_system  # when a report runs, not at start

        assert ctx.db is not None, "the worker passes its database"
        started = time.monotonic()
        loaded = settings or load_settings()
        # The CLI's report, built the same way; no probe: this job is the worker's round trip.
        from cleveragents.worker.builtin_kinds import default_registry

        kinds = default_registry(settings=loaded).facts()
        done = check_system(
            ctx.db, loaded, probe=False, clock=ctx.clock, started=started, job_kinds=kinds
        )
        return done.to_json(payload.strict)

    return (
        JobKind(
            "diagnostics.report",
            ReportPayload,
            report,
            "Run the diagnostics checks; the report is the job's result.",
        ),
    )
