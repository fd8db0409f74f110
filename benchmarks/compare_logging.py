"""What keeping every leaf's output costs: this checkout against the last commit before it.

Two revisions of ``agents`` are measured in the same sitting, each from its own ``src/`` through
``PYTHONPATH``: this checkout ("HEAD", its ``src/``) and a checkout of the commit before output
was kept per attempt ("pre-logs", ``--prelogs``, by default a worktree of ``626c958`` in
``/tmp/prelogs``, made with ``git worktree add --detach`` when it is missing).

1. The 1,000-leaf plan of ``benchmarks/plans.py`` (1,000 one-file leaves each running ``true``,
   ``max_parallel = 8``, ``isolation = "in-place"`` as there; ``--isolation sandbox`` for a
   workspace per leaf), executed by ``PlanExecutor.execute`` on a fresh copy of a stored plan
   and timed from ``execute()`` to its return, as ``benchmarks/_plans.run_plan`` does. Each
   revision runs in a process of its own that imports it, builds its fixture with its own code
   (their schemas differ), executes it once untimed (warm-up) and then, on request, once more per
   run. The runs alternate A/B/A/B (``--runs`` of each, default 5). Printed: the medians,
   HEAD / pre-logs of the medians and the median of the pairs' own ratios. The issue's goal:
   HEAD within 5% of pre-logs (nothing is asserted).
2. One leaf whose command prints 100 MB (``--big-bytes``) of 100-byte lines (a Python child,
   ``benchmarks/logs.WRITER``, 1 MB per write) run by ``agents plan run --no-async`` as a new
   process, timed from its start to its exit: wall time and MB/s; beside it the same command run
   directly with its output to a file in TMPDIR (what the disk allows), ``agents plan run`` of one
   leaf running ``true`` (what the CLI, the plan's creation and a run cost whatever the output),
   and the peak RSS (``VmHWM``, read by the ``agents`` process itself when it exits) of each
   ``agents`` process. HEAD and pre-logs both; the order rotates every round (``--big-runs``,
   default 3). After each HEAD run the stored output is checked (4 MiB kept, the cut marker).

    python benchmarks/compare_logging.py                       # from the repository root
    python benchmarks/compare_logging.py --runs 7 --out /tmp/logging.json
    python benchmarks/compare_logging.py --isolation sandbox --big-runs 0

Before each measurement the script waits (up to ``--max-wait`` s) for the machine to be quiet;
one during which other processes used more than ``--max-foreign`` of it is run again (up to
``--retries`` times), and the worst share is printed. Prints a Markdown table of the medians;
``--out`` writes every value as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmarks._machine import add_quiet_options, guarded, log, own_s, write_json

BENCH_DIR = Path(__file__).resolve().parent
HEAD_SRC = BENCH_DIR.parent / "src"

PRELOGS_REV = "626c958"
DEFAULT_PRELOGS = Path("/tmp/prelogs")
GOAL = 1.05  # HEAD / pre-logs, at most (the "within 5%")
ISOLATIONS = ("in-place", "sandbox", "files")
CLI_TIMEOUT_S = 600.0

# The `agents` process of part 2: the console script's entry point, run by this interpreter,
# which writes its own peak RSS (VmHWM) to the file named by its first argument as it exits.
# (Not ru_maxrss from wait4: on Linux that keeps the size the process had before exec, and a
# child spawned with vfork starts out as its parent's address space.)
AGENTS_WRAPPER = """\
import atexit, sys
def _hwm(path=sys.argv[1]):
    with open('/proc/self/status') as status:
        kb = next(int(l.split()[1]) for l in status if l.startswith('VmHWM:'))
    with open(path, 'w') as out:
        out.write(str(kb * 1024))
