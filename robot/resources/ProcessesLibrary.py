"""Keywords for long-running `agents` processes (workers, plan runs) and the processes they
start: starting them with the test's environment, waiting on their logs and on their exit,
finding them by the worker list, by process group or by environment, and stopping them.

Processes are looked up with psutil, not by reading /proc by hand.
"""

from __future__ import annotations

import os
import signal
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil
from _robot_support import (
    LOG_POLL_INTERVAL_S,
    WAIT_TIMEOUT,
    agents_library,
    poll_until,
    process_library,
    wait_for_log_line,
)
from robot.api import logger
from robot.api.deco import keyword, library

STOP_TIMEOUT_S = 60.0  # how long a worker gets to exit after SIGTERM in a teardown


@library(scope="GLOBAL", auto_keywords=False)
class ProcessesLibrary:
    """`agents` processes in the background, the processes they start, and their logs."""

    def __init__(self) -> None:
        self._handles: list[Any] = []
        self._stderr: dict[str, Path] = {}
        self._counter = 0

    # -- agents processes ---------------------------------------------------------------------

    @keyword
    def start_agents(self, *args: str, alias: str | None = None) -> Any:
        """Start ``agents ARGS`` in the background with the Process library; return its handle.

        Its stdout and stderr go to files in the work dir, so it can never block on a full pipe.
        """
        agents = agents_library()
        self._counter += 1
        name = alias or f"agents-{self._counter}"
        out = agents.work_dir() / f"{name}.stdout"
        err = agents.work_dir() / f"{name}.stderr"
        extra = {f"env:{key}": value for key, value in agents.environment.items()}
        handle = process_library().start_process(
            agents.agents_executable(),
            *args,
            stdout=str(out),
            stderr=str(err),
            alias=alias,
            **extra,
        )
        self._handles.append(handle)
        self._stderr[str(handle)] = err
        pid = process_library().get_process_id(handle)
        logger.info(f"started agents {' '.join(args)} (pid {pid})")
        return handle

    @keyword
    def wait_until_process_logs(
        self, handle: Any, pattern: str, timeout: str = WAIT_TIMEOUT
    ) -> str:
        """Poll the stderr of a process `Start Agents` started until a line matches ``pattern``
        (a regular expression); return that line. Fails at once if the process exited first.

        Reading a log file costs next to nothing, so this sees an event within milliseconds,
        where a poll through another `agents` call takes a whole interpreter start-up.
        """

        def gone() -> str | None:
            running = process_library().is_process_running(handle)
            return None if running else f"{handle} exited"

        return wait_for_log_line(self._stderr[str(handle)], pattern, timeout, gone)

    @keyword
    def stop_agents_processes(self) -> None:
        """Stop every process `Start Agents` started that still runs: SIGTERM, then kill.

        A graceful stop lets each process write its coverage data. Logs their output.
        """
        process = process_library()
        for handle in self._handles:
            try:
                running = process.is_process_running(handle)
            except RuntimeError:
                continue  # already forgotten by the Process library
            if running:
                process.send_signal_to_process(signal.SIGTERM, handle)
                # one a test paused (`Pause Process Holding Lock`) only sees it once resumed
                process.send_signal_to_process(signal.SIGCONT, handle)
                result = process.wait_for_process(
                    handle, timeout=timedelta(seconds=STOP_TIMEOUT_S), on_timeout="kill"
                )
            else:
                result = process.wait_for_process(handle)
            logger.info(
                f"process {handle} exited {result.rc}\nstdout:\n{result.stdout}\n"
                f"stderr:\n{result.stderr}"
            )
        self._handles = []

    @keyword
    def wait_for_first_process_to_exit(self, *handles: Any, timeout: str = WAIT_TIMEOUT) -> Any:
        """Poll the processes until one of them has exited; return its handle (the first in
        the given order if several have)."""
        process = process_library()

        def exited() -> Any:
            return next((h for h in handles if not process.is_process_running(h)), None)

        return poll_until(
            exited, timeout, f"one of {list(handles)} to exit", interval=LOG_POLL_INTERVAL_S
        )

    @keyword
    def wait_until_worker_is_listed(
        self, handle: Any, timeout: str = WAIT_TIMEOUT
    ) -> dict[str, Any]:
        """Poll `agents worker list --json` until it shows the worker process ``handle`` as
        running with a fresh heartbeat; return it."""
        agents = agents_library()
        pid = process_library().get_process_id(handle)

        def listed() -> dict[str, Any] | None:
            workers = agents.agents_json("worker", "list", "--json")
            found = [w for w in workers if w["pid"] == pid and w["hostname"] == agents.host_name()]
            if found and found[0]["liveness"] == "running":
                worker: dict[str, Any] = found[0]
                return worker
            if not process_library().is_process_running(handle):
                raise AssertionError(f"worker {handle} (pid {pid}) exited before it was listed")
            return None

        return poll_until(listed, timeout, f"worker pid {pid} to be listed as running")

    @keyword
    def pause_process_holding_lock(
        self, handle: Any, resource_type: str, timeout: str = WAIT_TIMEOUT
    ) -> str:
        """Stop (SIGSTOP) the process ``handle`` at a moment it holds a lock of
        ``resource_type`` in the test's SQLite database and is not inside a write transaction;
        return the locked resource's id. `Resume Process` lets it go on.

        Until then every other process finds the resource locked by it, however slowly the
        machine runs: a race decided by an observed state, not by start-up times. Stopped inside
        a write (which would stall every other writer), it is let go on and stopped again a
        moment later. The database is read directly (never written): what a test checks still
        goes through `agents`; this only picks the moment.
        """
        pid = process_library().get_process_id(handle)
        url = agents_library().environment["AGENTS_DATABASE_URL"]
        path = url.removeprefix("sqlite:///")
        held = "SELECT owner_id, resource_id FROM locks WHERE resource_type = ?"

        def held_by_it(conn: sqlite3.Connection) -> str | None:
            rows = conn.execute(held, (resource_type,)).fetchall()
            mine = [str(r[1]) for r in rows if str(r[0]).rsplit(":", 2)[1:2] == [str(pid)]]
            return mine[0] if mine else None

        def paused() -> str | None:
            if not process_library().is_process_running(handle):
                raise AssertionError(
                    f"{handle} exited before it was stopped holding a {resource_type} lock"
                )
            if held_by_it(conn) is None:
                return None
            os.kill(pid, signal.SIGSTOP)
            try:
                conn.execute("BEGIN IMMEDIATE")  # fails at once (timeout 0) inside its write
            except sqlite3.OperationalError:
                os.kill(pid, signal.SIGCONT)
                return None
            try:
                resource = held_by_it(conn)
            finally:
                conn.execute("ROLLBACK")
            if resource is None:  # released between the two reads
                os.kill(pid, signal.SIGCONT)
            return resource

        conn = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            resource = poll_until(
                paused,
                timeout,
                f"{handle} to hold a {resource_type} lock",
                interval=LOG_POLL_INTERVAL_S,
            )
        finally:
            conn.close()
        logger.info(f"stopped {handle} (pid {pid}) holding the {resource_type} lock on {resource}")
        return resource

    @keyword
    def resume_process(self, handle: Any) -> None:
        """Let a process `Pause Process Holding Lock` stopped go on (SIGCONT)."""
        os.kill(process_library().get_process_id(handle), signal.SIGCONT)

    # -- the processes they start -------------------------------------------------------------

    @keyword
    def process_groups_should_be_gone(self, pids: list[str], timeout: str = WAIT_TIMEOUT) -> None:
        """Wait until nothing runs in the process group of any of ``pids``. Zombies (killed,
        waiting for a parent that died to be reaped by init) do not count as running."""
        alive: list[str] = []

        def gone() -> bool:
            alive[:] = []
            for pid in pids:
                try:
                    os.killpg(int(pid), 0)
                except ProcessLookupError:
                    continue
                members = [m for m in _group_members(int(pid)) if m[2] != psutil.STATUS_ZOMBIE]
                if members:
                    alive.append(f"group {pid}: {members}")
            return not alive

        poll_until(
            gone,
            timeout,
            lambda: f"the process groups to end; still running: {alive}",
            interval=LOG_POLL_INTERVAL_S,
        )

    @keyword
    def kill_process_groups(self, *pids: str) -> None:
        """SIGKILL the process group of each pid (cleanup; groups already gone are skipped)."""
        for pid in pids:
            if int(pid) == os.getpgrp():
                raise AssertionError(f"{pid} is the test run's own process group")
            try:
                os.killpg(int(pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                continue
            logger.info(f"killed process group {pid}")

    @keyword
    def processes_of_plan(self, plan_id: str) -> list[int]:
        """The pids of live processes whose environment says ``AGENTS_PLAN_ID=plan_id``: the
        commands of the plan's subplans and anything they started (zombies have none)."""
        found = []
        for proc in psutil.process_iter(["pid", "environ"]):
            environ = proc.info["environ"]  # None when gone meanwhile, or not ours to read
            if environ and environ.get("AGENTS_PLAN_ID") == plan_id:
                found.append(int(proc.info["pid"]))
        return found

    @keyword
    def kill_processes_of_plan(self, plan_id: str) -> list[int]:
        """SIGKILL the process group of every process `Processes Of Plan` finds (cleanup)."""
        pids = self.processes_of_plan(plan_id)
        for pid in pids:
            try:
                group = os.getpgid(pid)
                if group == os.getpgrp():
                    raise AssertionError(f"process {pid} is in the test run's own group")
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                continue
            logger.info(f"killed the process group of {pid}")
        return pids


def _group_members(group: int) -> list[tuple[int, str, str]]:
    """(pid, command name, state) of every process in process group ``group``."""
    members = []
    for proc in psutil.process_iter(["pid", "name", "status"]):
        try:
            in_group = os.getpgid(proc.info["pid"]) == group
        except (ProcessLookupError, PermissionError):
            continue  # gone meanwhile
        if in_group:
            members.append((proc.info["pid"], proc.info["name"], proc.info["status"]))
    return members
