"""What every measurement helper shares: knobs, temp dirs, percentiles, the standard sizes.

The helpers themselves are split by subject, each parametrised by the database it runs on, a
``Path`` of an SQLite file or a database URL (``sqlite:///...`` or ``postgresql+psycopg://...``):

- ``_db``: opening a database at head, queued no-ops, the claim fixtures and figures, enqueue rates;
- ``_processes``: ``agents`` worker processes (environment, bytecode cache, start, CPU, stop);
- ``_drain``: draining queued no-ops, in-process or with worker processes;
- ``_latency``: pickup latency and idle CPU of a real idle worker process;
- ``_plans``: plan fixtures, their execution, the floors and the peak RSS of a plan;
- ``_pgserver``: a throwaway PostgreSQL cluster (``tools/pgcluster.py``) for the PostgreSQL runs.

Every SQLite measurement runs on a fresh temporary file with the project's default settings
(WAL, ``synchronous=normal``; ``AsyncSettings()`` defaults: 4 threads, 1 s poll interval).
Nothing here asserts a time: figures are returned to the caller, which reports them.

Knobs (environment; the nox ``benchmark`` session passes ``AGENTS_BENCH_*`` through):

- ``AGENTS_BENCH_PROBES``: latency probes per run (default 200, as the peers' anchors use).
- ``AGENTS_BENCH_IDLE_S``: seconds the idle worker's CPU time is sampled over (default 5).
- ``AGENTS_BENCH_FINISHED``: finished rows in the big claim database (default 1,000,000).
- ``AGENTS_BENCH_PG_SETTINGS``: ``defaults`` (PostgreSQL's durability) or ``pgcluster``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DRAIN_JOBS = 5000
ENQUEUE_ONE_CALLS = 2000  # the huey anchor times 2,000 single enqueues too
ENQUEUE_MANY_JOBS = 10_000
LATENCY_GAP_S = (0.0, 0.2)  # as the anchors: a random gap before each probe, worker idle


def env_int(name: str, default: int) -> int:
    """An integer knob from the environment."""
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    """A float knob from the environment."""
    return float(os.environ.get(name, default))


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile, the same definition as the anchors' ``_common.percentile``."""
    vals = sorted(values)
    k = max(0, min(len(vals) - 1, round(pct / 100.0 * len(vals) + 0.5) - 1))
    return vals[k]


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


@contextmanager
def temp_dir(prefix: str = "agents-bench-") -> Iterator[Path]:
    """A temporary directory, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
