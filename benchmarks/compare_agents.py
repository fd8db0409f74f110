"""A plan of agent leaves that the agent rate-limits, against the ideal the limit allows.

The fake agent of the tests (``features/fixtures/fake_agent.py``) answers in ``--delay`` seconds
and with a 429 (``Retry-After: 1``) when more than ``--limit`` instances run at once. A plan of
``--leaves`` leaves (one file each) runs it with ``max_parallel = --parallel`` and enough
retries; the plan slows itself down (AIMD, ``plans/limiter.py``). Reported: the wall time of
``agents plan run`` (the real command), the ideal ``leaves * delay / limit``, their ratio, how
many 429s the agent gave, and the limiter's own cost per decision (``AdaptiveLimit``,
measured in-process over a million calls).

    python benchmarks/compare_agents.py                      # 500 leaves, 0.2 s, K = 8, 32
    python benchmarks/compare_agents.py --leaves 100 --runs 3
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

ROOT = Path(__file__).resolve().parents[1]
FAKE_AGENT = ROOT / "features" / "fixtures" / "fake_agent.py"
sys.path.insert(0, str(ROOT / "src"))

from cleveragents.plans.limiter import AdaptiveLimit  # noqa: E402


def agents(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real `agents` command of this checkout."""
    return subprocess.run(
        [sys.executable, "-m", "cleveragents", *args], env=env, capture_output=True, text=True
    )


def one_run(leaves: int, delay: float, limit: int, parallel: int) -> dict[str, float]:
    """One plan run: its wall time and the 429s the agent answered."""
    with tempfile.TemporaryDirectory(prefix="agents-bench-") as tmp:
        work = Path(tmp)
        project = work / "project"
        for n in range(leaves):
            folder = project / f"d{n:04d}"
            folder.mkdir(parents=True)
            (folder / "f.py").write_text(f"x = {n}\n", encoding="utf-8")
        action = work / "agent.toml"
        action.write_text(
            "[action]\n"
            f'command = ["{sys.executable}", "{FAKE_AGENT}", "{{files}}"]\n'
            'prompt = "APPEND: # done"\n'
            "retry_after_pattern = 'Retry-After: (\\d+)'\n"
            'isolation = "files"\n'
            "[action.decompose]\nmax_files_per_subplan = 1\nmin_files_per_subplan = 1\n",
            encoding="utf-8",
        )
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "src"),
            "HOME": str(work),
            "AGENTS_DATABASE_URL": f"sqlite:///{work / 'agents.db'}",
            "FAKE_AGENT_LIMIT": str(limit),
            "FAKE_AGENT_DIR": str(work / "running"),
            "FAKE_AGENT_DELAY": str(delay),
        }
        done = agents(env, "project", "add", str(project), "--name", "bench")
        assert done.returncode == 0, done.stderr
        started = time.perf_counter()
        done = agents(
            env, "plan", "run", "--project", "bench", "--action", str(action),
            "--max-parallel", str(parallel), "--retries", "10",
        )  # fmt: skip
        wall = time.perf_counter() - started
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        seen = (work / "concurrency.log").read_text(encoding="utf-8").split()
        rejected = sum(1 for count in seen if int(count) > limit)
        return {"wall_s": wall, "rate_limited": rejected, "instances": len(seen)}


def limiter_cost_us(calls: int = 1_000_000) -> float:
    """Microseconds per limiter decision (a start and an outcome)."""
    limiter = AdaptiveLimit(32)
    started = time.perf_counter()
    for n in range(calls // 2):
        order = limiter.started()
        if n % 50 == 0:
            limiter.rate_limited(order)
        else:
            limiter.succeeded()
    return (time.perf_counter() - started) / calls * 1e6


def main() -> None:
    """Run, print the medians and the ratio to the ideal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=500)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--limit", type=int, default=8)
    parser.add_argument("--parallel", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    ideal = args.leaves * args.delay / args.limit
    runs = [one_run(args.leaves, args.delay, args.limit, args.parallel) for _ in range(args.runs)]
    walls = [run["wall_s"] for run in runs]
    result = {
        "leaves": args.leaves,
        "delay_s": args.delay,
        "limit": args.limit,
        "max_parallel": args.parallel,
        "ideal_s": ideal,
        "wall_s": walls,
        "wall_median_s": statistics.median(walls),
        "ratio_to_ideal": statistics.median(walls) / ideal,
        "rate_limited": [run["rate_limited"] for run in runs],
        "limiter_us_per_decision": limiter_cost_us(),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
