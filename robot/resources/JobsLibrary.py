"""Keywords about the queue and the locks, as the real `agents` command shows them: jobs
listed, selected and checked, waits for a job's status, locks taken for any owner, made to
expire explicitly (never waited for) and listed.
"""

from __future__ import annotations

import sys
from typing import Any

from _robot_support import WAIT_TIMEOUT, agents_library, poll_until
from robot.api.deco import keyword, library

TERMINAL = {"succeeded", "failed", "cancelled"}


@library(scope="GLOBAL", auto_keywords=False)
class JobsLibrary:
    """Jobs and locks through `agents jobs ...` and `agents locks ...`."""

    # -- jobs ---------------------------------------------------------------------------------

    @keyword
    def get_job(self, job_id: str) -> dict[str, Any]:
        """The job as `agents jobs show ID --json` prints it."""
        job: dict[str, Any] = agents_library().agents_json("jobs", "show", job_id, "--json")
        return job

    @keyword
    def list_jobs(self, *args: str) -> list[dict[str, Any]]:
        """Every job (up to 100,000) as `agents jobs list --json` prints them; ARGS filter."""
        jobs: list[dict[str, Any]] = agents_library().agents_json(
            "jobs", "list", "--json", "--limit", "100000", *args
        )
        return jobs

    @keyword
    def select_jobs(
        self, jobs: list[dict[str, Any]], field: str, values: list[Any]
    ) -> list[dict[str, Any]]:
        """The jobs whose ``field`` has one of ``values``."""
        wanted = set(values)
        return [job for job in jobs if job[field] in wanted]

    @keyword
    def jobs_should_all_have(self, jobs: list[dict[str, Any]], **expected: str) -> None:
        """Every job has these field values, compared as strings (``result.exit_code=0``
        looks inside ``result``); the message lists the jobs that do not."""
        wrong = []
        for job in jobs:
            for path, value in expected.items():
                actual: Any = job
                for part in path.split("."):
                    actual = actual.get(part) if isinstance(actual, dict) else None
                if str(actual) != str(value):
                    wrong.append(f"{job['id']}: {path} is {actual!r}, expected {value}")
        if wrong:
            raise AssertionError(f"{len(wrong)} mismatch(es):\n" + "\n".join(wrong[:20]))

    @keyword
    def wait_until_job_status_is(
        self, job_id: str, status: str, timeout: str = WAIT_TIMEOUT
    ) -> dict[str, Any]:
        """Poll `agents jobs show` until the job has ``status``; return the job.

        Fails at once if the job reaches a terminal status other than the expected one.
        """
        seen: dict[str, Any] = {}

        def reached() -> dict[str, Any] | None:
            job = seen["job"] = self.get_job(job_id)
            if job["status"] == status:
                return job
            if job["status"] in TERMINAL:
                raise AssertionError(
                    f"job {job_id} ended {job['status']} while waiting for {status}: {job}"
                )
            return None

        return poll_until(
            reached, timeout, lambda: f"job {job_id} to be {status}; it is {seen['job']['status']}"
        )

    # -- locks --------------------------------------------------------------------------------

    @keyword
    def acquire_lock_as(
        self, resource_type: str, resource_id: str, owner: str, ttl_s: str
    ) -> dict[str, Any]:
        """Take a lock in the test's database for ``owner`` (any owner id, another host's
        too) with ``LockService.acquire``, for ``ttl_s`` seconds from now; return it as
        `agents locks list --json` shows it.

        Runs in a child interpreter with the test's environment, like every other process
        here: the Robot process itself imports none of the project's code.
        """
        code = (
            "import json, os, sys\n"
            "from cleveragents.domain.clock import utcnow\n"
            "from cleveragents.domain.locks import ResourceType\n"
            "from cleveragents.settings import SQLiteSettings\n"
            "from cleveragents.store.engine import Database\n"
            "from cleveragents.store.locks import LockService\n"
            "from cleveragents.store.migrations import ensure_schema\n"
            "kind, resource, owner, ttl = sys.argv[1:]\n"
            "db = Database(os.environ['AGENTS_DATABASE_URL'], SQLiteSettings())\n"
            "db.open()\n"
            "try:\n"
            "    ensure_schema(db)\n"
            "    lock = LockService(db).acquire(ResourceType(kind), resource, owner,"
            " float(ttl), utcnow())\n"
            "finally:\n"
            "    db.dispose()\n"
            "print(json.dumps(lock.to_json(utcnow())))\n"
        )
        argv = [sys.executable, "-c", code, resource_type, resource_id, owner, str(ttl_s)]
        result = agents_library().run_argv(
            argv, ["(lock)", resource_type, resource_id, owner, str(ttl_s)], {}
        )
        if result.rc != 0:
            raise AssertionError(f"could not take the lock\n{result}")
        lock: dict[str, Any] = agents_library().parse_json(result.stdout)
        return lock

    @keyword
    def expire_lock_of(
        self, resource_type: str, resource_id: str, owner: str, seconds_ago: str = "60"
    ) -> dict[str, Any]:
        """Make ``owner``'s lock on a resource expire ``seconds_ago`` seconds in the past, as if
        its TTL had passed (the owner re-acquires it with a negative TTL: the expiry is set
        explicitly, never waited for); return it, stale, as `agents locks list --json` shows
        it."""
        lock = self.acquire_lock_as(resource_type, resource_id, owner, f"{-float(seconds_ago)}")
        if not lock["stale"]:
            raise AssertionError(f"the lock did not expire: {lock}")
        return lock

    @keyword
    def lock_listed_for(self, resource_type: str, resource_id: str) -> dict[str, Any] | None:
        """The lock on a resource as `agents locks list --json` shows it, or ``None``."""
        listed = agents_library().agents_json("locks", "list", "--json")
        found = [
            lock
            for lock in listed
            if lock["resource_type"] == resource_type and lock["resource_id"] == resource_id
        ]
        if len(found) > 1:
            raise AssertionError(f"{len(found)} locks on {resource_type} {resource_id}: {found}")
        return found[0] if found else None
