"""agents on PostgreSQL next to procrastinate, measured in the same sitting on one cluster.

One throwaway cluster (``tools/pgcluster.py``, 127.0.0.1 only) serves both sides; every
measurement gets a fresh database on it, dropped afterwards, and the cluster is stopped at the
end. By default the server runs with PostgreSQL's durability defaults (``fsync``,
``synchronous_commit``, ``full_page_writes`` on, as the peers' anchor ran procrastinate's
server); ``--pg-settings pgcluster`` keeps pgcluster's fast test settings (all three off).

Rounds alternate between the two sides (the side that goes first alternates too):

- agents, one round:

  - end to end, 4 processes: ``agents jobs enqueue noop --count N`` (untimed, before any worker
    starts), then 4 real ``agents worker run --burst --max-workers 4`` processes (``python -m
    cleveragents``), timed from the first spawn to the last job's ``finished_at`` (and to the
    last exit, and first start -> last finish);
  - end to end, 1 process: the same with one ``worker run --burst --max-workers 4``, which is
    how the anchor runs procrastinate (one worker, ``--concurrency 4``);
  - pickup latency: an idle ``agents worker run`` at default settings (woken by LISTEN/NOTIFY;
    its idle CPU is sampled first), ``--probes`` probes one at a time after a random 0-0.2 s
    gap, latency = the probe handler's start - the time just before the enqueue call, as
    ``benchmarks/latency.py`` and the anchors measure it;
  - enqueue: 2,000 x ``JobQueue.enqueue`` (one commit each).

  The anchors run procrastinate's worker as a process, never in-process, so agents is measured
  with real worker processes only (``benchmarks/end_to_end.py`` has the in-process drain).

- procrastinate, one round: the anchors' own ``procrastinate_bench.py`` (``--runs 1
  --latency-runs 1``, the same N and probe count) with its ``PostgresServer`` replaced by this
  cluster (a fresh database), run by ``--procrastinate-python``: raw psycopg rates on the
  server, ``defer()`` rate, end to end with one ``worker --concurrency 4`` (timed from the
  spawn to the last ``succeeded`` event, and first ``started`` -> last ``succeeded``), pickup
  latency (LISTEN/NOTIFY, 5 s polling fallback). Then the same end to end with 4 worker
  processes of ``--concurrency 4`` each (the anchor's own ``start_worker``, 4 times), to match
  the 4 agents processes.

Before each half-round the script waits (up to ``--max-wait`` s) for the machine to be idle;
during it, it measures the CPU time that processes other than this script, its children and the
cluster's server processes used. A half-round during which others used more than
``--max-foreign`` of the machine is run again (up to ``--retries`` times).

Each figure is the median over the rounds (latency: of the per-round p50 / p99). Prints one
Markdown table; ``--out`` writes every value as JSON.

    python benchmarks/compare_procrastinate.py                    # from the repository root
    python benchmarks/compare_procrastinate.py --runs 5 --out /tmp/pg.json
    python benchmarks/compare_procrastinate.py --smoke            # a quick check, not figures

Needs the PostgreSQL server programs, psycopg 3 here (``pip install -e '.[postgres]'``), and
procrastinate in ``--procrastinate-python``'s environment (the anchors' versions)::

    python3 -m venv /tmp/procrastinate-venv && /tmp/procrastinate-venv/bin/pip install \\
        procrastinate==3.10.0 'psycopg[binary]==3.3.9' psycopg-pool==3.3.3
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmarks._db import enqueue_one_rate
from benchmarks._drain import PG_PROCESSES, PG_THREADS, ProcessDrain, drain_processes
from benchmarks._latency import libpq_dsn, pickup_latency
from benchmarks._machine import add_quiet_options, guarded, log, own_s, write_run
from benchmarks._peers import PeerTable, markdown, print_failures, revision
from benchmarks._pgserver import PgServer, unavailable
from benchmarks._processes import enqueue_noops_cli, warm_worker_bytecode

DEFAULT_ANCHORS = os.environ.get("AGENTS_BENCH_ANCHORS", "/work/shared/bench/anchors")
DEFAULT_PYTHON = os.environ.get(
    "AGENTS_BENCH_PROCRASTINATE_PYTHON", "/tmp/procrastinate-venv/bin/python"
)
PROCRASTINATE_VERSION = "3.10.0"  # the anchors' requirements.txt

# Runs inside --procrastinate-python (as `python -c`): the anchor's benchmark, pointed at our
# cluster, then its end-to-end figure again with N worker processes.
DRIVER = (Path(__file__).resolve().parent / "procrastinate_driver.py").read_text(encoding="utf-8")

# The anchor's metric names (procrastinate_bench.py) -> our keys.
ANCHOR_METRICS = {
    "procrastinate defer (1 producer, sync API)": "p_defer_rate",
    "procrastinate end-to-end {n} no-ops, concurrency 4 (from worker spawn)": "p1_spawn_rate",
    "procrastinate end-to-end {n} no-ops, concurrency 4 (first start -> last done)": (
        "p1_steady_rate"
    ),
    "procrastinate pickup latency p50 (LISTEN/NOTIFY)": "p_p50_ms",
    "procrastinate pickup latency p99 (LISTEN/NOTIFY)": "p_p99_ms",
    "PostgreSQL raw psycopg SELECT 1 round trips (1 conn)": "raw_select1",
    "PostgreSQL raw single-row INSERT commit (autocommit)": "raw_insert_commit",
    "PostgreSQL raw claim UPDATE..FOR UPDATE SKIP LOCKED..RETURNING commit": "raw_claim_commit",
}
FAILURES: list[str] = []


def run_driver(argv: list[str], cwd: str, env: dict[str, str], timeout: float = 1800) -> None:
    """Run the procrastinate side in a session of its own; if it fails or we are stopped, end
    it and the worker processes it started (its process group) before going on."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stderr=None if env.get("AGENTS_BENCH_VERBOSE") else subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        code = proc.wait(timeout=timeout)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    if code:
        raise subprocess.CalledProcessError(code, argv[:2])


