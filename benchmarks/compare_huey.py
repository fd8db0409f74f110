"""Our end-to-end and pickup-latency figures next to huey's, measured in the same sitting.

Runs, back to back on this machine (nothing else should run meanwhile: ratios only mean
something when both sides see the same machine):

1. ours: ``--runs`` drains of 5,000 queued noops by an in-process ``AsyncWorker`` (4 threads,
   ``run(burst=True)``) and by a real ``agents worker run --burst`` process; ``--runs`` pickup
   latency runs against a real idle ``agents worker run`` at default settings (200 probes each,
   random 0-0.2 s gaps, as the anchors), with the idle worker's CPU use sampled first;
   enqueue rate of one job per call.
2. huey: the peers' anchor ``huey_bench.py --runs N`` with the anchors' virtualenv.

Each figure is the median over its runs (for latency: the median of the per-run p50 / p99,
as the anchors report it). Prints one table and, with ``--out``, writes every value as JSON.

    python benchmarks/compare_huey.py                      # from the repository root
    python benchmarks/compare_huey.py --runs 5 --huey-runs 3 --out /tmp/compare.json

Needs ``huey==3.5.4`` in ``--huey-python``'s environment::

    python3 -m venv /tmp/anchors-venv && /tmp/anchors-venv/bin/pip install huey==3.5.4
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmarks import _support

DEFAULT_ANCHORS = os.environ.get("AGENTS_BENCH_ANCHORS", "/work/shared/bench/anchors")
DEFAULT_HUEY_PYTHON = os.environ.get("AGENTS_BENCH_HUEY_PYTHON", "/tmp/anchors-venv/bin/python")

HUEY = {
    "enqueue": "huey enqueue (1 producer, SqliteHuey)",
    "e2e_spawn": "huey end-to-end 5000 no-ops, 4 threads, poll={poll} (from consumer spawn)",
    "e2e_steady": "huey end-to-end 5000 no-ops, 4 threads, poll={poll} (first start -> last done)",
    "p50": "huey pickup latency p50, poll={poll}",
    "p99": "huey pickup latency p99, poll={poll}",
}


def log(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


def ours(runs: int, probes: int, idle_s: float) -> dict[str, list[float]]:
    """Every run's value of our figures."""
    values: dict[str, list[float]] = {
        k: []
        for k in (
            "drain_rate",
            "drain_steady_rate",
            "process_drain_rate",
            "process_drain_steady_rate",
            "p50_ms",
            "p99_ms",
            "max_ms",
            "idle_cpu_percent",
            "enqueue_rate",
            "enqueue_many_rate",
        )
    }
    _support.warm_worker_bytecode()
    for run in range(runs):
        result = _support.drain()
        values["drain_rate"].append(result.rate)
        values["drain_steady_rate"].append(result.steady_rate)
        process = _support.drain_process()
        values["process_drain_rate"].append(process.rate)
        values["process_drain_steady_rate"].append(process.steady_rate)
        log(
            f"  ours drain run {run + 1}: in-process {result.rate:.0f}/s "
            f"(steady {result.steady_rate:.0f}/s); process {process.rate:.0f}/s from spawn "
            f"(steady {process.steady_rate:.0f}/s)"
        )
    for _ in range(runs):
        values["enqueue_rate"].append(_support.enqueue_one_rate())
        values["enqueue_many_rate"].append(_support.enqueue_many_rate())
    log(f"  ours enqueue: {statistics.median(values['enqueue_rate']):.0f}/s one per call")
    for run in range(runs):
        lat = _support.pickup_latency(probes=probes, idle_s=idle_s, seed=run)
        values["p50_ms"].append(lat.p50_ms)
        values["p99_ms"].append(lat.p99_ms)
        values["max_ms"].append(lat.max_ms)
        values["idle_cpu_percent"].append(lat.idle_cpu_percent)
        log(
            f"  ours latency run {run + 1}: p50 {lat.p50_ms:.2f} ms p99 {lat.p99_ms:.2f} ms "
            f"max {lat.max_ms:.2f} ms; idle CPU {lat.idle_cpu_percent:.2f} % of a core"
        )
    return values


def huey(python: str, anchors: str, runs: int) -> dict[str, Any]:
    """Run the anchors' huey benchmark; its JSON result."""
    with tempfile.TemporaryDirectory(prefix="agents-compare-") as tmp:
        out = Path(tmp) / "huey.json"
        subprocess.run(
            [python, str(Path(anchors) / "huey_bench.py"), "--runs", str(runs), "--out", str(out)],
            cwd=anchors,
            check=True,
        )
        return json.loads(out.read_text())


def huey_median(data: dict[str, Any], key: str, poll: str = "default") -> float:
    """The median of one of huey's metrics."""
    name = HUEY[key].format(poll=poll)
    for metric in data["metrics"]:
        if metric["name"] == name:
            return float(metric["median"])
    raise KeyError(name)


