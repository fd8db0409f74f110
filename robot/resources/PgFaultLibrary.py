"""What a PostgreSQL server does to its clients in a restart, a failover or a network blip:
their backends terminated under them (``pg_terminate_backend``), for the test's database."""

from __future__ import annotations

from typing import Any

from _robot_support import agents_library, poll_until
from robot.api import logger
from robot.api.deco import keyword, library


def _connect() -> Any:
    import psycopg

    url = agents_library().environment["AGENTS_DATABASE_URL"]
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def _count(pattern: str) -> int:
    with _connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE %s",
            (pattern,),
        ).fetchone()
    return int(row[0]) if row else 0


@library(scope="GLOBAL", auto_keywords=False)
class PgFaultLibrary:
    """Keywords that cut the connections of the test's PostgreSQL database."""

    @keyword
    def wait_until_listening(self, count: int, timeout: str = "30s") -> int:
        """Wait until ``count`` connections of the test's database have sent ``LISTEN`` (the
        change feeds of that many idle workers); return how many there are."""

        def check() -> int | None:
            found = _count("LISTEN%")
            return found if found >= int(count) else None

        return poll_until(check, timeout, f"{count} LISTEN connections")

    @keyword
    def terminate_database_backends(self) -> int:
        """Terminate every backend of the test's database but our own, as a server restart
        would; return how many were terminated."""
        with _connect() as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        terminated = sum(1 for (done,) in rows if done)
        logger.info(f"terminated {terminated} backend(s)")
        return terminated