class Sitting:
    """The cluster and the command line, shared by every half-round."""

    def __init__(self, args: argparse.Namespace, server: PgServer) -> None:
        self.args = args
        self.server = server

    def ours_s(self) -> float:
        """CPU seconds that count as ours: this process, its children and the server's processes
        (both sides load the server)."""
        return own_s() + self.server.server_cpu_s()

    # -- agents -----------------------------------------------------------------------------

    def _drain(self, processes: int) -> ProcessDrain:
        url = self.server.new_database("agents_drain")
        try:
            enqueue_noops_cli(url, self.args.jobs)
            return drain_processes(url, self.args.jobs, processes, PG_THREADS)
        finally:
            self.server.drop_database(url)

    def agents_round(self, seed: int) -> dict[str, float]:
        """One value of each of agents' figures."""
        args = self.args
        four = self._drain(PG_PROCESSES)
        one = self._drain(1)
        url = self.server.new_database("agents_latency")
        try:
            latency = pickup_latency(url, args.probes, args.idle_s, seed)
        finally:
            self.server.drop_database(url)
        url = self.server.new_database("agents_enqueue")
        try:
            enqueue = enqueue_one_rate(args.enqueue_n, url)
        finally:
            self.server.drop_database(url)
        values = {
            "a4_spawn_rate": four.rate,
            "a4_exit_rate": four.exit_rate,
            "a4_steady_rate": four.steady_rate,
            "a1_spawn_rate": one.rate,
            "a1_exit_rate": one.exit_rate,
            "a1_steady_rate": one.steady_rate,
            "p50_ms": latency.p50_ms,
            "p99_ms": latency.p99_ms,
            "max_ms": latency.max_ms,
            "enqueue_call_ms": statistics.median(latency.enqueue_s) * 1000,
            "idle_cpu_percent": latency.idle_cpu_percent,
            "enqueue_rate": enqueue,
        }
        log(
            f"  agents: 4 processes {four.rate:.0f}/s from spawn ({four.steady_rate:.0f}/s "
            f"steady, {four.exit_rate:.0f}/s to exit); 1 process {one.rate:.0f}/s "
            f"({one.steady_rate:.0f}/s steady); p50 {latency.p50_ms:.2f} ms, p99 "
            f"{latency.p99_ms:.2f} ms, max {latency.max_ms:.2f} ms; idle CPU "
            f"{latency.idle_cpu_percent:.2f} %; enqueue {enqueue:.0f}/s"
        )
        return values

    # -- procrastinate ----------------------------------------------------------------------

    def procrastinate_round(self) -> dict[str, float]:
        """One run of the anchor's procrastinate benchmark on a fresh database of the cluster,
        then its end to end with 4 worker processes."""
        args = self.args
        url = self.server.new_database("procrastinate")
        try:
            with tempfile.TemporaryDirectory(prefix="agents-compare-") as tmp:
                out, out_processes = Path(tmp) / "anchor.json", Path(tmp) / "processes.json"
                spec = {
                    "anchors": args.anchors,
                    "dsn": libpq_dsn(url),
                    "jobs": args.jobs,
                    "processes": PG_PROCESSES,
                    "concurrency": PG_THREADS,
                    "out_processes": str(out_processes),
                    "argv": [
                        *("--runs", "1", "--latency-runs", "1"),
                        *("--latency-n", str(args.probes), "--e2e-n", str(args.jobs)),
                        *("--enqueue-n", str(args.enqueue_n), "--duration", str(args.duration)),
                        *("--out", str(out)),
                    ],
                }
                # No bytecode written into the anchors' directory (root could write there); the
                # anchor's temp dirs go into ours, which goes away even if the driver is killed.
                env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", TMPDIR=tmp)
                env.pop("PYTHONPATH", None)
                if args.verbose:
                    env["AGENTS_BENCH_VERBOSE"] = "1"
                run_driver([args.procrastinate_python, "-c", DRIVER, json.dumps(spec)], tmp, env)
                data = json.loads(out.read_text())
                processes = json.loads(out_processes.read_text())
        finally:
            self.server.drop_database(url)
        by_name = {m["name"]: m["median"] for m in data["metrics"]}
        values = {
            key: float(by_name[name.format(n=args.jobs)]) for name, key in ANCHOR_METRICS.items()
        }
        values["p4_spawn_rate"] = float(processes["spawn_rate"])
        values["p4_steady_rate"] = float(processes["steady_rate"])
        for note in data.get("notes", []):
            if "error lines" in note:
                FAILURES.append(f"procrastinate (anchor run): {note}")
        if processes.get("error_lines"):
            FAILURES.append(f"procrastinate 4 processes: {processes['error_lines']} error lines")
        log(
            f"  procrastinate: 1 process {values['p1_spawn_rate']:.0f}/s from spawn "
            f"({values['p1_steady_rate']:.0f}/s steady); 4 processes "
            f"{values['p4_spawn_rate']:.0f}/s ({values['p4_steady_rate']:.0f}/s steady); p50 "
            f"{values['p_p50_ms']:.2f} ms, p99 {values['p_p99_ms']:.2f} ms; defer "
            f"{values['p_defer_rate']:.0f}/s; raw claim commit {values['raw_claim_commit']:.0f}/s"
        )
        return values


