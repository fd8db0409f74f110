"""Keywords for robot/multihost.robot: simulated hosts (tools/multihost.py) sharing one
PostgreSQL server, real `agents` workers on each, and the jobs' own run logs.

Every job the suite runs is ``sh tick.sh LOGDIR TICKS``: it appends a ``tick`` line (job id,
attempt, host, time) to its host's log every 0.1 s, and an ``end`` line when done. A run's span
is from its first line to its last, so a run stopped by a kill or a fence ends at its last tick:
two runs of one job overlapping in time means it ran twice at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from _robot_support import agents_library, poll_until
from robot.api import SkipExecution, logger
from robot.api.deco import keyword, library

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))
import multihost  # noqa: E402 - tools/ is no package

# A job logs its id and attempt; a plan's leaf (no attempt number) its subplan id and run id.
TICK_SCRIPT = """\
log="$1/$(hostname).log"
id="${AGENTS_JOB_ID:-$AGENTS_SUBPLAN_ID}"
attempt="${AGENTS_JOB_ATTEMPT:-0}"
i=0
while [ "$i" -lt "$2" ]; do
  echo "tick $id $attempt $(hostname) $(date +%s.%N)" >> "$log"
  sleep 0.1
  i=$((i + 1))
done
echo "end $id $attempt $(hostname) $(date +%s.%N)" >> "$log"
"""
STOP_TIMEOUT_S = 90.0  # a worker of a host that was cut off may first wait out a dead socket


@library(scope="SUITE", auto_keywords=False)
class MultiHostLibrary:
    """The harness of one suite, the workers started on its hosts, and their logs."""

    def __init__(self) -> None:
        self._harness: multihost.Harness | None = None
        self._state: Path | None = None
        self._workers: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    @property
    def harness(self) -> multihost.Harness:
        if self._harness is None:
            raise AssertionError("call `Start Hosts` first")
        return self._harness

    # -- hosts --------------------------------------------------------------------------------

    @keyword
    def start_hosts(self, count: int = 4) -> str:
        """Make ``count`` hosts and the server (skipping the suite, with the reason, where the
        harness cannot run); set the test environment's database URL; return the work dir."""
        reason = multihost.unavailable()
        if reason:
            raise SkipExecution(reason)
        agents = agents_library()
        work = Path(agents.use_fresh_database())
        self._state = work / "hosts.json"
        self._harness = multihost.up(self._state, int(count))
        agents.set_agents_environment(DATABASE_URL=self._harness.url)
        (work / "tick.sh").write_text(TICK_SCRIPT)
        (work / "runs").mkdir()
        logger.info(f"hosts {self._harness.hosts}, database {self._harness.url}")
        return str(work)

    @keyword
    def stop_hosts(self) -> None:
        """Stop every worker, then the server and the namespaces."""
        self.stop_host_workers()
        if self._state is not None:
            multihost.down(self._state)

    @keyword
    def run_on_host(self, host: str, *args: str) -> str:
        """Run ``agents ARGS`` on ``host`` (``db``: beside the server) to completion; fail
        unless it exits 0; return its stdout."""
        agents = agents_library()
        argv = self.harness.exec_argv(host, [agents.agents_executable(), *args])
        env = {**os.environ, **agents.environment}
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise AssertionError(
                f"agents {' '.join(args)} on {host}: {done.returncode}\n{done.stderr}"
            )
        return done.stdout

    @keyword
    def enqueue_tick_jobs(self, count: int, ticks: int) -> list[str]:
        """``count`` command jobs of ``ticks`` ticks each; returns their ids."""
        work = agents_library().work_dir()
        out = self.run_on_host(
            multihost.DB_HOST,
            *("jobs", "enqueue", "command", "--count", str(count), "--"),
            *("sh", str(work / "tick.sh"), str(work / "runs"), str(ticks)),
        )
        return out.split()

    @keyword
    def start_host_workers(self, host: str, count: int, *args: str) -> None:
        """Start ``count`` `agents -v worker run ARGS` processes on ``host``."""
        for _ in range(int(count)):
            self.start_on_host(host, "worker", "-v", "worker", "run", *args)

    @keyword
    def wait_until_workers_run(self, count: int, timeout: float = 120) -> None:
        """Wait until ``count`` workers are registered as running (`agents worker list`)."""
        seen: list[int] = [0]

        def up() -> bool:
            listed = json.loads(self.run_on_host(multihost.DB_HOST, "worker", "list", "--json"))
            seen[0] = sum(1 for worker in listed if worker["status"] == "running")
            return seen[0] >= int(count)

        poll_until(up, float(timeout), lambda: f"{count} running workers (seen {seen[0]})", 0.5)

    @keyword
    def create_tick_plan(self, ticks: int) -> str:
        """A plan over a small project whose leaves each tick ``ticks`` times; returns its id."""
        agents, work = agents_library(), agents_library().work_dir()
        root = work / "proj"
        for index in range(6):
            (root / f"d{index % 3}").mkdir(parents=True, exist_ok=True)
            (root / f"d{index % 3}" / f"f{index}.txt").write_text(f"file {index}\n")
        action = work / "tick.toml"
        command = ["sh", str(work / "tick.sh"), str(work / "runs"), str(ticks)]
        action.write_text(
            '[action]\nname = "tick"\n'
            f'command = {json.dumps(command)}\nscope = "files"\n\n'
            "[action.decompose]\nmax_files_per_subplan = 2\nmin_files_per_subplan = 1\n"
        )
        db = multihost.DB_HOST
        self.run_on_host(db, "project", "add", str(root), "--name", "proj")
        out = self.run_on_host(db, "plan", "create", "--project", "proj", "--action", str(action))
        logger.info(f"plan {out.strip()}; {agents.environment}")
        return out.strip()

    @keyword
    def start_plan_on_host(self, host: str, plan: str) -> None:
        """`agents -v plan execute PLAN` on ``host``, in the background."""
        self.start_on_host(host, "plan", "-v", "plan", "execute", plan)

    def start_on_host(self, host: str, label: str, *args: str) -> subprocess.Popen[bytes]:
        agents = agents_library()
        env = {**os.environ, **agents.environment}
        log = agents.work_dir() / f"{host}-{label}{len(self._workers)}.log"
        argv = self.harness.exec_argv(host, [agents.agents_executable(), *args])
        with log.open("wb") as out:
            process = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
            )
        self._workers.append((host, process, log))
        return process

    @keyword
    def wait_until_host_logs(self, host: str, pattern: str, timeout: float = 60) -> None:
        """Wait until a process started on ``host`` logs a line containing ``pattern``."""

        def logged() -> bool:
            logs = [log for h, _process, log in self._workers if h == host]
            return any(pattern in log.read_text(errors="replace") for log in logs)

        poll_until(logged, float(timeout), f"{host} to log {pattern!r}", 0.1)

    @keyword
    def wait_until_host_processes_exit(self, host: str, timeout: float = 120) -> list[int]:
        """Wait until every process started on ``host`` has exited; returns their codes."""
        processes = [process for h, process, _log in self._workers if h == host]
        deadline = time.monotonic() + float(timeout)
        codes = []
        for process in processes:
            try:
                codes.append(process.wait(max(deadline - time.monotonic(), 0.1)))
            except subprocess.TimeoutExpired:
                raise AssertionError(f"a process on {host} still runs after {timeout} s") from None
        return codes

    @keyword
    def plan_on_host_should_complete(self, host: str, plan: str) -> dict[str, Any]:
        """Run `agents plan execute PLAN` on ``host`` to the end; it must exit 0. Returns the
        plan's status afterwards."""
        self.run_on_host(host, "plan", "execute", plan)
        status: dict[str, Any] = json.loads(
            self.run_on_host(multihost.DB_HOST, "plan", "status", plan, "--json")
        )
        return status

    @keyword
    def stop_host_workers(self) -> None:
        """SIGTERM every worker still running (SIGKILL after a deadline); log their output."""
        for _host, process, _log in self._workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for host, process, log in self._workers:
            try:
                code = process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            logger.info(f"worker on {host} (pid {process.pid}) exited {code}:\n{log.read_text()}")
        self._workers = []

    @keyword
    def kill_host(self, host: str) -> int:
        """SIGKILL every process on ``host``; returns how many there were."""
        return self.harness.kill(host)

    @keyword
    def cut_host(self, host: str) -> None:
        """Partition ``host`` from the database (its link down)."""
        self.harness.cut(host)

    @keyword
    def heal_host(self, host: str) -> None:
        """Bring ``host``'s link back."""
        self.harness.heal(host)

    # -- jobs and their runs ------------------------------------------------------------------

    def _jobs(self) -> list[dict[str, Any]]:
        """Every job, as `agents jobs list --json` prints it beside the server."""
        listed = self.run_on_host(multihost.DB_HOST, "jobs", "list", "--json", "--limit", "100000")
        return list(json.loads(listed))

    @keyword
    def job_counts(self) -> dict[str, int]:
        """How many jobs are in each status."""
        return dict(Counter(job["status"] for job in self._jobs()))

    @keyword
    def wait_until_host_runs_jobs(self, host: str, count: int = 1, timeout: float = 60) -> None:
        """Wait until jobs are running on ``host`` (ticks in its log)."""
        log = agents_library().work_dir() / "runs" / f"{host}.log"

        def running() -> bool:
            return log.exists() and len(log.read_text().splitlines()) >= int(count)

        poll_until(running, float(timeout), f"{host} to run jobs", interval=0.05)

    @keyword
    def wait_until_jobs_finish(self, total: int, timeout: float = 180) -> dict[str, int]:
        """Wait until all ``total`` jobs are in a final status; returns the counts."""
        seen: dict[str, int] = {}

        def finished() -> bool:
            seen.clear()
            seen.update(self.job_counts())
            return sum(seen.get(s, 0) for s in ("succeeded", "failed", "cancelled")) >= int(total)

        poll_until(finished, float(timeout), lambda: f"every job to finish: {seen}", interval=1.0)
        return dict(seen)

    @keyword
    def runs_of_jobs(self) -> dict[str, list[dict[str, Any]]]:
        """Every job's runs from the hosts' logs: attempt, host, first and last time, ended."""
        runs: dict[tuple[str, str, str], dict[str, Any]] = {}
        for path in sorted((agents_library().work_dir() / "runs").glob("*.log")):
            for line in path.read_text().splitlines():
                kind, job, attempt, host, stamp = line.split()
                run = runs.setdefault(
                    (job, attempt, host),
                    {"attempt": int(attempt), "host": host, "first": float(stamp), "ended": False},
                )
                run["last"] = float(stamp)
                run["ended"] = run["ended"] or kind == "end"
        by_job: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for (job, _attempt, _host), run in runs.items():
            by_job[job].append(run)
        return dict(by_job)

    @keyword
    def no_job_should_have_run_twice_at_once(self, tolerance_s: float = 0.0) -> dict[str, Any]:
        """Fail if two runs of one job overlap in time by more than ``tolerance_s`` seconds;
        returns a summary of the runs (overlaps within the tolerance are counted and logged)."""
        by_job = self.runs_of_jobs()
        overlaps = []
        for job, runs in by_job.items():
            runs.sort(key=lambda run: run["first"])
            latest = runs[0]  # of the runs so far, the one that went on longest
            for run in runs[1:]:
                if run["first"] <= latest["last"]:
                    overlaps.append((job, latest, run, latest["last"] - run["first"]))
                if run["last"] > latest["last"]:
                    latest = run
        summary = {
            "jobs": len(by_job),
            "runs": sum(len(runs) for runs in by_job.values()),
            "rerun": sum(1 for runs in by_job.values() if len(runs) > 1),
            "overlaps": len(overlaps),
            "worst_overlap_s": max((overlap[3] for overlap in overlaps), default=0.0),
        }
        logger.info(f"runs: {summary}; overlaps: {overlaps}", also_console=bool(overlaps))
        overlaps = [overlap for overlap in overlaps if overlap[3] > float(tolerance_s)]
        if overlaps:
            worst = max(overlap[3] for overlap in overlaps)
            raise AssertionError(
                f"{len(overlaps)} job(s) ran twice at once (worst overlap {worst:.2f} s): "
                f"{overlaps[:5]}"
            )
        return summary

    @keyword
    def every_job_should_have_succeeded_by_its_last_claim(self, ids: list[str]) -> None:
        """Each job succeeded, its recorded attempt is its last run's, and that run ended."""
        jobs = {job["id"]: job for job in self._jobs()}
        by_job = self.runs_of_jobs()
        problems = []
        for job_id in ids:
            job = jobs.get(job_id)
            runs = sorted(by_job.get(job_id, []), key=lambda run: run["first"])
            if job is None or job["status"] != "succeeded" or not runs:
                problems.append(f"{job_id}: {job and job['status']}, {len(runs)} run(s)")
                continue
            last = runs[-1]
            if not last["ended"] or last["attempt"] != job["attempts"]:
                problems.append(f"{job_id}: recorded attempt {job['attempts']}, last run {last}")
        if problems:
            raise AssertionError(f"{len(problems)} job(s) wrong:\n" + "\n".join(problems[:20]))

    @keyword
    def host_workers_should_have_logged(self, host: str, pattern: str) -> None:
        """Some worker of ``host`` logged a line containing ``pattern``."""
        logs = [log for h, _process, log in self._workers if h == host]
        if not any(pattern in log.read_text() for log in logs):
            raise AssertionError(f"no worker on {host} logged {pattern!r}")

    @keyword
    def wait_until_other_hosts_rerun_jobs_of(self, host: str, timeout: float = 120) -> int:
        """Wait until every job whose run on ``host`` did not end has run again on another
        host, with a later attempt; returns how many such jobs there were."""

        waiting: dict[str, Any] = {}

        def rerun() -> int | None:
            by_job = self.runs_of_jobs()
            waiting.clear()
            stopped = {
                job: max(r["attempt"] for r in runs if r["host"] == host and not r["ended"])
                for job, runs in by_job.items()
                if any(r["host"] == host and not r["ended"] for r in runs)
            }
            for job, attempt in stopped.items():
                if not any(r["host"] != host and r["attempt"] > attempt for r in by_job[job]):
                    waiting[job] = by_job[job]
                    return None
            return len(stopped) or None

        return int(
            poll_until(
                rerun,
                float(timeout),
                lambda: f"the jobs {host} ran to run elsewhere: {waiting}",
                0.5,
            )
        )

    @keyword
    def restart_database(self) -> None:
        """A fast restart of the server: every session ends, the server comes back."""
        self.harness.restart_database()

    @keyword
    def every_host_worker_should_still_run(self) -> None:
        """No worker exited (they reconnect by themselves)."""
        gone = [
            f"{h} pid {p.pid}: {p.returncode}"
            for h, p, _log in self._workers
            if p.poll() is not None
        ]
        if gone:
            raise AssertionError(f"workers exited: {gone}")