atexit.register(_hwm)
sys.argv = ['agents', *sys.argv[2:]]
from cleveragents.cli.app import main
main()
"""


# -- the revisions --------------------------------------------------------------------------


@dataclass
class Side:
    """One revision of ``agents``: its ``src/`` directory, put first on the path."""

    name: str
    src: Path
    revision: str = ""

    def env(self, pycache: Path) -> dict[str, str]:
        """The environment of its processes: default settings (no AGENTS_*, a config file that
        does not exist), its ``src/`` first on the path, a bytecode cache in TMPDIR."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTS_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPATH"] = os.pathsep.join([str(self.src), str(BENCH_DIR)])
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
        env["AGENTS_CONFIG"] = str(pycache / "no-config.toml")
        return env


def git_revision(root: Path) -> str:
    """The checkout's commit, ``-dirty`` when its src/ has uncommitted changes."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "src"], cwd=root, capture_output=True, text=True
    ).stdout.strip()
    return (head or "?") + ("-dirty" if dirty else "")


def ensure_prelogs(path: Path, rev: str) -> Path:
    """A checkout of ``rev`` at ``path``: a detached worktree of this repository if missing."""
    if not (path / "src" / "cleveragents").is_dir():
        log(f"making a worktree of {rev} at {path}")
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(path), rev],
            cwd=BENCH_DIR.parent,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return path


# -- part 1: the 1,000-leaf plan, one server process per revision ---------------------------


def _serve(directory: str, isolation: str) -> None:
    """The server process of one revision (``--serve``): builds its fixture, runs it once
    untimed, then executes a fresh copy per line read from stdin and answers with the seconds."""
    import cleveragents
    from benchmarks import _plans

    said: list[str] = []  # the runner says which workspaces it makes (sandbox, files)

    class Said(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            said.append(record.getMessage())

    runner_log = logging.getLogger("cleveragents.plans.runner")
    runner_log.addHandler(Said(logging.INFO))
    runner_log.setLevel(logging.INFO)
    runner_log.propagate = False
    fixture_dir = Path(directory) / "external"
    write_action = _plans.write_leaf_action
    if isolation != "in-place":  # the fixture of benchmarks/plans.py, but this isolation

        def write_isolated(path: Path, **kwargs: Any) -> Path:
            written = write_action(path, **kwargs)
            text = written.read_text(encoding="utf-8")
            written.write_text(
                text.replace('isolation = "in-place"', f'isolation = "{isolation}"'),
                encoding="utf-8",
            )
            return written

        _plans.write_leaf_action = write_isolated
    try:
        fixture = _plans.build_plan(
            fixture_dir,
            _plans.PLAN_LEAVES,
            max_parallel=_plans.EXTERNAL_PARALLEL,
            command=list(_plans.TRUE_ARGV),
        )
    finally:
        _plans.write_leaf_action = write_action
    action = (fixture_dir / "leaf.toml").read_text(encoding="utf-8")
    warm = _plans.run_plan(fixture)  # imports, caches, the page cache
    workspaces = next((m.split("workspaces: ", 1)[1] for m in said if "workspaces: " in m), "")
    reply = {
        "module": cleveragents.__file__,
        "action": action,
        "warmup_s": warm.seconds,
        "workspaces": workspaces,
    }
    print(json.dumps(reply), flush=True)
    for request in sys.stdin:
        if request.strip() != "run":
            break
        run = _plans.run_plan(fixture)
        print(json.dumps({"seconds": run.seconds, "peak_running": run.peak_running}), flush=True)


class Server:
    """A running ``--serve`` process of one revision."""

    def __init__(self, side: Side, directory: Path, isolation: str, pycache: Path) -> None:
        self.side = side
        directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(directory), isolation],
            env=side.env(pycache),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = self._read()
        module = Path(self.ready["module"]).resolve()
        if not module.is_relative_to(side.src.resolve()):
            raise RuntimeError(f"{side.name} imported {module}, not from {side.src}")
        self.process = psutil.Process(self.proc.pid)

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"the {self.side.name} server exited {self.proc.wait()}")
        result: dict[str, Any] = json.loads(answer)
        return result

    def run(self) -> dict[str, Any]:
        """One execution of a fresh copy of its plan; also the CPU seconds the request took
        (the server's and its commands', the fresh copy of the fixture included)."""
        assert self.proc.stdin is not None
        cpu = self.cpu_s()
        self.proc.stdin.write("run\n")
        self.proc.stdin.flush()
        result = self._read()
        result["cpu_s"] = self.cpu_s() - cpu
        return result

    def cpu_s(self) -> float:
        """CPU seconds of the server, of the commands it waited for, and of its live children
        (a sandbox's spawner helpers)."""
        t = self.process.cpu_times()
        total = t.user + t.system + t.children_user + t.children_system
        for child in self.process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                c = child.cpu_times()
                total += c.user + c.system
        return float(total)

    def close(self) -> None:
        """Stop it."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(60)


def compare_plans(
    args: argparse.Namespace, sides: list[Side], tmp: Path, pycache: Path
) -> dict[str, Any]:
    """Part 1: A/B/A/B executions of the 1,000-leaf plan; every value."""
    log(f"part 1: building the 1,000-leaf fixtures (isolation {args.isolation})")
    servers = [Server(s, tmp / f"plan-{s.name}", args.isolation, pycache) for s in sides]
    values: dict[str, list[float]] = defaultdict(list)
    foreign: list[float] = []

    def ours() -> float:
        return own_s() + sum(server.cpu_s() for server in servers)

    try:
        for server in servers:
            where = server.ready["workspaces"] or "the project itself"
            warm = server.ready["warmup_s"]
            log(f"  {server.side.name}: warm-up run {warm:.3f} s; leaves run in {where}")
        for rnd in range(args.runs):
            for server in servers:  # A, B, A, B, ...
                result, load = guarded(server.side.name, server.run, args, ours)
                values[server.side.name].append(result["seconds"])
                values[f"{server.side.name}_cpu"].append(result["cpu_s"])
                foreign.append(load)
            a, b = (values[s.name][-1] for s in sides)
            log(
                f"  pair {rnd + 1}/{args.runs}: {sides[0].name} {a:.3f} s, "
                f"{sides[1].name} {b:.3f} s, ratio {a / b:.3f}"
            )
        action = servers[0].ready["action"]
        workspaces = {server.side.name: server.ready["workspaces"] for server in servers}
    finally:
        for server in servers:
            server.close()
    return {"values": dict(values), "foreign": foreign, "action": action, "workspaces": workspaces}


# -- part 2: one leaf printing 100 MB through `agents plan run` -----------------------------


def writer_argv(total: int) -> list[str]:
    """The printer of ``benchmarks/logs.py``: a Python child writing ``total`` bytes of 100-byte
    lines to its stdout. (Imports this checkout's ``cleveragents`` into this process, which
    measures nothing of its own.)"""
    from benchmarks.logs import writer_argv as printer

    return printer(total)


def write_action(path: Path, argv: list[str], description: str) -> Path:
    """An in-place action running ``argv`` on the project's one file (one leaf)."""
    path.write_text(
        f'[action]\ndescription = "{description}"\ncommand = {json.dumps(argv)}\n'
        'isolation = "in-place"\n',
        encoding="utf-8",
    )
    return path


@dataclass
class CliSide:
    """The fixture of part 2 for one revision: a database with the project registered."""

    side: Side
    directory: Path
    template: Path  # the database with the project, copied before each run
    env: dict[str, str] = field(default_factory=dict)

    def agents(self, *args: str, db: Path, hwm: Path | None = None) -> tuple[float, str]:
        """Run ``agents ARGS`` on ``db``; its wall seconds and stdout (raises on failure)."""
        env = {**self.env, "AGENTS_DATABASE_URL": f"sqlite:///{db}"}
        argv = [sys.executable, "-c", AGENTS_WRAPPER, str(hwm or os.devnull), *args]
        started = time.perf_counter()
        done = subprocess.run(
            argv,
            env=env,
            cwd=self.directory,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            check=False,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(
                f"{self.side.name}: agents {' '.join(args[:2])} exited {done.returncode}: "
                f"{done.stderr[-2000:]}"
            )
        return seconds, done.stdout

    def plan_run(self, action: Path) -> dict[str, Any]:
        """``agents plan run`` of ``action`` on a fresh copy of the template database."""
        db = self.directory / "run.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.template, db)
        hwm = self.directory / "hwm"
        hwm.unlink(missing_ok=True)
        seconds, out = self.agents(
            "plan", "run", "-p", "big", "-a", str(action), "--no-async", db=db, hwm=hwm
        )
        plan_id = out.split()[1] if out.startswith("plan ") else ""
        return {"seconds": seconds, "rss": int(hwm.read_text()), "db": db, "plan_id": plan_id}


def make_cli_side(side: Side, directory: Path, pycache: Path) -> CliSide:
    """A project of one file registered in a template database, by the revision's own CLI."""
    project = directory / "project"
    project.mkdir(parents=True)
    (project / "only.txt").write_text("one file, one leaf\n", encoding="utf-8")
    cli = CliSide(side, directory, directory / "template.db", side.env(pycache))
    cli.agents("project", "add", str(project), "--name", "big", db=cli.template)
    return cli


def check_stored(db: Path, plan_id: str, total: int, logs: bool) -> dict[str, Any]:
    """The plan ran one leaf, which completed; at HEAD (``logs``), what was kept of its output
    (read with the stdlib's sqlite3, which does not migrate the pre-logs schema)."""
    conn = sqlite3.connect(db)
    try:
        leaves = conn.execute(
            "SELECT state, COUNT(*) FROM subplans WHERE plan_id = ? AND is_leaf GROUP BY state",
            (plan_id,),
        ).fetchall()
        if leaves != [("completed", 1)]:
            raise RuntimeError(f"plan {plan_id}: leaves {leaves}, not one completed")
        if not logs:
            return {}
        rows = conn.execute(
            "SELECT data FROM subplan_logs WHERE plan_id = ? ORDER BY id", (plan_id,)
        ).fetchall()
    finally:
        conn.close()
    texts = [zlib.decompress(row[0]).decode("utf-8", "surrogateescape") for row in rows]
    marker = texts[-1].strip() if texts else ""
    kept = sum(len(t.encode("utf-8", "surrogateescape")) for t in texts[:-1])
    stored = sum(len(row[0]) for row in rows)
    if "output cut at" not in marker or str(total - kept) not in marker:
        raise RuntimeError(f"plan {plan_id}: kept {kept} bytes, marker {marker!r}")
    return {"chunks": len(rows), "kept_bytes": kept, "stored_bytes": stored, "marker": marker}


def direct_seconds(argv: list[str]) -> float:
    """The printer run directly, its output to a file in TMPDIR (removed afterwards)."""
    with tempfile.TemporaryFile(prefix="agents-compare-direct-") as output:
        started = time.perf_counter()
        subprocess.run(argv, stdout=output, check=True)
        return time.perf_counter() - started


def compare_big_output(
    args: argparse.Namespace, sides: list[Side], tmp: Path, pycache: Path
) -> dict[str, Any]:
    """Part 2: the 100 MB leaf through `agents plan run` (both revisions), the command alone,
    and a `true` leaf; every value."""
    printer = writer_argv(args.big_bytes)
    log(f"part 2: one leaf printing {args.big_bytes:,} bytes, {args.big_runs} rounds")
    clis = {s.name: make_cli_side(s, tmp / f"cli-{s.name}", pycache) for s in sides}
    big_action = write_action(tmp / "print-big.toml", printer, f"prints {args.big_bytes} bytes")
    true_action = write_action(tmp / "true.toml", ["true"], "prints nothing")
    head = sides[0].name
    steps: list[tuple[str, Callable[[], dict[str, Any]]]] = []
    for name, cli in clis.items():
        steps.append((f"{name}_big", functools.partial(cli.plan_run, big_action)))
        steps.append((f"{name}_true", functools.partial(cli.plan_run, true_action)))
    steps.append(("direct", lambda: {"seconds": direct_seconds(printer)}))
    for _key, step in steps:  # warm-up: the bytecode caches, the page cache
        step()
    values: dict[str, list[float]] = defaultdict(list)
    stored: list[dict[str, Any]] = []
    foreign: list[float] = []
    for rnd in range(args.big_runs):
        shift = rnd % len(steps)
        texts = []
        for key, step in steps[shift:] + steps[:shift]:
            result, load = guarded(key, step, args)
            foreign.append(load)
            values[f"{key}_s"].append(result["seconds"])
            if "rss" in result:
                values[f"{key}_rss"].append(result["rss"])
            if key == f"{head}_big":
                stored.append(check_stored(result["db"], result["plan_id"], args.big_bytes, True))
            elif key.endswith("_big"):
                check_stored(result["db"], result["plan_id"], args.big_bytes, False)
            texts.append(f"{key} {result['seconds']:.3f} s")
        log(f"  round {rnd + 1}/{args.big_runs}: " + ", ".join(texts))
    return {"values": dict(values), "stored": stored, "foreign": foreign}


# -- the report -----------------------------------------------------------------------------


def mib(count: float) -> str:
    """Bytes as MiB."""
    return f"{count / (1 << 20):.1f} MiB"


def plan_rows(part: dict[str, Any], sides: list[Side], isolation: str) -> list[tuple[str, str]]:
    """The rows of part 1."""
    a, b = (part["values"][s.name] for s in sides)
    ma, mb = statistics.median(a), statistics.median(b)
    pairs = statistics.median(x / y for x, y in zip(a, b, strict=True))
    where = part["workspaces"][sides[0].name]
    what = f"1,000 leaves running `true`, max_parallel 8, isolation {isolation}" + (
        f" ({where})" if where else ""
    )
    return [
        (f"{sides[0].name}: {what} (median of {len(a)})", f"{ma:.3f} s"),
        (f"{sides[1].name}: the same (median of {len(b)})", f"{mb:.3f} s"),
        (f"{sides[0].name} / {sides[1].name}, of the medians (goal <= {GOAL:g})", f"{ma / mb:.3f}"),
        ("median of the pairs' own ratios", f"{pairs:.3f}"),
        ("fastest / slowest run, " + sides[0].name, f"{min(a):.3f} / {max(a):.3f} s"),
        ("fastest / slowest run, " + sides[1].name, f"{min(b):.3f} / {max(b):.3f} s"),
        (
            "CPU per run (the process and its `true`s), "
            f"{sides[0].name} / {sides[1].name}, medians",
            f"{statistics.median(part['values'][sides[0].name + '_cpu']):.3f} / "
            f"{statistics.median(part['values'][sides[1].name + '_cpu']):.3f} s",
        ),
    ]


def big_rows(part: dict[str, Any], sides: list[Side], total: int) -> list[tuple[str, str]]:
    """The rows of part 2."""
    v = {key: float(statistics.median(vals)) for key, vals in part["values"].items()}
    mb = total / 1e6
    head, pre = sides[0].name, sides[1].name

    def extra(name: str) -> float:  # what the output adds to a run (medians; may be noise)
        return v[f"{name}_big_s"] - v[f"{name}_true_s"]

    rows = [
        (
            f"{head}: `agents plan run`, one leaf printing {mb:g} MB (process start -> exit)",
            f"{v[f'{head}_big_s']:.3f} s = {mb / v[f'{head}_big_s']:.0f} MB/s",
        ),
        (
            f"the command alone, its output to a file in TMPDIR ({tempfile.gettempdir()})",
            f"{v['direct_s']:.3f} s = {mb / v['direct_s']:.0f} MB/s",
        ),
        (
            f"{head}: `agents plan run`, one leaf running `true`",
            f"{v[f'{head}_true_s']:.3f} s",
        ),
        (
            f"{head}: {mb:g} MB leaf minus `true` leaf (vs the command alone)",
            f"{extra(head):.3f} s = {mb / extra(head):.0f} MB/s (vs {v['direct_s']:.3f} s)",
        ),
        (f"{head}: peak RSS of `agents`, {mb:g} MB leaf", mib(v[f"{head}_big_rss"])),
        (f"{head}: peak RSS of `agents`, `true` leaf", mib(v[f"{head}_true_rss"])),
        (
            f"{pre}: `agents plan run`, the same {mb:g} MB leaf",
            f"{v[f'{pre}_big_s']:.3f} s = {mb / v[f'{pre}_big_s']:.0f} MB/s",
        ),
        (f"{pre}: `agents plan run`, `true` leaf", f"{v[f'{pre}_true_s']:.3f} s"),
        (
            f"{pre}: {mb:g} MB leaf minus `true` leaf",
            f"{extra(pre):.3f} s = {mb / extra(pre):.0f} MB/s",
        ),
        (f"{pre}: peak RSS of `agents`, {mb:g} MB leaf", mib(v[f"{pre}_big_rss"])),
        (f"{pre}: peak RSS of `agents`, `true` leaf", mib(v[f"{pre}_true_rss"])),
    ]
    if part["stored"]:
        last = part["stored"][-1]
        rows.append(
            (
                f"{head}: output kept in subplan_logs",
                f"{last['kept_bytes']:,} bytes in {last['chunks']} chunks "
                f"({last['stored_bytes']:,} compressed), then: {last['marker']}",
            )
        )
    return rows


def render(rows: list[tuple[str, str]]) -> str:
    """A Markdown table."""
    lines = ["| figure | value |", "|---|---:|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, start both revisions, run both parts, print the table."""
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        _serve(sys.argv[2], sys.argv[3])  # its revision's src/ first on PYTHONPATH
        return
    sys.path.insert(1, str(HEAD_SRC))  # this checkout's (writer_argv), whatever is installed
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each revision, part 1")
    parser.add_argument("--big-runs", type=int, default=3, help="rounds of part 2 (0: skip)")
    parser.add_argument("--big-bytes", type=int, default=100_000_000, help="part 2's output")
    parser.add_argument("--isolation", choices=ISOLATIONS, default="in-place")
    parser.add_argument("--prelogs", type=Path, default=DEFAULT_PRELOGS, help="its checkout")
    parser.add_argument("--prelogs-rev", default=PRELOGS_REV, help="made there when missing")
    add_quiet_options(parser, max_wait=120.0, retries=True)
    args = parser.parse_args()

    head_root = HEAD_SRC.parent
    prelogs = ensure_prelogs(args.prelogs, args.prelogs_rev)
    sides = [
        Side("HEAD", HEAD_SRC, git_revision(head_root)),
        Side("pre-logs", prelogs / "src", git_revision(prelogs)),
    ]
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    with tempfile.TemporaryDirectory(prefix="agents-compare-logging-") as name:
        tmp = Path(name)
        pycache = tmp / "pycache"
        pycache.mkdir()
        plans = compare_plans(args, sides, tmp, pycache) if args.runs else None
        big = compare_big_output(args, sides, tmp, pycache) if args.big_runs else None
    finished = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    rows: list[tuple[str, str]] = []
    foreign: list[float] = []
    if plans is not None:
        rows += plan_rows(plans, sides, args.isolation)
        foreign += plans["foreign"]
    if big is not None:
        rows += big_rows(big, sides, args.big_bytes)
        foreign += big["foreign"]
    print(
        f"\nSame sitting, {started} .. {finished}, {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}; HEAD = {sides[0].revision} ({sides[0].src}), pre-logs = "
        f"{sides[1].revision} ({sides[1].src}). Other processes used at most "
        f"{max(foreign, default=0.0):.1%} of the machine during a measurement.\n"
    )
    print(render(rows))
    write_json(
        args.out,
        {
            "started": started,
            "finished": finished,
            "args": {k: str(v) for k, v in vars(args).items()},
            "sides": [s.__dict__ | {"src": str(s.src)} for s in sides],
            "plans": plans,
            "big_output": big,
            "table": rows,
        },
    )


if __name__ == "__main__":
    main()