# -- the table ------------------------------------------------------------------------------


def table(values: dict[str, list[float]], jobs: int) -> list[tuple[str, ...]]:
    """Rows: figure, agents, procrastinate, ratio, target (medians over the rounds)."""
    peers = PeerTable(values)
    med, rows, rate, ms = peers.med, peers.rows, peers.rate, peers.ms

    n = f"{jobs:,}"
    rate(
        f"end to end, {n} no-ops, 4 worker processes x 4 threads (agents `worker run --burst "
        "--max-workers 4`; procrastinate `worker --concurrency 4`), first spawn -> last job done",
        "a4_spawn_rate",
        "p4_spawn_rate",
        "> 1x",
    )
    rate("same, first job started -> last job done", "a4_steady_rate", "p4_steady_rate")
    rate(
        "agents 4 processes vs procrastinate as its anchor runs it (1 process, concurrency 4), "
        "from spawn",
        "a4_spawn_rate",
        "p1_spawn_rate",
    )
    rate(
        f"end to end, {n} no-ops, 1 worker process x 4 threads (the anchor's setup), from spawn",
        "a1_spawn_rate",
        "p1_spawn_rate",
    )
    rate("same, first job started -> last job done", "a1_steady_rate", "p1_steady_rate")
    rate("agents 4 processes, first spawn -> last process exited", "a4_exit_rate", None)
    ms("pickup latency p50, idle worker, LISTEN/NOTIFY", "p50_ms", "p_p50_ms", "< 10 ms")
    ms("pickup latency p99, idle worker, LISTEN/NOTIFY", "p99_ms", "p_p99_ms")
    rate(
        "enqueue, one job per call and commit (procrastinate: defer)",
        "enqueue_rate",
        "p_defer_rate",
    )
    peers.ours_only("idle worker CPU, % of one core", f"{med['idle_cpu_percent']:.2f} %", "< 2 %")
    return rows


