"""Running the diagnostics: every decision about what a report holds, made once for the CLI
(``agents diagnostics``) and the worker (the ``diagnostics.report`` job kind).

Owns: settings that cannot be loaded become a one-check failing report; a database that is not
there fails the report without being created by the look; the checks run against the database;
the end-to-end probe runs when asked, or by default when a live worker is registered, and is
reported failed (not run) when the schema is not at head; the report's clock and duration.
Rendering to a terminal, files and exit codes are the caller's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from cleveragents.diagnostics.checks import Context, database_failure, run_checks
from cleveragents.diagnostics.probe import run_probe
from cleveragents.diagnostics.report import Report
from cleveragents.diagnostics.results import CheckResult, JobKindFacts, Status
from cleveragents.domain.clock import utcnow
from cleveragents.errors import ConfigError, StoreError
from cleveragents.settings import LoadedSettings
from cleveragents.store.engine import Database

PROBE_TIMEOUT_S = 10.0  # --probe-timeout's default


def diagnose(
    load_settings: Callable[[], LoadedSettings],
    open_db: Callable[[], Database],
    *,
    probe: bool | None = None,
    probe_timeout_s: float = PROBE_TIMEOUT_S,
    clock: Callable[[], datetime] = utcnow,
    job_kinds: JobKindFacts | None = None,
) -> Report:
    """The whole report: the settings from ``load_settings``, then (if the database they name
    exists; looking does not create it) every check on ``open_db()``'s database, then the probe
    (``probe``: None runs it when a live worker is registered)."""
    started = time.monotonic()
    loaded = settings_or_report(load_settings, clock=clock, started=started)
    if isinstance(loaded, Report):
        return loaded
    missing = missing_database(loaded)
    if missing is not None:
        return Report([missing], clock(), _elapsed_ms(started))
    try:
        db = open_db()
    except StoreError as exc:  # damaged, on a full disk, or unreachable: the report says so
        return Report([database_failure(exc)], clock(), _elapsed_ms(started))
    return check_system(
        db,
        loaded,
        probe=probe,
        probe_timeout_s=probe_timeout_s,
        job_kinds=job_kinds,
        clock=clock,
        started=started,
    )


def settings_or_report(
    load_settings: Callable[[], LoadedSettings],
    *,
    clock: Callable[[], datetime] = utcnow,
    started: float | None = None,
) -> LoadedSettings | Report:
    """The loaded settings, or, when they cannot be loaded, the failing report that says why."""
    started = time.monotonic() if started is None else started
    try:
        return load_settings()
    except ConfigError as exc:
        failed = CheckResult("settings", Status.FAIL, exc.message, {}, "agents config show")
        return Report([failed], clock(), _elapsed_ms(started))


def missing_database(loaded: LoadedSettings) -> CheckResult | None:
    """The failing ``database`` check when the database ``loaded`` names is not there (an SQLite
    file not created yet); None when it is. Creates nothing."""
    candidate = Database(loaded.settings.database_url, loaded.settings.sqlite)
    candidate.dispose()
    if candidate.exists():
        return None
    return CheckResult(
        "database",
        Status.FAIL,
        f"no database at {candidate.path}",
        {"path": str(candidate.path)},
        "agents db upgrade",
    )


def check_system(
    db: Database,
    loaded: LoadedSettings,
    *,
    probe: bool | None = None,
    probe_timeout_s: float = PROBE_TIMEOUT_S,
    clock: Callable[[], datetime] = utcnow,
    started: float | None = None,
    job_kinds: JobKindFacts | None = None,
) -> Report:
    """Every check on ``db``, judged by ``loaded``, then the probe (``probe``: None runs it when
    a live worker is registered); the report's duration counts from ``started`` (default now)."""
    started = time.monotonic() if started is None else started
    results = run_checks(Context(db=db, settings=loaded, now=clock(), job_kinds=job_kinds))
    if probe is None:
        workers = next(r for r in results if r.name == "workers")
        probe = bool(workers.details.get("live"))
    if probe:
        results.append(_probe(db, results, probe_timeout_s, clock))
    return Report(results, clock(), _elapsed_ms(started))


def _probe(
    db: Database,
    results: list[CheckResult],
    timeout_s: float,
    clock: Callable[[], datetime],
) -> CheckResult:
    """The probe's result; not run (a failure) when the database failed its check or the
    schema is not at head."""
    database = next((r for r in results if r.name == "database"), None)
    if database is not None and database.status is Status.FAIL:
        return CheckResult("probe", Status.FAIL, "not run: the database failed", {}, None)
    schema_ok = next(r for r in results if r.name == "schema").status is Status.OK
    if not schema_ok:
        return CheckResult(
            "probe", Status.FAIL, "not run: the schema is not at head", {}, "agents db upgrade"
        )
    try:
        return run_probe(db, timeout_s, clock)
    except StoreError as exc:
        return CheckResult("probe", Status.FAIL, exc.problem, {}, exc.remedy)


def _elapsed_ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
