"""The worst heartbeat gap of a real ``agents worker run`` whose jobs keep ``redact`` busy.

The worker runs at a heartbeat interval of 0.2 s (``AGENTS_ASYNC__HEARTBEAT_INTERVAL``), 4
threads. Each job is a ``command`` whose argv carries ``ARGV_HEX`` characters of hex (checked for
secrets by the payload's validator when the worker loads the job: ``redact`` over all of it) and
which prints ``OUTPUT_HEX`` characters of hex and exits 1 (its output tail and its error go
through ``redact`` too). Meanwhile this process reads the worker's ``last_heartbeat`` every
20 ms; the gaps are between the successive values the worker wrote, by its own clock.
"""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cleveragents.store.tables import workers
from cleveragents.worker.queue import JobQueue

from ._db import Target, open_db
from ._processes import WorkerProcess, agents_argv, worker_env
from ._support import env_int, temp_dir

HEARTBEAT_INTERVAL_S = 0.2
JOBS = env_int("AGENTS_BENCH_HEARTBEAT_JOBS", 120)
ARGV_HEX = 1_500_000  # execve takes up to ~2 MB of arguments, 128 KiB each
OUTPUT_HEX = 4_000_000
_PRINT = "import sys; sys.stdout.write('{}' * {}); sys.exit(1)"


def _job_argv(rng: random.Random) -> list[str]:
    pieces = [rng.randbytes(50_000).hex() for _ in range(ARGV_HEX // 100_000)]
    block = rng.randbytes(512).hex()
    script = _PRINT.format(block, OUTPUT_HEX // len(block))
    return [sys.executable, "-c", script, *pieces]


class _Worker(WorkerProcess):
    """A worker process with a short heartbeat interval."""

    def spawn(self) -> None:
        env = {
            **worker_env(self.url),
            "AGENTS_ASYNC__HEARTBEAT_INTERVAL": str(HEARTBEAT_INTERVAL_S),
        }
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                agents_argv("worker", "run"),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
            )


def worst_heartbeat_gap(url: str | None = None, jobs: int = JOBS) -> dict[str, Any]:
    """Run the jobs on a fresh worker; the heartbeats it wrote meanwhile, summarised."""
    with temp_dir() as tmp:
        target: Target = url or tmp / "agents.db"
        db = open_db(target)
        worker = _Worker(target, tmp)
        queue = JobQueue(db)
        rng = random.Random(3)
        beats: list[datetime] = []
        try:
            payloads = [queue.build("command", {"argv": _job_argv(rng)}) for _ in range(jobs)]
            ids = queue.enqueue_many(payloads)
            started = time.monotonic()
            worker.spawn()
            assert worker.proc is not None
            query = select(workers.c.last_heartbeat).where(workers.c.pid == worker.proc.pid)
            pending, polls = len(ids), 0
            while pending and time.monotonic() - started < 600:
                with db.read() as conn:
                    seen = conn.execute(query).scalar_one_or_none()
                if seen is not None and (not beats or seen != beats[-1]):
                    beats.append(seen)
                polls += 1
                if polls % 10 == 0:  # every 0.2 s: how many jobs are left
                    counts = queue.store.count_by_status()
                    pending = sum(n for st, n in counts.items() if not st.is_terminal)
                time.sleep(0.02)
            elapsed = time.monotonic() - started
        finally:
            db.dispose()
            worker.stop()
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(beats)]
    return {
        "worst_gap_ms": max(gaps) * 1000 if gaps else float("nan"),
        "beats": len(beats),
        "jobs": jobs,
        "unfinished": pending,
        "elapsed_s": elapsed,
        "interval_ms": HEARTBEAT_INTERVAL_S * 1000,
    }