def parse_args() -> argparse.Namespace:
    """The command line (``--smoke`` shrinks everything for a quick check)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds (each side once per round)")
    parser.add_argument("--jobs", type=int, default=5000, help="no-op jobs per drain (N)")
    parser.add_argument("--probes", type=int, default=200, help="latency probes per round")
    parser.add_argument("--idle-s", type=float, default=5.0, help="idle CPU sampling window")
    parser.add_argument("--enqueue-n", type=int, default=2000, help="single enqueues timed")
    parser.add_argument(
        "--duration", type=float, default=1.0, help="seconds per raw PostgreSQL rate (anchor)"
    )
    parser.add_argument(
        "--pg-settings",
        choices=("defaults", "pgcluster"),
        default="defaults",
        help="durability defaults of PostgreSQL (default), or pgcluster's fast test settings",
    )
    parser.add_argument("--procrastinate-python", default=DEFAULT_PYTHON)
    parser.add_argument("--anchors", default=DEFAULT_ANCHORS, help="the anchors' directory")
    add_quiet_options(parser, max_wait=600.0, retries=True)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, 1 round: a quick check")
    parser.add_argument("--verbose", action="store_true", help="show the anchor's progress")
    args = parser.parse_args()
    if args.smoke:
        args.runs, args.jobs, args.probes, args.idle_s = 1, 300, 20, 0.5
        args.enqueue_n, args.duration, args.max_wait, args.retries = 200, 0.1, 0.0, 0
    return args


def main() -> None:
    """Start the cluster, run the rounds, print the table, stop the cluster."""
    args = parse_args()
    reason = unavailable()
    if reason:
        sys.exit(f"compare_procrastinate: {reason}")
    if not Path(args.procrastinate_python).exists():
        sys.exit(
            f"compare_procrastinate: {args.procrastinate_python} does not exist; create it with "
            f"python3 -m venv /tmp/procrastinate-venv && /tmp/procrastinate-venv/bin/pip install "
            f"procrastinate=={PROCRASTINATE_VERSION} 'psycopg[binary]==3.3.9' psycopg-pool==3.3.3"
        )
    # SIGTERM and SIGINT (ignored in a background job) end the run through the `finally`
    # below, which stops the cluster: its processes and directory would outlive us otherwise.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    commit = revision()
    values: dict[str, list[float]] = defaultdict(list)
    foreign: dict[str, list[float]] = defaultdict(list)
    server = PgServer(args.pg_settings).start()
    try:
        settings = server.show()
        log(f"cluster pid {server.cluster.pid} on port {server.cluster.port}: {settings}")
        warm_worker_bytecode(server.new_database("warm"))
        sitting = Sitting(args, server)
        for rnd in range(args.runs):
            log(f"round {rnd + 1}/{args.runs}")
            halves: list[tuple[str, Callable[[], dict[str, float]]]] = [
                ("agents", functools.partial(sitting.agents_round, rnd)),
                ("procrastinate", sitting.procrastinate_round),
            ]
            for side, run in halves if rnd % 2 == 0 else halves[::-1]:
                got, load = guarded(side, run, args, sitting.ours_s)
                foreign[side].append(load)
                for key, value in got.items():
                    values[key].append(value)
    finally:
        server.stop()
    rows = table(values, args.jobs)
    finished = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    worst = max(max(v) for v in foreign.values())
    raw = {k: statistics.median(values[k]) for k in ANCHOR_METRICS.values() if k in values}
    print(
        f"\nagents at {commit} vs procrastinate {PROCRASTINATE_VERSION}. Same sitting, {started} "
        f".. {finished}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; one cluster, "
        f"PostgreSQL {settings['server_version'].split()[0]} (fsync={settings['fsync']}, "
        f"synchronous_commit={settings['synchronous_commit']}, "
        f"full_page_writes={settings['full_page_writes']}), a fresh database per measurement; "
        f"{args.runs} round(s), sides alternating; medians over the rounds. Other processes "
        f"used at most {worst:.1%} of the machine during a kept half-round.\n"
    )
    print(markdown(rows, "agents", "procrastinate"))
    print(
        f"\nThe server itself (the anchor's raw psycopg figures, same sitting): SELECT 1 "
        f"{raw['raw_select1']:,.0f}/s, single-row INSERT commit {raw['raw_insert_commit']:,.0f}/s, "
        f"claim UPDATE..SKIP LOCKED commit {raw['raw_claim_commit']:,.0f}/s."
    )
    print_failures(FAILURES, "problem(s) in worker logs")
    write_run(
        args,
        commit,
        started,
        finished,
        server=settings,
        procrastinate=PROCRASTINATE_VERSION,
        values=values,
        foreign_load=foreign,
        failures=FAILURES,
        table=rows,
    )


if __name__ == "__main__":
    main()
