"""Keywords for running the `agents` suites against a real PostgreSQL server.

One throwaway cluster per suite (``tools/pgcluster.py``: initdb into a temp dir, 127.0.0.1 only,
run as an unprivileged user when we are root), one database of its own per test. The Robot
process only starts and stops the server and reads what the `agents` processes wrote (their logs,
the files their jobs appended to): everything the tests check in the database goes through the
real `agents` command, started by ProcessesLibrary.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.api.deco import keyword, library
from robot.libraries.BuiltIn import BuiltIn

# tools/ is no package: pgcluster.py is imported from its directory.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

import psycopg
from _robot_support import (
    LOG_POLL_INTERVAL_S,
    WAIT_TIMEOUT,
    agents_library,
    poll_until,
    process_library,
    wait_for_log_line,
)
from pgcluster import Cluster

_RECOVERED = re.compile(
    r"recovered: requeued (?P<requeued>.+?); failed (?P<failed>.+?); workers lost"
)
_STARTED = re.compile(r"worker (?P<id>\S+) started with \d+ threads")


@library(scope="GLOBAL", auto_keywords=False)
class PostgresLibrary:
    """A throwaway PostgreSQL cluster, a database per test, and readers of worker logs."""

    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self) -> None:
        self.ROBOT_LIBRARY_LISTENER = self
        self._cluster: Cluster | None = None
        self._databases = 0

    # -- the cluster --------------------------------------------------------------------------

    @keyword
    def start_postgresql_cluster(self) -> str:
        """Start a throwaway cluster (initdb, 127.0.0.1 only); return its `agents` database URL."""
        if self._cluster is not None:
            raise AssertionError("a PostgreSQL cluster is already running")
        cluster = Cluster()
        cluster.start()  # stops and removes whatever it started if it fails
        self._cluster = cluster
        logger.info(f"PostgreSQL cluster in {cluster.temp_dir}, pid {cluster.pid}: {cluster.url}")
        return cluster.url

    @keyword
    def stop_postgresql_cluster(self) -> None:
        """Stop the cluster (fast shutdown, harder if need be) and remove its directory.

        Safe to call when it never started or is stopped already. Fails if anything of it is
        left: a server process or the directory.
        """
        cluster, self._cluster = self._cluster, None
        if cluster is None:
            return
        temp_dir = cluster.temp_dir
        cluster.stop()
        if temp_dir.exists():
            raise AssertionError(f"the cluster's directory {temp_dir} is still there")
        logger.info(f"PostgreSQL cluster stopped; {temp_dir} removed")

    @keyword
    def create_postgresql_database(self, name: str | None = None) -> str:
        """Create a database of the running cluster; return its SQLAlchemy URL.

        Without ``name`` it is named after the current test (``t3_diagnostics_against_...``),
        numbered so that no two tests of the run share one.
        """
        cluster = self._running()
        self._databases += 1
        if name is None:
            test = BuiltIn().get_variable_value("${TEST NAME}", "suite")
            slug = re.sub(r"[^a-z0-9]+", "_", str(test).lower()).strip("_")
            name = f"t{self._databases}_{slug}"[:63]
        url = cluster.create_database(name)
        logger.info(f"database {name}: {url}")
        return url

    @keyword
    def postgresql_major_version(self) -> str:
        """The major version of the running server (``15``), from its data directory."""
        return (self._running().data_dir / "PG_VERSION").read_text(encoding="utf-8").strip()

    def _running(self) -> Cluster:
        if self._cluster is None:
            raise AssertionError("no PostgreSQL cluster: call `Start PostgreSQL Cluster` first")
        return self._cluster

    # -- killing a worker at a known moment ---------------------------------------------------

    @keyword
    def kill_worker_holding_jobs(
        self, handle: Any, worker_id: str, timeout: str = WAIT_TIMEOUT
    ) -> list[str]:
        """SIGKILL the worker process ``handle`` (registered as ``worker_id``) at a moment it
        provably holds running jobs; return the ids of those jobs, sorted.

        Polls the test's database (a connection of its own) until jobs are ``running`` under
        that worker, and locks their rows (``FOR UPDATE SKIP LOCKED``: a row the worker is
        updating at that instant is skipped, so nothing here ever waits on it). Holding the
        rows, the worker cannot record those jobs' outcomes, so it still holds them when it is
        killed; they are released only once it is gone. The jobs it claimed meanwhile are held
        too, but not listed. The only direct database access of the suites: what a test checks
        still goes through `agents`; this only picks the moment of the kill.
        """
        url = agents_library().environment["AGENTS_DATABASE_URL"]
        conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
        held = (
            "SELECT id FROM async_jobs WHERE status = 'running' AND worker_id = %s"
            " ORDER BY id FOR UPDATE SKIP LOCKED"
        )
        with psycopg.connect(conninfo) as conn:

            def locked() -> list[str] | None:
                ids = [str(row[0]) for row in conn.execute(held, (worker_id,)).fetchall()]
                if ids:
                    return ids  # the transaction stays open: the rows stay locked
                conn.rollback()
                return None

            ids = poll_until(
                locked,
                timeout,
                f"worker {worker_id} to hold running jobs",
                interval=LOG_POLL_INTERVAL_S,
            )
            result = process_library().terminate_process(handle, kill=True)
            conn.rollback()
        if result.rc != -9:
            raise AssertionError(f"worker {worker_id} exited {result.rc} before the kill")
        logger.info(f"killed worker {worker_id} while it held {ids}")
        return ids

    # -- what the processes wrote -------------------------------------------------------------

    @keyword
    def count_lines(self, path: str) -> dict[str, int]:
        """How often each line occurs in a text file (empty when it does not exist)."""
        file = Path(path)
        lines = file.read_text(encoding="utf-8").splitlines() if file.exists() else []
        counts = dict(Counter(lines))
        logger.info(f"{path}: {len(lines)} line(s), {len(counts)} distinct")
        return counts

    @keyword
    def wait_until_log_matches(self, path: str, pattern: str, timeout: str = WAIT_TIMEOUT) -> str:
        """Poll a log file until one of its lines matches ``pattern`` (a regular expression,
        searched); return that line.

        By path, not by process handle: ProcessesLibrary finds a process's log by the text of its
        handle, which is the same for processes started with the same arguments.
        """
        return wait_for_log_line(path, pattern, timeout)

    @keyword
    def worker_id_in_log(self, path: str) -> str:
        """The id a worker logged at start-up (``worker ID started with N threads``)."""
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        found = _STARTED.findall(text)
        if len(found) != 1:
            raise AssertionError(f"expected one start-up line in {path}, found {found}")
        return str(found[0])

    @keyword
    def jobs_lost_by(self, worker_id: str, *job_ids: str) -> list[str]:
        """Those of ``job_ids`` whose attempt history (`agents jobs show ID --json`) has a run
        lost with the worker ``worker_id``: what the database says that worker had claimed.
        (Its log may lack the last claims: a worker killed between a claim's commit and its
        log lines.)"""
        agents = agents_library()
        lost = []
        for job_id in job_ids:
            history = agents.agents_json("jobs", "show", job_id, "--json")["history"]
            if any(a["outcome"] == "lost" and a["worker_id"] == worker_id for a in history):
                lost.append(job_id)
        return lost

    @keyword
    def jobs_recovered_in_logs(self, *paths: str) -> dict[str, Any]:
        """What the ``recovered: requeued ...; failed ...; workers lost ...`` lines of these
        worker logs add up to: ``{"requeued": [ids], "failed": [ids], "lines": [lines]}``. A
        job requeued twice is listed twice."""
        requeued: list[str] = []
        failed: list[str] = []
        lines: list[str] = []
        for path in paths:
            for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
                match = _RECOVERED.search(line)
                if match is None:
                    continue
                lines.append(line)
                for ids, target in ((match["requeued"], requeued), (match["failed"], failed)):
                    if ids != "none":
                        target.extend(ids.split(", "))
        logger.info("recovery lines:\n" + "\n".join(lines))
        return {"requeued": requeued, "failed": failed, "lines": lines}

    # -- listener -----------------------------------------------------------------------------

    def close(self) -> None:
        """At the end of the run: stop a cluster that the suite teardown did not (interrupted)."""
        if self._cluster is not None:
            self._cluster.stop()
            self._cluster = None
