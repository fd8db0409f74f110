"""The health checks: one function each, reading only, each returning a :class:`CheckResult`
whose ``remedy`` names the command that fixes anything not ``ok``."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cleveragents.diagnostics.results import CheckResult, JobKindFacts, Status
from cleveragents.domain.jobs import DEFAULT_QUEUE, WorkerStatus, depth_line
from cleveragents.domain.locks import ResourceType
from cleveragents.errors import AgentsError, DatabaseCorruptError, DatabaseFullError, StoreError
from cleveragents.runtime.namespaces import overlay_problem
from cleveragents.runtime.owners import holder_is_live
from cleveragents.settings import LoadedSettings
from cleveragents.store.engine import Database
from cleveragents.store.health import (
    QueueFacts,
    database_facts,
    executing_plans,
    queue_facts,
)
from cleveragents.store.locks import LockService
from cleveragents.store.migrations import HEAD_REVISION, current_revision
from cleveragents.store.workers import WorkerStore

QUEUE_AGE_WARN_S = 300.0  # a job queued this long with nobody to run it is worth a look


@dataclass
class Context:
    """What every check reads."""

    db: Database
    settings: LoadedSettings
    now: datetime
    queue: QueueFacts | None = None  # read once, shared by the queue checks
    job_kinds: JobKindFacts | None = None  # given by the caller (the registry is the worker's)


Check = Callable[[Context], CheckResult]


def check_database(ctx: Context) -> CheckResult:
    """Reachable, and (SQLite) in WAL mode with a busy timeout."""
    facts = database_facts(ctx.db)
    if facts["dialect"] == "sqlite":
        problems = []
        if str(facts["journal_mode"]).lower() != "wal":
            problems.append(f"journal_mode is {facts['journal_mode']}, not wal")
        if not facts["busy_timeout_ms"]:
            problems.append("busy_timeout is 0")
        if problems:
            return CheckResult(
                "database",
                Status.WARN,
                "; ".join(problems),
                facts,
                "agents config set sqlite.busy_timeout_ms 10000",
            )
        return CheckResult(
            "database",
            Status.OK,
            f"SQLite {facts['sqlite_version']}, WAL, busy timeout {facts['busy_timeout_ms']} ms",
            facts,
        )
    return _check_postgresql(facts)


CONNECTIONS_WARN = 0.8  # of max_connections in use: workers are about to be refused


def _check_postgresql(facts: dict[str, Any]) -> CheckResult:
    """The server's version and how many of its connections are in use."""
    used, limit = facts["connections"], facts["max_connections"]
    summary = (
        f"PostgreSQL {facts['server_version']}, database {facts['database']} as "
        f"{facts['user']}, {used} of {limit} connections in use"
    )
    if used >= CONNECTIONS_WARN * limit:
        return CheckResult(
            "database",
            Status.WARN,
            summary,
            facts,
            "raise max_connections on the server, or lower async.max_workers per worker",
        )
    return CheckResult("database", Status.OK, summary, facts)


def check_schema(ctx: Context) -> CheckResult:
    """At the Alembic head."""
    current = current_revision(ctx.db)
    details = {"current": current, "head": HEAD_REVISION}
    if current == HEAD_REVISION:
        return CheckResult("schema", Status.OK, f"at head ({current})", details)
    return CheckResult(
        "schema",
        Status.FAIL,
        f"at {current or 'nothing (empty database)'}, head is {HEAD_REVISION}",
        details,
        "agents db upgrade",
    )


def check_workers(ctx: Context) -> CheckResult:
    """Live workers (fresh heartbeat), registered-but-dead ones, and the capacity they offer."""
    stale_after = ctx.settings.settings.async_.stale_after
    cutoff = ctx.now - timedelta(seconds=stale_after)
    registered = WorkerStore(ctx.db).find()
    running = [w for w in registered if w.status is WorkerStatus.RUNNING]
    live = [w for w in running if w.is_live(cutoff)]
    # Running by its row but silent: dead or stalled, its jobs not recovered yet. (Workers
    # already marked lost have had their jobs recovered: they are history, not a problem.)
    dead = [w for w in running if w.last_heartbeat < cutoff]
    details = {
        "live": [w.id for w in live],
        "dead": [w.id for w in dead],
        "lost": [w.id for w in registered if w.status is WorkerStatus.LOST],
        "capacity": sum(w.max_workers for w in live),
    }
    if dead:
        return CheckResult(
            "workers",
            Status.WARN,
            f"{len(live)} live, {len(dead)} registered but not heartbeating (dead or stalled)",
            details,
            "agents jobs recover",
        )
    if not live:
        return CheckResult("workers", Status.WARN, "no live worker", details, "agents worker run")
    return CheckResult(
        "workers",
        Status.OK,
        f"{len(live)} live, capacity {details['capacity']} threads",
        details,
    )