def table(mine: dict[str, list[float]], theirs: dict[str, Any]) -> list[tuple[str, ...]]:
    """Rows: figure, ours, huey, ratio, target."""
    med = {k: statistics.median(v) for k, v in mine.items()}
    rows: list[tuple[str, ...]] = []

    def rate(label: str, value: float, other: float, target: str) -> None:
        rows.append(
            (label, f"{value:,.0f} /s", f"{other:,.0f} /s", f"{value / other:.2f}x", target)
        )

    def ms(label: str, value: float, other: float, target: str) -> None:
        # For latency the ratio is huey / ours: above 1 means we pick up faster.
        rows.append((label, f"{value:.2f} ms", f"{other:.2f} ms", f"{other / value:.2f}x", target))

    rate(
        "end to end 5,000 noops, 4 threads (ours: worker start -> all recorded; "
        "huey: first start -> last done)",
        med["drain_rate"],
        huey_median(theirs, "e2e_steady"),
        ">= 2x",
    )
    rate(
        "end to end, both from process spawn (ours: `agents worker run --burst` to exit)",
        med["process_drain_rate"],
        huey_median(theirs, "e2e_spawn"),
        "",
    )
    rate(
        "end to end, both first start -> last done (ours: `agents worker run --burst`)",
        med["process_drain_steady_rate"],
        huey_median(theirs, "e2e_steady"),
        "",
    )
    ms(
        "pickup latency p50, idle worker, default poll",
        med["p50_ms"],
        huey_median(theirs, "p50"),
        "< 10 ms",
    )
    ms(
        "pickup latency p99, idle worker, default poll",
        med["p99_ms"],
        huey_median(theirs, "p99"),
        "< 25 ms",
    )
    ms(
        "pickup latency p50 vs huey 10 ms poll",
        med["p50_ms"],
        huey_median(theirs, "p50", "fast"),
        "",
    )
    ms(
        "pickup latency p99 vs huey 10 ms poll",
        med["p99_ms"],
        huey_median(theirs, "p99", "fast"),
        "",
    )
    rate(
        "enqueue, one job per call",
        med["enqueue_rate"],
        huey_median(theirs, "enqueue"),
        ">= 4,000/s",
    )
    rows.append(
        (
            "enqueue_many, 10,000 jobs",
            f"{med['enqueue_many_rate']:,.0f} /s",
            "-",
            "-",
            ">= 50,000/s",
        )
    )
    rows.append(
        ("idle worker CPU, % of one core", f"{med['idle_cpu_percent']:.2f} %", "-", "-", "< 2 %")
    )
    return rows


def render(rows: list[tuple[str, ...]]) -> str:
    """A Markdown table."""
    head = ("figure (medians)", "ours", "huey", "ours vs huey", "target")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, run both sides, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each of our figures")
    parser.add_argument("--huey-runs", type=int, default=3, help="huey_bench.py --runs")
    parser.add_argument("--probes", type=int, default=200, help="latency probes per run")
    parser.add_argument("--idle-s", type=float, default=5.0, help="idle CPU sampling window")
    parser.add_argument("--huey-python", default=DEFAULT_HUEY_PYTHON)
    parser.add_argument("--anchors", default=DEFAULT_ANCHORS, help="the anchors' directory")
    parser.add_argument(
        "--huey-json",
        help="use this huey_bench.py result instead of running huey (not the same sitting: "
        "for re-rendering or smoke tests only)",
    )
    parser.add_argument("--out", help="write every value here as JSON")
    args = parser.parse_args()

    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    log(f"ours: {args.runs} runs each")
    mine = ours(args.runs, args.probes, args.idle_s)
    if args.huey_json:
        log(f"huey: read from {args.huey_json} (NOT measured in this sitting)")
        theirs = json.loads(Path(args.huey_json).read_text())
    else:
        log(f"huey: {args.huey_python} huey_bench.py --runs {args.huey_runs}")
        theirs = huey(args.huey_python, args.anchors, args.huey_runs)
    rows = table(mine, theirs)
    text = render(rows)
    sitting = "NOT the same sitting (huey from --huey-json)" if args.huey_json else "Same sitting"
    print(
        f"\n{sitting}, {started} .. {time.strftime('%Y-%m-%dT%H:%M:%S%z')}, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
        f"ours: median of {args.runs} runs; huey {theirs['versions'].get('huey')}: median of "
        f"{args.huey_runs} runs (latency: of its latency runs).\n"
    )
    print(text)
    if args.out:
        Path(args.out).write_text(
            json.dumps({"ours": mine, "huey": theirs, "table": rows}, indent=2) + "\n"
        )
        log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
