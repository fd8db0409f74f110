"""Kill -9 soak: do two runs of one job ever run at the same time?

Starts ``--workers`` real ``agents worker run`` processes (``--threads`` each) on a fresh
database, enqueues ``--jobs`` command jobs of ``--job-seconds`` each, and SIGKILLs a random
worker every 2-5 s (``--kill-every MIN,MAX``), restarting it at once, until every job has
finished (or ``--deadline`` seconds have passed). Then it reports the jobs by status, the kills,
the runs (and how many were killed), the overlaps and the duration, and exits 0 only if every
job succeeded with no overlap. Every process it started (workers, and whatever still carries the
soak's marker in its environment) is ended before it returns, on Ctrl-C too::

    python tools/soak.py --jobs 5000 --workers 4 --threads 8 --job-seconds 3 \\
        --stale-after 2 --heartbeat 0.5
    python tools/pgcluster.py run -- sh -c 'python tools/soak.py --jobs 500 \\
        --postgres "$AGENTS_TEST_POSTGRES_URL"'

``agents`` is run as ``python -m cleveragents`` with this interpreter and the inherited
``PYTHONPATH``: point PYTHONPATH at another checkout's ``src`` to soak that code. SQLite: a new
database in a new temp directory. ``--postgres URL``: a new database is created on that server
(the URL's role needs CREATEDB) and dropped at the end.

How overlaps are measured. Each run of a job (one command, one process: ``python -S run.py``,
the script ``RUN`` below written to the run directory: a short argv keeps the worker's payload
checks cheap) does, first thing: register itself as ``pids/JOB/ATTEMPT.PID.STARTTIME`` (the
kernel's start time of the process, so a recycled pid is never mistaken for it), then look at
every other registered run of the same job and check, in ``/proc``, whether that process
still runs (a zombie does not); then append ``JOB ATTEMPT start NS PID alive=PIDS`` to the
shared log, sleep, and append ``JOB ATTEMPT end NS PID``. Lines are single ``write(2)`` calls on
an ``O_APPEND`` descriptor, so they never interleave. Two runs of a job overlap exactly when the
later one starts while the earlier one is still alive, so a non-empty ``alive=`` is an overlap
seen at the very moment the later run begins its work: **overlaps (exact)**. A killed run never
writes ``end``; as a cross-check the soak also polls ``/proc`` every 10 ms for runs that started
and have not ended, and takes the moment one is seen gone as its end. From those intervals
(start, end or seen-gone) it counts pairs of runs of one job whose intervals intersect:
**overlaps (intervals)**, an upper bound (seen-gone is up to one poll late).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARK = "AGENTS_SOAK_RUN"  # in every worker's environment, so in every command's: cleanup finds them

# One run of a job. Stdlib only (it runs with -S), one process, no children.
RUN = r"""
import os, sys, time
base, seconds = sys.argv[1], float(sys.argv[2])
job, pid = os.environ["AGENTS_JOB_ID"], os.getpid()
attempt = os.environ.get("AGENTS_JOB_ATTEMPT", "0")  # 0: code older than the attempt marker
def stat(p):
    try:
        with open(f"/proc/{p}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return fields[0].decode(), fields[19].decode()  # state, start time
runs = os.path.join(base, "pids", job)
os.makedirs(runs, exist_ok=True)
me = f"{attempt}.{pid}.{stat(pid)[1]}"
open(os.path.join(runs, me), "w").close()
alive = []
for name in os.listdir(runs):
    if name != me:
        _, other, started = name.split(".")
        seen = stat(other)
        if seen is not None and seen[0] != "Z" and seen[1] == started:
            alive.append(other)
log = os.open(os.path.join(base, "runs.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
line = f"{job} {attempt} start {time.monotonic_ns()} {pid} {me} alive={','.join(alive)}\n"
os.write(log, line.encode())
time.sleep(seconds)
os.write(log, f"{job} {attempt} end {time.monotonic_ns()} {pid} {me}\n".encode())
"""


@dataclass
class Run:
    job: str
    attempt: int
    pid: int
    key: str  # ATTEMPT.PID.STARTTIME
    start: int
    alive: list[str]
    end: int | None = None  # from its end line
    gone: int | None = None  # when the poller saw it gone without an end line

    @property
    def until(self) -> int:
        return self.end if self.end is not None else (self.gone or time.monotonic_ns())


@dataclass
class Soak:
    args: argparse.Namespace
    base: Path
    url: str
    workers: list[subprocess.Popen[bytes] | None] = field(default_factory=list)
    kills: int = 0
    runs: dict[str, Run] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    _offset: int = 0
    _counter: int = 0

    def env(self) -> dict[str, str]:
        a = self.args
        return {
            **os.environ,
            "AGENTS_DATABASE_URL": self.url,
            "AGENTS_CONFIG": str(self.base / "config.toml"),
            "AGENTS_ASYNC__MAX_WORKERS": str(a.threads),
            "AGENTS_ASYNC__STALE_AFTER": str(a.stale_after),
            "AGENTS_ASYNC__HEARTBEAT_INTERVAL": str(a.heartbeat),
            MARK: str(self.base),
        }

    def agents(self, *argv: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "cleveragents", *argv],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"agents {' '.join(argv[:3])} failed: {done.stderr.strip()}")
        return done.stdout

    def start_worker(self, slot: int) -> None:
        self._counter += 1
        err = open(self.base / f"worker{slot}-{self._counter}.stderr", "wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "cleveragents", "worker", "run"],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=err,
        )
        err.close()
        self.workers[slot] = proc

    def killer(self) -> None:
        low, high = self.args.kill_every
        rng = random.Random(self.args.seed)
        while not self.stop.wait(rng.uniform(low, high)):
            slot = rng.randrange(len(self.workers))
            proc = self.workers[slot]
            if proc is None:
                continue
            proc.kill()
            proc.wait()
            self.kills += 1
            if not self.stop.is_set():
                self.start_worker(slot)

    def read_log(self) -> None:
        path = self.base / "runs.log"
        if not path.exists():
            return
        with path.open("rb") as handle:
            handle.seek(self._offset)
            chunk = handle.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.decode().splitlines():
            parts = line.split()
            if parts[2] == "start":
                alive = parts[6].removeprefix("alive=")
                self.runs[parts[5]] = Run(
                    parts[0], int(parts[1]), int(parts[4]), parts[5], int(parts[3]),
                    alive.split(",") if alive else [],
                )  # fmt: skip
            else:
                self.runs[parts[5]].end = int(parts[3])

    def poll_runs(self) -> None:
        """Tail the log; note when a run that has not ended is seen gone (killed)."""
        while not self.stop.wait(0.01):
            self.read_log()
            now = time.monotonic_ns()
            for run in list(self.runs.values()):
                if run.end is None and run.gone is None and not _alive(run.pid, run.key):
                    run.gone = now
        self.read_log()

    def statuses(self) -> dict[str, int]:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT status, count(*) FROM async_jobs GROUP BY status"))
                return {str(status): int(count) for status, count in rows}
        finally:
            engine.dispose()

    def run(self) -> dict[str, Any]:
        a = self.args
        (self.base / "config.toml").write_text("", encoding="utf-8")
        (self.base / "run.py").write_text(RUN, encoding="utf-8")
        argv = [sys.executable, "-S", str(self.base / "run.py"), str(self.base), str(a.job_seconds)]
        print(f"soak: {self.base}; enqueueing {a.jobs} jobs", flush=True)
        self.agents(
            "jobs", "enqueue", "command", "--count", str(a.jobs), "--max-attempts", "100",
            "--", *argv,
        )  # fmt: skip
        started = time.monotonic()
        deadline = started + a.deadline
        self.workers = [None] * a.workers
        for slot in range(a.workers):
            self.start_worker(slot)
        threads = [threading.Thread(target=t, daemon=True) for t in (self.killer, self.poll_runs)]
        for thread in threads:
            thread.start()
        counts: dict[str, int] = {}
        last_print = 0.0
        while time.monotonic() < deadline:
            counts = self.statuses()
            if counts.get("queued", 0) + counts.get("running", 0) == 0:
                break
            if time.monotonic() - last_print >= 30:
                last_print = time.monotonic()
                print(f"soak: {time.monotonic() - started:.0f} s, {counts}, kills {self.kills}")
            self.stop.wait(1.0)
        duration = time.monotonic() - started
        finished = counts.get("queued", 0) + counts.get("running", 0) == 0
        self.stop.set()
        for thread in threads:
            thread.join()
        self.stop_workers()
        left = _marked(str(self.base))
        _kill_all(left)
        self.read_log()
        return self.report(counts, duration, finished, len(left))

    def stop_workers(self) -> None:
        procs = [p for p in self.workers if p is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def report(
        self, counts: dict[str, int], duration: float, finished: bool, left: int
    ) -> dict[str, Any]:
        by_job: dict[str, list[Run]] = defaultdict(list)
        for run in self.runs.values():
            by_job[run.job].append(run)
        exact = [run for run in self.runs.values() if run.alive]
        intervals = 0
        for runs in by_job.values():
            runs.sort(key=lambda r: r.start)
            for i, earlier in enumerate(runs):
                intervals += sum(1 for later in runs[i + 1 :] if later.start < earlier.until)
        return {
            "database": self.url.split(":", 1)[0],
            "jobs": self.args.jobs,
            "jobs_by_status": counts,
            "all_finished": finished,
            "duration_s": round(duration, 1),
            "kills": self.kills,
            "runs": len(self.runs),
            "runs_killed": sum(1 for r in self.runs.values() if r.end is None),
            "jobs_run_more_than_once": sum(1 for runs in by_job.values() if len(runs) > 1),
            "overlaps_exact": len(exact),
            "overlaps_intervals": intervals,
            "overlapping_jobs": sorted({r.job for r in exact})[:20],
            "processes_left_at_end": left,
        }


def _alive(pid: int, key: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != b"Z" and fields[19].decode() == key.rsplit(".", 1)[1]


def _marked(value: str) -> list[int]:
    """Pids of this user's processes whose environment has the soak's marker."""
    needle = f"\0{MARK}={value}\0".encode()
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                env = b"\0" + Path(f"/proc/{name}/environ").read_bytes()
            except OSError:
                continue
            if needle in env and _running(int(name)):
                found.append(int(name))
    return found


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def _kill_all(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _admin(url: str, statement: str) -> None:
    """Run one statement outside a transaction on the server of ``url``."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def _fresh_postgres(url: str) -> tuple[str, str]:
    """Create a new database on the server of ``url``; return its URL and name."""
    from sqlalchemy.engine import make_url

    name = f"soak_{os.getpid()}_{random.randrange(10**6)}"
    _admin(url, f'CREATE DATABASE "{name}"')
    fresh = make_url(url).set(database=name)
    if fresh.drivername == "postgresql":
        fresh = fresh.set(drivername="postgresql+psycopg")
    return fresh.render_as_string(hide_password=False), name


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="kill -9 soak of agents workers; counts overlapping runs of a job"
    )
    parser.add_argument("--jobs", type=int, default=5000, help="command jobs (default 5000)")
    parser.add_argument("--workers", type=int, default=4, help="worker processes (default 4)")
    parser.add_argument("--threads", type=int, default=8, help="async.max_workers (default 8)")
    parser.add_argument("--job-seconds", type=float, default=3.0, help="each job's sleep")
    parser.add_argument("--stale-after", type=float, default=2.0, help="async.stale_after")
    parser.add_argument("--heartbeat", type=float, default=0.5, help="async.heartbeat_interval")
    pair = lambda text: tuple(float(x) for x in text.split(","))  # noqa: E731
    parser.add_argument("--kill-every", type=pair, default=(2.0, 5.0), metavar="MIN,MAX")
    parser.add_argument("--deadline", type=float, default=1800, help="give up after (s)")
    parser.add_argument("--postgres", metavar="URL", help="soak on a new database on this server")
    parser.add_argument("--seed", type=int, default=None, help="random seed of the kills")
    parser.add_argument("--keep", action="store_true", help="keep the run directory")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if len(args.kill_every) != 2 or not 0 < args.kill_every[0] <= args.kill_every[1]:
        parser.error("--kill-every must be MIN,MAX with 0 < MIN <= MAX")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="agents-soak-"))
    pg: tuple[str, str] | None = _fresh_postgres(args.postgres) if args.postgres else None
    url = pg[0] if pg else f"sqlite:///{base / 'agents.db'}"
    soak = Soak(args, base, url)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        report = soak.run()
    finally:
        soak.stop.set()
        soak.stop_workers()
        _kill_all(_marked(str(base)))
        if pg:
            _admin(args.postgres, f'DROP DATABASE IF EXISTS "{pg[1]}" WITH (FORCE)')
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    lines = [f"{key}: {value}" for key, value in report.items()]
    print(json.dumps(report, indent=2) if args.json else "\n".join(lines))
    ok = report["overlaps_exact"] == 0 and report["jobs_by_status"] == {"succeeded": args.jobs}
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