def check_queue(ctx: Context) -> CheckResult:
    """Depth by status, the oldest queued job's age, failures in the last 24 h."""
    facts = _queue(ctx)
    age = (ctx.now - facts.oldest_queued_at).total_seconds() if facts.oldest_queued_at else None
    details = {
        "counts": facts.counts,
        "oldest_queued_age_s": None if age is None else round(age, 1),
        "failed_last_24h": facts.failed_last_day,
        "queues": facts.queues,
    }
    depth = facts.counts["queued"]
    message = f"{depth} queued, {facts.counts['running']} running, "
    message += f"{facts.failed_last_day} failed in the last 24 h"
    if set(facts.queues) - {DEFAULT_QUEUE}:  # one line per queue is noise with only `default`
        message += " (" + depth_line(facts.queues) + ")"
    if age is not None and age > QUEUE_AGE_WARN_S:
        return CheckResult(
            "queue",
            Status.WARN,
            message + f"; the oldest queued job waits for {age:.0f} s",
            details,
            "agents worker run",
        )
    return CheckResult("queue", Status.OK, message, details)


def check_stuck_jobs(ctx: Context) -> CheckResult:
    """Running jobs whose heartbeat is older than ``async.stale_after``."""
    facts = _queue(ctx)
    details = {"count": facts.stuck_count, "jobs": facts.stuck}
    if facts.stuck_count:
        return CheckResult(
            "stuck_jobs",
            Status.FAIL,
            f"{facts.stuck_count} running job(s) without a heartbeat for "
            f"{ctx.settings.settings.async_.stale_after:g} s",
            details,
            "agents jobs recover",
        )
    return CheckResult("stuck_jobs", Status.OK, "no stuck job", details)


def check_job_timeouts(ctx: Context) -> CheckResult:
    """Running jobs past ``async.job_timeout``."""
    facts = _queue(ctx)
    details = {"count": facts.overdue_count, "jobs": facts.overdue}
    if facts.overdue_count:
        return CheckResult(
            "job_timeouts",
            Status.WARN,
            f"{facts.overdue_count} job(s) running past async.job_timeout "
            f"({ctx.settings.settings.async_.job_timeout:g} s)",
            details,
            f"agents jobs cancel {facts.overdue[0]}",
        )
    return CheckResult("job_timeouts", Status.OK, "no job past its timeout", details)


def check_locks(ctx: Context) -> CheckResult:
    """Held locks, and stale ones (expired, not purged)."""
    found = LockService(ctx.db).find()
    stale = [lock for lock in found if lock.is_stale(ctx.now)]
    details = {
        "held": len(found) - len(stale),
        "stale": [f"{lock.resource_type.value} {lock.resource_id}" for lock in stale],
    }
    if stale:
        first = stale[0]
        return CheckResult(
            "locks",
            Status.WARN,
            f"{len(stale)} stale lock(s) (expired, not purged)",
            details,
            f"agents locks release {first.resource_type.value} {first.resource_id} --force",
        )
    return CheckResult("locks", Status.OK, f"{details['held']} held, none stale", details)


def check_executing_plans(ctx: Context) -> CheckResult:
    """Plans left ``executing`` or ``applying`` (an apply stopped half-way) with no live owner."""
    locks = LockService(ctx.db)
    orphaned = []
    for plan_id, owner, phase in executing_plans(ctx.db):
        lock = locks.get(ResourceType.PLAN, plan_id)
        live = holder_is_live(lock, ctx.now)
        if not live:
            orphaned.append({"plan": plan_id, "owner": owner, "phase": phase})
    if orphaned:
        first = orphaned[0]
        verb = "apply" if first["phase"] == "applying" else "execute"
        return CheckResult(
            "plans",
            Status.WARN,
            f"{len(orphaned)} plan(s) executing or applying with no live run",
            {"orphaned": orphaned},
            f"agents plan {verb} {first['plan']}",
        )
    return CheckResult("plans", Status.OK, "no plan left executing or applying", {"orphaned": []})


def check_settings(ctx: Context) -> CheckResult:
    """Every setting in range (they were validated when loaded)."""
    return CheckResult(
        "settings",
        Status.OK,
        "every value in range",
        {"config_file": str(ctx.settings.config_file) if ctx.settings.config_file else None},
    )


