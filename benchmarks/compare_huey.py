"""Our end-to-end and pickup-latency figures next to huey's, measured in the same sitting.

Rounds alternate between the two sides, so that drift and other load hit both alike:

- ours, one round: a drain of 5,000 queued noops by an in-process ``AsyncWorker`` (4 threads,
  ``run(burst=True)``, timed from the worker's start until every outcome is recorded) and by a
  real ``agents worker run --burst`` process (timed from the spawn); one pickup-latency run
  against a real idle ``agents worker run`` at default settings (the idle worker's CPU use is
  sampled first, then 200 probes, each after a random 0-0.2 s gap, as the anchors do); the
  enqueue rates (2,000 x ``JobQueue.enqueue``; one ``enqueue_many`` of 10,000).
- huey, one round: the peers' anchor ``huey_bench.py --runs 1 --latency-runs 1`` (enqueue,
  end to end 5,000 no-ops with ``-w 4 -k thread`` under both poll settings, latency under both),
  with the anchors' virtualenv.

Before each half-round the script waits (up to ``--max-wait`` s) for the machine to be idle;
during it, it measures the CPU time that processes other than this script and its children
used. A half-round during which others used more than ``--max-foreign`` of the machine is
thrown away and run again (up to ``--retries`` times); what was kept is in the JSON.

Each figure is the median over the rounds (for latency: of the per-round p50 / p99, as the
anchors report it). Prints one Markdown table; ``--out`` writes every value as JSON.

    python benchmarks/compare_huey.py                      # from the repository root
    python benchmarks/compare_huey.py --runs 5 --out /tmp/compare.json
    python benchmarks/compare_huey.py --runs 1 --probes 20 # smoke test, numbers not for quoting

To measure a fixed snapshot while the checkout changes
(``git archive HEAD | tar -x -C /tmp/snap``)::

    PYTHONPATH=/tmp/snap/src AGENTS_BENCH_REVISION=$(git rev-parse --short HEAD) \
        python benchmarks/compare_huey.py

Needs ``huey==3.5.4`` in ``--huey-python``'s environment::

    python3 -m venv /tmp/anchors-venv && /tmp/anchors-venv/bin/pip install huey==3.5.4
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmarks._db import enqueue_many_rate, enqueue_one_rate
from benchmarks._drain import drain, drain_process
from benchmarks._latency import pickup_latency
from benchmarks._machine import add_quiet_options, guarded, log, write_run
from benchmarks._peers import PeerTable, markdown, print_failures, revision
from benchmarks._processes import warm_worker_bytecode

DEFAULT_ANCHORS = os.environ.get("AGENTS_BENCH_ANCHORS", "/work/shared/bench/anchors")
DEFAULT_HUEY_PYTHON = os.environ.get("AGENTS_BENCH_HUEY_PYTHON", "/tmp/anchors-venv/bin/python")

HUEY = {
    "huey_enqueue_rate": "huey enqueue (1 producer, SqliteHuey)",
    "huey_drain_spawn_rate": (
        "huey end-to-end 5000 no-ops, 4 threads, poll={poll} (from consumer spawn)"
    ),
    "huey_drain_steady_rate": (
        "huey end-to-end 5000 no-ops, 4 threads, poll={poll} (first start -> last done)"
    ),
    "huey_p50_ms": "huey pickup latency p50, poll={poll}",
    "huey_p99_ms": "huey pickup latency p99, poll={poll}",
}
POLLS = ("default", "fast")
FAILURES: list[str] = []  # worker processes that did not stop cleanly (reported at the end)


# -- one round of each side -----------------------------------------------------------------


def ours_round(probes: int, idle_s: float, seed: int) -> dict[str, float]:
    """One value of each of our figures."""
    drained = drain()
    process = drain_process()
    latency = pickup_latency(probes=probes, idle_s=idle_s, seed=seed, strict=False)
    if latency.worker_failure:
        log(f"  !! {latency.worker_failure}")
        FAILURES.append(latency.worker_failure)
    values = {
        "drain_rate": drained.rate,
        "drain_steady_rate": drained.steady_rate,
        "process_drain_rate": process.rate,
        "process_drain_steady_rate": process.steady_rate,
        "p50_ms": latency.p50_ms,
        "p99_ms": latency.p99_ms,
        "max_ms": latency.max_ms,
        "idle_cpu_percent": latency.idle_cpu_percent,
        "enqueue_rate": enqueue_one_rate(),
        "enqueue_many_rate": enqueue_many_rate(),
    }
    log(
        f"  ours: drain {drained.rate:.0f}/s in-process, {process.rate:.0f}/s process from "
        f"spawn ({process.steady_rate:.0f}/s steady); p50 {latency.p50_ms:.2f} ms, "
        f"p99 {latency.p99_ms:.2f} ms, max {latency.max_ms:.2f} ms; idle CPU "
        f"{latency.idle_cpu_percent:.2f} %; enqueue {values['enqueue_rate']:.0f}/s, "
        f"enqueue_many {values['enqueue_many_rate']:.0f}/s"
    )
    return values


def huey_round(args: argparse.Namespace) -> dict[str, float]:
    """One run of the anchors' huey benchmark; one value of each of its figures."""
    with tempfile.TemporaryDirectory(prefix="agents-compare-") as tmp:
        out = Path(tmp) / "huey.json"
        subprocess.run(
            [
                args.huey_python,
                str(Path(args.anchors) / "huey_bench.py"),
                *("--runs", "1", "--latency-runs", "1", "--latency-n", str(args.probes)),
                *("--out", str(out)),
            ],
            cwd=args.anchors,
            check=True,
            stderr=subprocess.DEVNULL,
        )
        data = json.loads(out.read_text())
    by_name = {m["name"]: m["median"] for m in data["metrics"]}
    values: dict[str, float] = {}
    for key, name in HUEY.items():
        if "{poll}" not in name:
            values[key] = float(by_name[name])
            continue
        for poll in POLLS:
            values[f"{key}:{poll}"] = float(by_name[name.format(poll=poll)])
    log(
        f"  huey: drain {values['huey_drain_steady_rate:default']:.0f}/s steady (default poll), "
        f"{values['huey_drain_steady_rate:fast']:.0f}/s (fast); p50 "
        f"{values['huey_p50_ms:default']:.2f} / p99 {values['huey_p99_ms:default']:.2f} ms "
        f"(default), {values['huey_p50_ms:fast']:.2f} / {values['huey_p99_ms:fast']:.2f} ms "
        f"(fast); enqueue {values['huey_enqueue_rate']:.0f}/s"
    )
    return values


