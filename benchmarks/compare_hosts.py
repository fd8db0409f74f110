"""Workers on 1, 2 and 4 simulated hosts sharing one PostgreSQL server, and a long run with a
host killed midway: the figures of docs/postgres.md's "Across hosts".

The hosts are ``tools/multihost.py``'s: network namespaces with their own hostnames, bridged to
a namespace where a throwaway server (pgcluster's test settings: fsync off) listens on the
bridge address only. Needs root.

- ``--throughput``: for each host count, a fresh server; ``agents jobs enqueue noop --count N``
  (untimed), then ``--workers`` real ``agents worker run --burst --max-workers T`` processes on
  every host (the same per host), timed from the first spawn to the last exit. Alongside: the
  machine's CPU use (of its 2 cores) and the server's own counters (``pg_stat_database``:
  commits, rows updated) over the run, to say what binds.
- ``--soak N``: 4 hosts x 4 workers x 2 threads run N command jobs that log their own start
  and end (job id, attempt, host, time); one host is killed with SIGKILL once a third of the
  jobs is done. Then: jobs not succeeded (lost), jobs whose runs overlapped in time (a run
  with no end line, the killed host's, ends at the kill), and jobs whose recorded attempt is
  not their last run's.

    sudo python benchmarks/compare_hosts.py --throughput --jobs 5000
    sudo python benchmarks/compare_hosts.py --soak 20000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import multihost  # noqa: E402 - tools/ is no package

AGENTS = str(Path(sys.executable).parent / "agents")
STATS = (
    "import json, os, psycopg; c = psycopg.connect(os.environ['DSN']); print(json.dumps(dict(zip("
    "('commits', 'updated', 'inserted'), c.execute('SELECT xact_commit, tup_updated, "
    "tup_inserted FROM pg_stat_database WHERE datname = current_database()').fetchone()))))"
)
COUNTS = (
    "import json, os, psycopg; c = psycopg.connect(os.environ['DSN']); print(json.dumps(dict("
    "c.execute('SELECT status, count(*) FROM async_jobs GROUP BY status').fetchall())))"
)
JOB_SCRIPT = (
    'echo "s $AGENTS_JOB_ID $AGENTS_JOB_ATTEMPT $(hostname) $(date +%s.%N)" >> "$0/$(hostname)";'
    ' echo "e $AGENTS_JOB_ID $AGENTS_JOB_ATTEMPT $(hostname) $(date +%s.%N)" >> "$0/$(hostname)"'
)


class Hosts:
    """One harness, its environment, and the processes started on it."""

    def __init__(self, count: int, work: Path) -> None:
        self.state = work / f"hosts{count}.json"
        self.harness = multihost.up(self.state, count)
        self.env = {
            **os.environ,
            "AGENTS_DATABASE_URL": self.harness.url,
            "AGENTS_CONFIG": str(work / "config.toml"),
            "AGENTS_ASYNC__HEARTBEAT_INTERVAL": "0.5",
            "AGENTS_ASYNC__STALE_AFTER": "4",
        }
        self.run("db", "db", "upgrade")

    def run(self, host: str, *args: str) -> str:
        argv = self.harness.exec_argv(host, [AGENTS, *args])
        done = subprocess.run(argv, env=self.env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"agents {' '.join(args)} on {host}: {done.stderr}")
        return done.stdout

    def spawn(self, host: str, *args: str) -> subprocess.Popen[bytes]:
        argv = self.harness.exec_argv(host, [AGENTS, *args])
        return subprocess.Popen(
            argv, env=self.env, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def stats(self, script: str = STATS) -> dict[str, int]:
        """What ``script`` prints (a JSON object), run beside the server."""
        dsn = self.harness.url.replace("postgresql+psycopg://", "postgresql://")
        argv = self.harness.exec_argv("db", [sys.executable, "-c", script])
        out = subprocess.run(
            argv, env={**self.env, "DSN": dsn}, capture_output=True, text=True, check=True
        )
        return dict(json.loads(out.stdout))

    def jobs(self) -> list[dict[str, Any]]:
        return list(json.loads(self.run("db", "jobs", "list", "--json", "--limit", "100000")))

    def down(self) -> None:
        multihost.down(self.state)


def throughput(host_counts: list[int], jobs: int, workers: int, threads: int, work: Path) -> None:
    print(
        "| hosts | worker processes | threads | jobs/s | CPU of 2 cores | commits/s | "
        "rows updated/s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for count in host_counts:
        hosts = Hosts(count, work)
        try:
            hosts.run("db", "jobs", "enqueue", "noop", "--count", str(jobs))
            before, cpu0 = hosts.stats(), psutil.cpu_times()
            started = time.monotonic()
            procs = [
                hosts.spawn(host, "worker", "run", "--burst", "--max-workers", str(threads))
                for host in hosts.harness.hosts
                for _ in range(workers)
            ]
            codes = [proc.wait() for proc in procs]
            elapsed = time.monotonic() - started
            cpu1, after = psutil.cpu_times(), hosts.stats()
            done = sum(1 for job in hosts.jobs() if job["status"] == "succeeded")
            busy = (sum(cpu1) - cpu1.idle - cpu1.iowait) - (sum(cpu0) - cpu0.idle - cpu0.iowait)
            cpu = busy / elapsed / (psutil.cpu_count() or 1)
            if done != jobs or any(codes):
                print(f"<!-- {count} hosts: {done}/{jobs} succeeded, exit codes {codes} -->")
            commits = (after["commits"] - before["commits"]) / elapsed
            updated = (after["updated"] - before["updated"]) / elapsed
            print(
                f"| {count} | {count * workers} | {count * workers * threads} "
                f"| {jobs / elapsed:,.0f} | {cpu:.0%} | {commits:,.0f} | {updated:,.0f} |",
                flush=True,
            )
        finally:
            hosts.down()


def soak(total: int, work: Path) -> None:
    hosts = Hosts(4, work)
    runs_dir = work / "runs"
    runs_dir.mkdir()
    try:
        ids = hosts.run(
            "db",
            "jobs",
            "enqueue",
            "command",
            "--count",
            str(total),
            "--",
            "sh",
            "-c",
            JOB_SCRIPT,
            str(runs_dir),
        ).split()
        started = time.monotonic()
        procs = {
            host: [hosts.spawn(host, "worker", "run", "--max-workers", "2") for _ in range(4)]
            for host in hosts.harness.hosts
        }
        victim, killed_at = "h1", 0.0
        while True:
            counts = hosts.stats(COUNTS)
            finished = counts.get("succeeded", 0) + counts.get("failed", 0)
            if not killed_at and finished >= total // 3:
                hosts.harness.kill(victim)
                killed_at = time.time()
                print(f"killed {victim} at {finished}/{total} finished", flush=True)
            if finished >= total:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        jobs = hosts.jobs()
        for host, group in procs.items():
            for proc in group:
                if host != victim:
                    proc.terminate()
            for proc in group:
                proc.wait()
        report(ids, jobs, runs_dir, killed_at, victim, elapsed)
    finally:
        hosts.down()


def report(
    ids: list[str],
    jobs: list[dict[str, Any]],
    runs_dir: Path,
    killed_at: float,
    victim: str,
    elapsed: float,
) -> None:
    runs: dict[tuple[str, str, str], list[float]] = {}
    for path in runs_dir.iterdir():
        for line in path.read_text().splitlines():
            kind, job, attempt, host, stamp = line.split()
            span = runs.setdefault((job, attempt, host), [float(stamp), float("nan")])
            if kind == "e":
                span[1] = float(stamp)
    by_job: dict[str, list[list[float]]] = defaultdict(list)
    for (job, _attempt, host), (start, end) in runs.items():
        by_job[job].append([start, end if end == end else (killed_at if host == victim else start)])
    overlapping = 0
    for spans in by_job.values():
        spans.sort()
        latest_end = spans[0][1]
        for start, end in spans[1:]:
            if start < latest_end:
                overlapping += 1
                break
            latest_end = max(latest_end, end)
    recorded = {job["id"]: job for job in jobs}
    lost = [job_id for job_id in ids if recorded.get(job_id, {}).get("status") != "succeeded"]
    last_ended: dict[str, int] = {}
    for (job, attempt, _host), (_start, end) in runs.items():
        if end == end:  # not NaN: the run ended
            last_ended[job] = max(last_ended.get(job, 0), int(attempt))
    last_claim_wrong = sum(
        1 for job_id in ids if last_ended.get(job_id) != recorded.get(job_id, {}).get("attempts")
    )
    reruns = sum(len(spans) > 1 for spans in by_job.values())
    print(
        f"{len(ids)} jobs on 4 hosts x 4 workers x 2 threads, {victim} killed midway: "
        f"{elapsed:.0f} s; runs {len(runs)}; jobs run more than once {reruns}; lost "
        f"{len(lost)}; running twice at once {overlapping}; recorded attempt not the last run's "
        f"{last_claim_wrong}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--throughput", action="store_true")
    parser.add_argument("--hosts", default="1,2,4")
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=4, help="worker processes per host")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--soak", type=int, default=0, help="jobs for the run with a host killed")
    args = parser.parse_args()
    reason = multihost.unavailable()
    if reason:
        raise SystemExit(reason)
    with tempfile.TemporaryDirectory(prefix="agents-hosts-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)
        if args.throughput:
            counts = [int(n) for n in args.hosts.split(",")]
            throughput(counts, args.jobs, args.workers, args.threads, work)
        if args.soak:
            soak(args.soak, work)


if __name__ == "__main__":
    main()
