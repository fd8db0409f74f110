"""Keywords for robot/process_binding.robot: processes found by their exact argv (a `sleep` of a
number of seconds no other test uses), a command that records each of its runs and whether an
earlier run of the same job was still alive when it started, and cleanup of what a failed test
left running.

A process counts as running unless it is a zombie (it has ended; only its exit status waits for
a parent that is gone to be reaped). Processes are looked up with psutil.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
from pathlib import Path
from typing import Any

import psutil
from _robot_support import (
    LOG_POLL_INTERVAL_S,
    agents_library,
    poll_until,
    process_library,
    wait_for_log_line,
)
from robot.api import logger
from robot.api.deco import keyword, library

# The command `Write Recorded Command` writes. Before it starts its work, a run looks at every
# earlier run of its job (their pids in runs.pids) and notes the ones still running: two runs
# overlap exactly when the later one starts while the earlier one runs. The first run then holds
# (HOLD, a command the test ends by killing its worker); later runs end at once. Runs are
# numbered by the command itself, not by the job's attempt, so that nothing here relies on what
# agents tells a command.
RECORDED = """\
dir=$(dirname "$0")
run=$(( $(cat "$dir/runs.pids" 2>/dev/null | wc -l) + 1 ))
alive=""
for pid in $(cat "$dir/runs.pids" 2>/dev/null); do
    if [ -r /proc/$pid/stat ] && ! grep -q ') Z ' /proc/$pid/stat; then alive="$alive $pid"; fi
