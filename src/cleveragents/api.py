"""The Python API: define job kinds, enqueue jobs, wait for them.

    from pydantic import BaseModel
    from cleveragents import JobContext, enqueue, job_kind, wait

    class Greeting(BaseModel):
        name: str

    @job_kind("greet", Greeting, description="says hello")
    def greet(payload: Greeting, ctx: JobContext) -> dict[str, str]:
        return {"said": f"hello {payload.name}"}

A package makes its kinds known to every worker by naming them in its entry points::

    [project.entry-points."cleveragents.job_kinds"]
    greet = "my_package.jobs:greet"      # a JobKind, or a list of them

Then ``job_id = enqueue("greet", {"name": "Ada"})`` from any process (the database is the one
``agents`` uses: settings, ``AGENTS_DATABASE_URL``, or ``database_url=``), and
``wait(job_id, timeout=60)`` returns the finished job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from cleveragents.domain.clock import utcnow
from cleveragents.domain.jobs import AsyncJob
from cleveragents.store.engine import Database
from cleveragents.worker.kinds import Handler, JobContext, JobFailed, JobKind, Upgrade

__all__ = ["JobContext", "JobFailed", "JobKind", "enqueue", "enqueue_many", "job_kind", "wait"]


def job_kind(
    name: str,
    payload: type[BaseModel],
    *,
    description: str = "",
    schema_version: int = 1,
    upgrades: Mapping[int, Upgrade] | None = None,
) -> Callable[[Handler], JobKind]:
    """Make a handler ``(payload, ctx) -> result`` a job kind called ``name``, whose payload is
    validated by ``payload`` (a pydantic model) at ``schema_version``; ``upgrades[v]`` turns a
    version-``v`` payload (a dict) into version ``v + 1``, for jobs enqueued before a change."""

    def make(handler: Handler) -> JobKind:
        return JobKind(
            name,
            payload,
            handler,
            description or (handler.__doc__ or "").strip().split("\n")[0],
            schema_version,
            dict(upgrades or {}),
        )

    return make


def _database(database_url: str | None) -> Database:
    from cleveragents.settings import load_settings
    from cleveragents.store.migrations import ensure_schema

    flags = {"database_url": database_url} if database_url else {}
    loaded = load_settings(None, flags=flags)
    db = Database(loaded.settings.database_url, loaded.settings.sqlite)
    db.open()
    ensure_schema(db)
    return db


def _options(delay_s: float | None, options: dict[str, Any]) -> dict[str, Any]:
    if delay_s is not None:
        options["run_after"] = utcnow() + timedelta(seconds=delay_s)
    return options


def _payload(payload: BaseModel | Mapping[str, Any] | None) -> dict[str, Any]:
    if isinstance(payload, BaseModel):
        return payload.model_dump(mode="json")
    return dict(payload or {})


def enqueue(
    kind: str,
    payload: BaseModel | Mapping[str, Any] | None = None,
    *,
    database_url: str | None = None,
    delay_s: float | None = None,
    **options: Any,
) -> str:
    """Enqueue one job (validated for its kind first) and return its id. ``options`` are those
    of `agents jobs enqueue`: ``queue``, ``priority``, ``retries``, ``backoff_s``,
    ``max_attempts``, ``unique_key`` (a live job holding it is returned instead)."""
    from cleveragents.worker.queue import JobQueue

    db = _database(database_url)
    try:
        queue = JobQueue(db)
        body, settings = _payload(payload), _options(delay_s, options)
        if settings.get("unique_key") is not None:
            return queue.enqueue_unique(kind, body, **settings)[0].id
        return queue.enqueue(kind, body, **settings).id
    finally:
        db.dispose()


def enqueue_many(
    kind: str,
    payloads: Iterable[BaseModel | Mapping[str, Any]],
    *,
    database_url: str | None = None,
    delay_s: float | None = None,
    **options: Any,
) -> list[str]:
    """Enqueue one job per payload, all in one transaction; their ids, in order."""
    from cleveragents.errors import InvalidInputError
    from cleveragents.worker.queue import JobQueue

    if options.get("unique_key") is not None:
        raise InvalidInputError("a unique key enqueues one job: use enqueue, not enqueue_many")
    db = _database(database_url)
    try:
        queue = JobQueue(db)
        settings = _options(delay_s, options)
        return queue.enqueue_many(queue.build(kind, _payload(p), **settings) for p in payloads)
    finally:
        db.dispose()


def wait(job_id: str, timeout: float | None = None, *, database_url: str | None = None) -> AsyncJob:
    """The job once it has finished, or as it is when ``timeout`` seconds have passed."""
    from cleveragents.runtime.waiting import wait_for_job

    db = _database(database_url)
    try:
        return wait_for_job(db, job_id, timeout)
    finally:
        db.dispose()