def check_job_kinds(ctx: Context) -> CheckResult:
    """The job kinds a worker here would run; a package whose kinds fail to load is a warning
    (the worker runs every other kind)."""
    facts = ctx.job_kinds
    if facts is None:
        return CheckResult("job_kinds", Status.OK, "not checked here", {})
    details = {"kinds": facts.names, "installed": facts.installed, "broken": facts.broken}
    message = f"{len(facts.names)} kinds ({len(facts.installed)} from installed packages)"
    if facts.broken:
        failed = "; ".join(f"{point}: {why}" for point, why in facts.broken.items())
        return CheckResult(
            "job_kinds",
            Status.WARN,
            f"{message}; not loaded: {failed}",
            details,
            "fix or uninstall the package (entry points cleveragents.job_kinds)",
        )
    return CheckResult("job_kinds", Status.OK, message, details)


def check_sandbox(ctx: Context) -> CheckResult:
    """Which backend makes the whole-project workspaces of sandboxed leaves: an overlay where
    one can be mounted here (tried for real, in a temporary directory), else full copies."""
    backend = ctx.settings.settings.sandbox.backend
    if backend == "copy":
        return CheckResult(
            "sandbox",
            Status.OK,
            "full copies of the project (sandbox.backend = copy)",
            {"backend": "copy", "setting": backend},
        )
    with tempfile.TemporaryDirectory(prefix="agents-diagnostics-") as lower:
        problem = overlay_problem(lower)
    if problem is None:
        return CheckResult(
            "sandbox",
            Status.OK,
            "overlays of the project in private mount namespaces",
            {"backend": "overlay", "setting": backend},
        )
    details = {"backend": "copy", "setting": backend, "overlay_problem": problem}
    if backend == "overlay":
        return CheckResult(
            "sandbox",
            Status.FAIL,
            f"sandbox.backend = overlay, but no overlay here: {problem}",
            {**details, "backend": None},
            "agents config set sandbox.backend auto",
        )
    return CheckResult(
        "sandbox",
        Status.WARN,
        f"full copies of the project per leaf (slower on big projects): no overlay: {problem}",
        details,
        None,
    )


def _queue(ctx: Context) -> QueueFacts:
    if ctx.queue is None:
        settings = ctx.settings.settings.async_
        ctx.queue = queue_facts(ctx.db, ctx.now, settings.stale_after, settings.job_timeout)
    return ctx.queue


CHECKS: list[tuple[str, Check]] = [
    ("database", check_database),
    ("schema", check_schema),
    ("workers", check_workers),
    ("queue", check_queue),
    ("stuck_jobs", check_stuck_jobs),
    ("job_timeouts", check_job_timeouts),
    ("locks", check_locks),
    ("plans", check_executing_plans),
    ("settings", check_settings),
    ("job_kinds", check_job_kinds),
    ("sandbox", check_sandbox),
]


def run_checks(ctx: Context, checks: list[tuple[str, Check]] | None = None) -> list[CheckResult]:
    """Every check; one that raises becomes a ``fail`` naming its error, not a crash.

    A damaged database or a full disk, whichever check runs into it, fails the ``database``
    check with the remedy (a backup, ``sqlite3 FILE .recover``; free space): the checks before
    it may have read only what was still intact.
    """
    results: list[CheckResult] = []
    for name, check in checks or CHECKS:
        try:
            results.append(check(ctx))
        except (DatabaseCorruptError, DatabaseFullError) as exc:
            # The remedy goes on the database line; the other lines only say what failed.
            remedy = exc.remedy if name == "database" else None
            results.append(CheckResult(name, Status.FAIL, exc.problem, {}, remedy))
            _database_failed(results, exc)
        except AgentsError as exc:
            # Most likely the tables are missing or old: the schema check says which.
            schema_failed = any(r.name == "schema" and r.status is Status.FAIL for r in results)
            remedy = "agents db upgrade" if schema_failed else "agents --debug diagnostics"
            results.append(CheckResult(name, Status.FAIL, exc.message, {}, remedy))
    return results


def _database_failed(results: list[CheckResult], exc: StoreError) -> None:
    """The ``database`` result becomes the failure ``exc`` (the first one found is kept)."""
    for index, result in enumerate(results):
        if result.name == "database" and result.status is not Status.FAIL:
            details = {**result.details, "error": exc.problem}
            results[index] = CheckResult("database", Status.FAIL, exc.problem, details, exc.remedy)


def database_failure(exc: StoreError) -> CheckResult:
    """The failing ``database`` check when the database cannot even be opened."""
    remedy = exc.remedy or "agents config show (is database_url right?)"
    return CheckResult("database", Status.FAIL, exc.problem, {}, remedy)
