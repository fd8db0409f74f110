"""Test and quality sessions. `nox` with no arguments runs them all, in this order.

unit_tests and integration_tests record coverage into .coverage-data/; coverage_report combines
both (behave in-process and every `agents` process Robot started) and fails under 97%.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = [
    "lint",
    "typecheck",
    "unit_tests",
    "postgres_tests",
    "integration_tests",
    "coverage_report",
    "migrations",
    "benchmark",
]

ROOT = Path(__file__).parent
COVERAGE_DIR = ROOT / ".coverage-data"
KIND_PACKAGE = "./features/fixtures/kindpkg"  # features/job_kinds.feature: entry-point kinds


def _coverage_env() -> dict[str, str]:
    COVERAGE_DIR.mkdir(exist_ok=True)
    return {
        "COVERAGE_FILE": str(COVERAGE_DIR / ".coverage"),
        "COVERAGE_RCFILE": str(ROOT / "pyproject.toml"),
        "PYTHONWARNINGS": "error::DeprecationWarning:cleveragents",
    }


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format check) and the import-linter layer contracts."""
    session.install("-e", ".[dev]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on src/."""
    session.install("-e", ".[dev]")
    session.run("mypy", "src")


COPY_BACKEND_FEATURES = [
    "features/workspaces.feature",
    "features/sandbox.feature",
    "features/fidelity.feature",
    "features/scope.feature",
]


@nox.session
def unit_tests(session: nox.Session) -> None:
    """behave features against real temp-file SQLite databases, under coverage."""
    session.install("-e", ".[test,postgres]")
    session.install(KIND_PACKAGE)  # job kinds installed the way a user's package is
    shutil.rmtree(COVERAGE_DIR, ignore_errors=True)
    session.run(
        "coverage",
        "run",
        "-m",
        "behave",
        "--format",
        "progress",
        "--tags=-postgres",  # postgres_tests runs those, against a server
        *session.posargs,
        env=_coverage_env(),
    )
    if not session.posargs:  # the workspace features again, on the fallback backend
        session.run(
            "coverage",
            "run",
            "-m",
            "behave",
            "--format",
            "progress",
            "-D",
            "sandbox_backend=copy",
            "--tags=-overlay",
            *COPY_BACKEND_FEATURES,
            env=_coverage_env(),
        )


# The store, worker, plan and change features, which must hold on both databases, and the
# PostgreSQL-only ones. Scenarios tagged @sqlite test SQLite's own policy (its write lock, its
# error texts) and stay out of this run.
POSTGRES_FEATURES = [
    "features/postgres.feature",
    "features/queue.feature",
    "features/job_transitions.feature",
    "features/worker.feature",
    "features/locks.feature",
    "features/projects.feature",
    "features/plans.feature",
    "features/sandbox.feature",
    "features/scope.feature",
    "features/rebind.feature",
    "features/reject.feature",
    "features/id_refs.feature",
    "features/storage.feature",
    "features/delayed_jobs.feature",
    "features/unique_jobs.feature",
    "features/job_retries.feature",
    "features/bulk_jobs.feature",
    "features/queues.feature",
    "features/schedules.feature",
    "features/job_kinds.feature",
    "features/metrics.feature",
    "features/change_feed.feature",
]


@nox.session
def postgres_tests(session: nox.Session) -> None:
    """The same Alembic revisions and the store and worker features against a real PostgreSQL
    server: tools/pgcluster.py initdb's a throwaway cluster (127.0.0.1 only), runs the steps
    below against it (AGENTS_TEST_POSTGRES_URL), and stops it by its pid."""
    session.install("-e", ".[test,postgres]")
    session.install(KIND_PACKAGE)  # job kinds installed the way a user's package is
    features = " ".join(session.posargs or POSTGRES_FEATURES)
    script = (
        'export AGENTS_DATABASE_URL="$AGENTS_TEST_POSTGRES_URL" AGENTS_CONFIG=/nonexistent.toml'
        " && alembic upgrade head && alembic check && alembic downgrade base"
        " && alembic upgrade head && alembic check"
        f" && coverage run -m behave --format progress --tags=-sqlite {features}"
    )
    session.run(
        "python", "tools/pgcluster.py", "run", "--", "sh", "-c", script, env=_coverage_env()
    )


@nox.session
def integration_tests(session: nox.Session) -> None:
    """Robot Framework suites: the real `agents` command and real worker processes."""
    session.install("-e", ".[test,postgres]")
    session.install(KIND_PACKAGE)  # job kinds installed the way a user's package is
    session.run(
        "coverage",
        "run",
        "-m",
        "robot",
        "--outputdir",
        "build/robot",
        "--loglevel",
        "DEBUG:INFO",
        *(session.posargs or ["robot"]),
        env=_coverage_env(),
    )


@nox.session
def coverage_report(session: nox.Session) -> None:
    """Combine behave and Robot coverage; fail under 97%."""
    session.install("coverage[toml]>=7.10")
    env = _coverage_env()
    session.run("coverage", "combine", "--quiet", env=env)
    session.run("coverage", "report", env=env)


@nox.session
def migrations(session: nox.Session) -> None:
    """upgrade -> alembic check -> downgrade base -> upgrade again, with data in the tables.

    The package is installed from a wheel here (not editable), so `agents` migrates with the
    Alembic environment bundled in the wheel, as a user's installation does.
    """
    session.install(".")
    tmp = Path(session.create_tmp()) / "migrations"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    env = {
        "AGENTS_DATABASE_URL": f"sqlite:///{tmp / 'agents.db'}",
        "AGENTS_CONFIG": str(tmp / "none.toml"),
    }
    session.run("alembic", "upgrade", "head", env=env)
    session.run("alembic", "check", env=env)
    session.run("agents", "jobs", "enqueue", "noop", "--count", "3", env=env, silent=True)
    session.run("agents", "worker", "run", "--burst", env=env, silent=True)
    session.run(
        "agents", "jobs", "enqueue", "sleep", "--payload", '{"seconds": 1}', env=env, silent=True
    )
    session.run("alembic", "downgrade", "base", env=env)
    session.run("alembic", "upgrade", "head", env=env)
    session.run("alembic", "check", env=env)
    session.run("agents", "jobs", "enqueue", "noop", env=env, silent=True)
    session.run("agents", "worker", "run", "--burst", env=env, silent=True)
    session.run("agents", "db", "current", env=env)


@nox.session
def benchmark(session: nox.Session) -> None:
    """asv benchmarks, quick, against the package installed in this session."""
    session.install("-e", ".[dev]")
    # asv wants a machine description first; --yes takes the detected values (a fresh HOME has
    # none, and CI has no one to answer its questions).
    session.run("asv", "machine", "--yes", "--config", "benchmarks/asv.conf.json", silent=True)
    session.run(
        "asv",
        "run",
        "--python=same",
        "--quick",
        "--show-stderr",
        "--config",
        "benchmarks/asv.conf.json",
        *session.posargs,
        env={
            "ASV_SILENT": "1",
            **{k: v for k, v in os.environ.items() if k.startswith("AGENTS_BENCH")},
        },
    )
