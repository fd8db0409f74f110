"""The end-to-end probe: a ``diagnostics.probe`` job that a worker must run within a timeout."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from cleveragents.diagnostics.results import CheckResult, Status
from cleveragents.domain.jobs import JobStatus, NewJob
from cleveragents.runtime.waiting import wait_for_job
from cleveragents.store.engine import Database
from cleveragents.store.jobs import JobStore

PROBE_KIND = "diagnostics.probe"


def run_probe(db: Database, timeout_s: float, clock: Callable[[], datetime]) -> CheckResult:
    """Enqueue a probe job, wait up to ``timeout_s`` for a worker to run it, remove it."""
    jobs = JobStore(db)
    started = time.monotonic()
    job = jobs.enqueue(
        NewJob(kind=PROBE_KIND, payload={"schema_version": 1}, priority=0, max_attempts=1),
        clock(),
    )
    try:
        current = wait_for_job(db, job.id, timeout_s - (time.monotonic() - started))
        latency_ms = (time.monotonic() - started) * 1000
    finally:
        jobs.delete(job.id)
    details = {"job_id": job.id, "timeout_s": timeout_s}
    if current.status is JobStatus.SUCCEEDED:
        details["latency_ms"] = round(latency_ms, 1)
        details["worker_id"] = (current.result or {}).get("worker_id")
        return CheckResult(
            "probe", Status.OK, f"a worker ran the probe job in {latency_ms:.0f} ms", details
        )
    if current.status.is_terminal:
        return CheckResult(
            "probe",
            Status.FAIL,
            f"the probe job ended {current.status.value}: {current.error_message}",
            details,
            "agents worker list",
        )
    return CheckResult(
        "probe",
        Status.FAIL,
        f"no worker ran the probe job within {timeout_s:g} s",
        details,
        "agents worker run",
    )
