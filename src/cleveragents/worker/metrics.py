"""A worker's Prometheus metrics (`agents worker run --metrics-port P`), with the official client.

Served on 127.0.0.1 only, from the worker's own registry (not the client's global one):

- ``agents_worker_up`` 1 while the worker runs (0 once it is shutting down);
- ``agents_jobs{queue, state}``: the jobs in the database by queue and status, read when
  scraped (one grouped count);
- ``agents_job_claims_total{queue}``, ``agents_job_runs_total{kind, outcome}`` (succeeded,
  failed, cancelled, requeued), ``agents_job_retries_total{kind}`` (failed runs queued again),
  ``agents_job_recoveries_total{action}`` (requeued, failed: jobs taken back from lost workers);
- ``agents_job_duration_seconds{kind}``: how long runs took, a histogram.

Everything here only counts what the worker already decides; nothing changes how it runs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from cleveragents.domain.jobs import AsyncJob, JobOutcome, JobStatus, RecoveryReport
from cleveragents.errors import InvalidInputError
from cleveragents.store.engine import Database
from cleveragents.store.health import jobs_by_queue_and_state

log = logging.getLogger("cleveragents.worker")

DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, float("inf"))
_OUTCOMES = {
    JobStatus.SUCCEEDED: "succeeded",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELLED: "cancelled",
    JobStatus.QUEUED: "requeued",
}


class _JobsByState(Collector):
    """``agents_jobs{queue, state}``, counted in the database at each scrape."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "agents_jobs", "Jobs in the database by queue and status.", labels=["queue", "state"]
        )
        for queue, status, count in jobs_by_queue_and_state(self.db):
            family.add_metric([queue, status], float(count))
        yield family


class WorkerMetrics:
    """The worker's counters and the HTTP server that exposes them."""

    def __init__(self, db: Database) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.up = Gauge("agents_worker_up", "1 while this worker runs.", registry=self.registry)
        self.claims = Counter(
            "agents_job_claims", "Jobs claimed.", ["queue"], registry=self.registry
        )
        self.runs = Counter(
            "agents_job_runs", "Runs ended.", ["kind", "outcome"], registry=self.registry
        )
        self.retries = Counter(
            "agents_job_retries", "Failed runs queued again.", ["kind"], registry=self.registry
        )
        self.recoveries = Counter(
            "agents_job_recoveries",
            "Jobs taken back from lost workers.",
            ["action"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "agents_job_duration_seconds",
            "How long runs took.",
            ["kind"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_JobsByState(db))
        self._server: Any = None
        self.port: int | None = None

    def serve(self, port: int) -> int:
        """Serve ``/metrics`` on 127.0.0.1:``port`` (0: any free port); the port it took."""
        try:
            self._server, _ = start_http_server(port, addr="127.0.0.1", registry=self.registry)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot serve metrics on 127.0.0.1:{port}: {exc.strerror or exc}"
            ) from None
        self.port = int(self._server.server_port)
        self.up.set(1)
        log.info("metrics on http://127.0.0.1:%d/metrics", self.port)
        return self.port

    def close(self) -> None:
        """Say the worker is down, and stop serving."""
        self.up.set(0)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def claimed(self, jobs: Iterable[AsyncJob]) -> None:
        """A pass claimed ``jobs``."""
        for job in jobs:
            self.claims.labels(job.queue).inc()

    def finished(self, outcomes: Sequence[JobOutcome], kinds: dict[str, str]) -> None:
        """A pass recorded ``outcomes``; ``kinds`` gives each job's kind by id."""
        for outcome in outcomes:
            kind = kinds.get(outcome.job_id, "unknown")
            self.runs.labels(kind, _OUTCOMES[outcome.status]).inc()
            if outcome.retry_at is not None:
                self.retries.labels(kind).inc()
            if outcome.started_at is not None:
                seconds = (outcome.finished_at - outcome.started_at).total_seconds()
                self.duration.labels(kind).observe(max(seconds, 0.0))

    def recovered(self, report: RecoveryReport) -> None:
        """A recovery pass took jobs back from lost workers."""
        if report.requeued:
            self.recoveries.labels("requeued").inc(len(report.requeued))
        if report.failed:
            self.recoveries.labels("failed").inc(len(report.failed))