# -- the table ------------------------------------------------------------------------------


def table(values: dict[str, list[float]]) -> list[tuple[str, ...]]:
    """Rows: figure, ours, huey, ratio, target (medians over the rounds)."""
    peers = PeerTable(values)
    med, rows, rate, ms = peers.med, peers.rows, peers.rate, peers.ms
    rate(
        "end to end, 5,000 noops, 4 threads: ours in-process worker start -> all recorded; "
        "huey first start -> last done, default poll",
        "drain_rate",
        "huey_drain_steady_rate:default",
        ">= 2x huey",
    )
    rate(
        "end to end, first start -> last done, both real worker processes (default poll)",
        "process_drain_steady_rate",
        "huey_drain_steady_rate:default",
    )
    rate(
        "end to end, from process spawn (ours: `agents worker run --burst` to its exit)",
        "process_drain_rate",
        "huey_drain_spawn_rate:default",
    )
    rate(
        "end to end, ours in-process vs huey with 10 ms polling (first start -> last done)",
        "drain_rate",
        "huey_drain_steady_rate:fast",
    )
    ms("pickup latency p50, idle worker, default poll", "p50_ms", "huey_p50_ms:default", "< 10 ms")
    ms("pickup latency p99, idle worker, default poll", "p99_ms", "huey_p99_ms:default", "< 25 ms")
    ms("pickup latency p50, vs huey with 10 ms polling", "p50_ms", "huey_p50_ms:fast")
    ms("pickup latency p99, vs huey with 10 ms polling", "p99_ms", "huey_p99_ms:fast")
    rate("enqueue, one job per call", "enqueue_rate", "huey_enqueue_rate", ">= 4,000 /s")
    rate("enqueue_many, 10,000 jobs (built beforehand)", "enqueue_many_rate", None, ">= 50,000 /s")
    peers.ours_only("idle worker CPU, % of one core", f"{med['idle_cpu_percent']:.2f} %", "< 2 %")
    return rows


def render(rows: list[tuple[str, ...]]) -> str:
    """A Markdown table."""
    return markdown(rows, "ours", "huey")


def main() -> None:
    """Parse arguments, run the rounds, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds (each side once per round)")
    parser.add_argument("--probes", type=int, default=200, help="latency probes per round")
    parser.add_argument("--idle-s", type=float, default=5.0, help="idle CPU sampling window")
    parser.add_argument("--huey-python", default=DEFAULT_HUEY_PYTHON)
    parser.add_argument("--anchors", default=DEFAULT_ANCHORS, help="the anchors' directory")
    add_quiet_options(parser, max_wait=600.0, retries=True)
    args = parser.parse_args()

    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    commit = revision()
    values: dict[str, list[float]] = defaultdict(list)
    foreign: dict[str, list[float]] = defaultdict(list)
    warm_worker_bytecode()
    for rnd in range(args.runs):
        log(f"round {rnd + 1}/{args.runs}")
        mine, load = guarded("ours", lambda r=rnd: ours_round(args.probes, args.idle_s, r), args)
        foreign["ours"].append(load)
        theirs, load = guarded("huey", lambda: huey_round(args), args)
        foreign["huey"].append(load)
        for key, value in {**mine, **theirs}.items():
            values[key].append(value)
    rows = table(values)
    finished = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    worst = max(max(foreign["ours"]), max(foreign["huey"]))
    print(
        f"\nagents at {commit}. Same sitting, {started} .. {finished}, {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}; {args.runs} rounds, ours and huey 3.5.4 alternating; "
        f"medians over the rounds. Other processes used at most {worst:.1%} of the machine "
        f"during a kept half-round.\n"
    )
    print(render(rows))
    print_failures(FAILURES, "latency worker(s) did not stop cleanly on SIGTERM")
    write_run(
        args,
        commit,
        started,
        finished,
        values=values,
        foreign_load=foreign,
        worker_failures=FAILURES,
        table=rows,
    )


if __name__ == "__main__":
    main()