done
echo $$ >> "$dir/runs.pids"
echo "$run start $$ alive:$alive" >> "$dir/runs.log"
if [ "$run" = 1 ]; then {hold}; fi
echo "$run end $$" >> "$dir/runs.log"
"""


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _running_argv(argv: list[str]) -> list[int]:
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        if proc.info["cmdline"] == argv and _running(proc):
            found.append(int(proc.info["pid"]))
    return found


@library(scope="GLOBAL", auto_keywords=False)
class BindingLibrary:
    """Daemons with argvs of their own, recorded runs of a job, and their cleanup."""

    def __init__(self) -> None:
        self._argvs: list[list[str]] = []

    @keyword
    def unique_sleep(self, seconds: int = 777) -> list[str]:
        """``["sleep", "SECONDS.NNNNNNNN"]``: an argv no other process has (GNU sleep takes a
        fraction), so that scanning for it finds this test's process and nobody else's.
        `Kill Unique Sleeps` ends them in the teardown."""
        argv = ["sleep", f"{int(seconds)}.{random.randrange(10**7, 10**8)}"]
        self._argvs.append(argv)
        return argv

    @keyword
    def wait_until_a_process_runs(self, *argv: str, timeout: str = "30s") -> int:
        """Poll the process list until a process with exactly this argv runs; return its pid."""
        wanted = list(argv)

        def found() -> int | None:
            pids = _running_argv(wanted)
            return pids[0] if pids else None

        return poll_until(found, timeout, f"a process {wanted}", LOG_POLL_INTERVAL_S)

    @keyword
    def no_process_should_run(self, *argv: str) -> None:
        """No process with exactly this argv runs now."""
        pids = _running_argv(list(argv))
        if pids:
            raise AssertionError(f"still running {list(argv)}: pids {pids}")

    @keyword
    def pids_should_not_run(self, *pids: Any) -> None:
        """None of these processes runs now (gone, or a zombie)."""
        left = []
        for pid in pids:
            try:
                proc = psutil.Process(int(pid))
            except psutil.NoSuchProcess:
                continue
            if _running(proc):
                left.append(f"{pid} {proc.cmdline()}")
        if left:
            raise AssertionError(f"still running: {left}")

    @keyword
    def pid_in_file(self, path: str, timeout: str = "30s") -> int:
        """Poll until ``path`` holds a pid (a line of digits); return it."""

        def read() -> int | None:
            file = Path(path)
            text = file.read_text(encoding="utf-8").strip() if file.exists() else ""
            return int(text) if text.isdigit() else None

        return poll_until(read, timeout, f"a pid in {path}", LOG_POLL_INTERVAL_S)

    @keyword
    def write_recorded_command(self, name: str, *hold: str) -> list[str]:
        """Write ``NAME/run.sh`` in the work dir: each run appends ``N start PID alive: PIDS``
        to ``NAME/runs.log`` (N counts the runs; PIDS: the earlier runs of the job still running
        at that moment), run 1 then runs ``HOLD``, and every run that gets there appends ``N end
        PID``. Returns the argv that runs it."""
        folder = agents_library().work_dir() / name
        folder.mkdir()
        script = folder / "run.sh"
        script.write_text(RECORDED.replace("{hold}", " ".join(hold)), encoding="utf-8")
        return ["sh", str(script)]

    @keyword
    def recorded_runs(self, name: str) -> list[dict[str, Any]]:
        """The runs ``NAME/runs.log`` recorded, in the order they started: ``run``, ``pid``,
        ``alive`` (earlier runs still running when it started) and ``ended``."""
        log = agents_library().work_dir() / name / "runs.log"
        runs: dict[str, dict[str, Any]] = {}
        for line in log.read_text(encoding="utf-8").splitlines():
            number, event, pid, *rest = line.split()
            if event == "start":
                alive = [p for p in " ".join(rest).removeprefix("alive:").split() if p]
                runs[pid] = {"run": int(number), "pid": int(pid), "alive": alive}
                runs[pid]["ended"] = False
            else:
                runs[pid]["ended"] = True
        logger.info(f"{log}: {list(runs.values())}")
        return list(runs.values())

    @keyword
    def wait_until_run_starts(self, name: str, run: int = 1, timeout: str = "30s") -> int:
        """Poll ``NAME/runs.log`` until run number ``run`` has started; return its pid."""

        def started() -> int | None:
            log = agents_library().work_dir() / name / "runs.log"
            if not log.exists():
                return None
            for entry in self.recorded_runs(name):
                if entry["run"] == int(run):
                    return int(entry["pid"])
            return None

        return poll_until(started, timeout, f"run {run} of {name} to start")

    @keyword
    def wait_until_file_logs(self, path: str, pattern: str, timeout: str = "30s") -> str:
        """Poll a log file until a line matches ``pattern``; return it. (`Wait Until Process
        Logs` finds a log by the process handle's text, which is the same for two workers
        started with the same arguments.)"""
        return wait_for_log_line(path, pattern, timeout)

    @keyword
    def stall_worker_outside_a_write(self, handle: Any, timeout: str = "30s") -> None:
        """SIGSTOP the worker ``handle`` (a process `Start Agents` started) at a moment it holds
        no write transaction on the test's SQLite database: a worker stopped inside one would
        hold SQLite's write lock, and no other worker could write until it resumed (SQLite's
        one-writer rule, not what the test is about). Stopped holding it, it is resumed and
        stopped again until it is not."""
        pid = process_library().get_process_id(handle)
        url = agents_library().environment["AGENTS_DATABASE_URL"]
        database = url.removeprefix("sqlite:///")

        def stopped_outside() -> bool:
            os.kill(pid, signal.SIGSTOP)
            probe = sqlite3.connect(database, timeout=0.2, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")  # free: the stopped worker holds no write
                probe.execute("ROLLBACK")
                return True
            except sqlite3.OperationalError:
                os.kill(pid, signal.SIGCONT)  # let it finish that write, then try again
                return False
            finally:
                probe.close()

        poll_until(stopped_outside, timeout, f"worker {pid} stopped outside a write")

    @keyword
    def kill_unique_sleeps(self) -> None:
        """Teardown: SIGKILL every process running an argv `Unique Sleep` returned."""
        for argv in self._argvs:
            for pid in _running_argv(argv):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    continue
                logger.warn(f"killed a leftover {argv} (pid {pid})")
        self._argvs = []
