"""`agents plan run --apply` of a ``ruff format {files}`` action against GNU parallel running the
same ruff over the same batches of files, measured in the same sitting.

The fixture is a generated project of ``--files`` unformatted Python modules (default 3,000) in
directories of ``--per-dir`` (default 50), with a ``.gitignore`` that ignores ``.ruff_cache/``
as a real project's does. Each round runs, one after the other (the order alternates every
round, so drift and other load hit both sides alike):

- agents: ``agents plan run --project P --action ruff-format.toml --apply --max-parallel J``, a
  new process timed from its start to its exit. The action (``command = [RUFF, "format",
  "{files}"]``, ``include = ["**/*.py"]``) is decomposed the default way (one leaf per directory
  of at most 50 files), each leaf runs in its sandbox (the default isolation), and the plan is
  applied to the project at the end;
- GNU parallel: ``parallel --will-cite --xargs -j J -n B -0 -a LIST RUFF format`` in the other
  copy of the project, where B is the size of the agents plan's leaves, so each ruff process
  gets the files of one leaf (``--xargs`` is ``-X`` without spreading the last arguments over
  the idle job slots); where GNU parallel is not installed (Debian package ``parallel``), or
  with ``--xargs``, ``xargs -0 -P J -n B -a LIST RUFF format`` instead. The output says which.

J is ``--jobs`` (default: the number of CPUs) for both. Before each side its copy of the project
is reset to the generated files (outside the timing): every run formats every file, with no ruff
cache. After each round both copies must hold the same files, caches aside, or the script stops.
Before each round the script waits (up to ``--max-wait`` s) for the machine to be idle; during
it, it measures the CPU time processes other than this one and its children used, and prints
the worst share. Prints the medians over the rounds (``--runs``, default 3) and their ratio;
``--out`` writes every value as JSON.

    python benchmarks/compare_parallel_ruff.py                  # from the repository root
    python benchmarks/compare_parallel_ruff.py --files 500 --runs 1   # a smoke test
    PYTHONPATH=src python benchmarks/compare_parallel_ruff.py --out /tmp/ruff-parallel.json

Runs ``agents`` as ``python -m cleveragents`` with this script's Python (set PYTHONPATH to
measure a checkout), and the ruff next to it (``pip install ruff``), else the one on PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmarks._machine import add_quiet_options, log, measured, wait_quiet, write_json

SKIPPED = frozenset({".ruff_cache", "__pycache__", ".agents"})

# One module, deliberately unformatted: ruff format rewrites every file.
MODULE = """\
import os, sys
from collections import OrderedDict,defaultdict
LABEL='module {d}/{f}'
SETTINGS = {{'name':'mod{f}',"retries":{f},'timeout':{f}.5,"tags":["a",'b',"c"],'extra':{{"depth":{d}}}}}
class Record{f}(object):
    def __init__(self,name,values=None):
        self.name=name;self.values=values or []
    def describe(self):
        return "record %s holds %d values" % (self.name,len(self.values))
def combine_{f}(first_value,second_value,third_value,fourth_value,fifth_value,sixth_value,seventh):
    return first_value+second_value+third_value+fourth_value+fifth_value+sixth_value+seventh
def tally_{f}(records,prefix='summary',separator=", "):
    counts=defaultdict(int)
    for record in records :
        if record.name.startswith(prefix) or separator in record.name: counts[ record.name ]+=1
    return OrderedDict(sorted(counts.items(),key=lambda item:(-item[1],item[0])))
def main(argv=sys.argv):
    print( "running {{}} with {{}} arguments".format(LABEL,len(argv)),file=sys.stderr )
    return combine_{f}(1,2,3,4,5,6,{d})+len(os.sep)
"""  # noqa: E501 (unformatted on purpose)


def generate(root: Path, files: int, per_dir: int) -> list[str]:
    """The fixture project under ``root``; its Python files, relative, sorted."""
    names: list[str] = []
    for index in range(files):
        d, f = divmod(index, per_dir)
        rel = f"pkg_{d:04d}/mod_{f:03d}.py"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(MODULE.format(d=d, f=f), encoding="utf-8")
        names.append(rel)
    (root / ".gitignore").write_text(".ruff_cache/\n__pycache__/\n", encoding="utf-8")
    return sorted(names)


def reset(pristine: Path, target: Path) -> None:
    """``target`` holds the generated files again, at the same path."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(pristine, target)


def tree(root: Path) -> dict[str, bytes]:
    """Every file's bytes under ``root``, caches aside."""
    found: dict[str, bytes] = {}
    for directory, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED]
        for name in names:
            path = Path(directory) / name
            found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def find_ruff() -> str:
    """The ruff next to this Python, else the one on PATH."""
    beside = Path(sys.executable).parent / "ruff"
    found = str(beside) if beside.is_file() else shutil.which("ruff")
    if not found:
        raise SystemExit("ruff is not installed: pip install ruff")
    return found


class Agents:
    """The real ``agents`` command, on a database and config of its own."""

    def __init__(self, work: Path) -> None:
        self.env = {
            **os.environ,
            "AGENTS_DATABASE_URL": f"sqlite:///{work / 'agents.db'}",
            "AGENTS_CONFIG": str(work / "none.toml"),
            "XDG_DATA_HOME": str(work / "data"),
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "cleveragents", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
            raise SystemExit(f"agents {' '.join(args)} exited {done.returncode}:\n{tail}")
        return done


def leaf_batches(agents: Agents, project: str, action: Path) -> list[frozenset[str]]:
    """The files of each leaf of a plan of ``action`` (created, never executed)."""
    plan_id = agents.run("plan", "create", "--project", project, "--action", str(action))
    status = json.loads(agents.run("plan", "status", plan_id.stdout.strip(), "--json").stdout)
    parents = {node["parent_id"] for node in status["subplans"]}
    return [frozenset(n["files"]) for n in status["subplans"] if n["id"] not in parents]


def gnu_parallel_version() -> str | None:
    """GNU parallel's version line, or None if it is not installed."""
    if shutil.which("parallel") is None:
        return None
    done = subprocess.run(["parallel", "--version"], capture_output=True, text=True, check=False)
    first = done.stdout.splitlines()[:1]
    return first[0] if first and first[0].startswith("GNU parallel") else None


def runner_argv(gnu: bool, jobs: int, batch: int, listing: Path, ruff: str) -> list[str]:
    """The parallel side's command: GNU parallel, else xargs, reading NUL-separated names."""
    if gnu:
        return [
            "parallel",
            "--will-cite",
            "--xargs",
            *("-j", str(jobs), "-n", str(batch), "-0", "-a", str(listing)),
            ruff,
            "format",
        ]
    return ["xargs", "-0", "-P", str(jobs), "-n", str(batch), "-a", str(listing), ruff, "format"]


def timed(argv: list[str], cwd: Path | None = None, env: Any = None) -> float:
    """Seconds ``argv`` ran, from its start to its exit (which must be 0)."""
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
        raise SystemExit(f"{argv[0]} ... exited {done.returncode}:\n{tail}")
    return seconds


def main() -> None:
    """Parse arguments, build the fixture, run the rounds, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=3000, help="Python files in the project")
    parser.add_argument("--per-dir", type=int, default=50, help="files per directory (5..50)")
    parser.add_argument("--runs", type=int, default=3, help="rounds (each side once per round)")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="processes at once, both sides"
    )
    parser.add_argument("--xargs", action="store_true", help="xargs -P even if GNU parallel is")
    add_quiet_options(parser, max_wait=120.0, retries=False)
    args = parser.parse_args()
    if not 5 <= args.per_dir <= 50:
        parser.error(
            "--per-dir must be 5..50: one directory, one leaf of the default decomposition"
        )

    ruff = find_ruff()
    version = None if args.xargs else gnu_parallel_version()
    if version is None and not args.xargs:
        log("GNU parallel is not installed (Debian package parallel): xargs -P instead")
    runner = version or "xargs -P"
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    values: dict[str, list[float]] = defaultdict(list)
    foreign: list[float] = []
    with tempfile.TemporaryDirectory(prefix="agents-compare-ruff-") as tmp:
        work = Path(tmp)
        pristine, ours, theirs = work / "pristine", work / "agents", work / "parallel"
        log(f"generating {args.files:,} files")
        names = generate(pristine, args.files, args.per_dir)
        listing = work / "files.nul"
        listing.write_bytes(b"".join(name.encode() + b"\0" for name in names))
        action = work / "ruff-format.toml"
        action.write_text(
            f'[action]\nname = "ruff-format"\ncommand = [{json.dumps(ruff)}, "format", "{{files}}"]'
            '\ninclude = ["**/*.py"]\n',
            encoding="utf-8",
        )
        agents = Agents(work)
        reset(pristine, ours)
        agents.run("project", "add", str(ours), "--name", "bench")
        batches = leaf_batches(agents, "bench", action)
        batch = max(len(b) for b in batches)
        chunks = {frozenset(names[i : i + batch]) for i in range(0, len(names), batch)}
        same = "the same batches" if set(batches) == chunks else "batches of the same size"
        log(f"agents decomposes {len(names):,} files into {len(batches)} leaves of <= {batch}")
        agents_argv = [sys.executable, "-m", "cleveragents", "plan", "run", "--project", "bench"]
        agents_argv += ["--action", str(action), "--apply", "--max-parallel", str(args.jobs)]
        parallel_argv = runner_argv(version is not None, args.jobs, batch, listing, ruff)
        sides = {  # argv, the copy of the project it changes, its working directory, environment
            "agents_s": (agents_argv, ours, None, agents.env),
            "parallel_s": (parallel_argv, theirs, theirs, None),
        }
        for rnd in range(args.runs):
            log(f"round {rnd + 1}/{args.runs}")
            order = list(sides) if rnd % 2 == 0 else list(reversed(sides))
            for key in order:
                argv, root, cwd, env = sides[key]
                reset(pristine, root)
                wait_quiet(args.max_wait, args.max_foreign)
                seconds, load = measured(lambda a=argv, c=cwd, e=env: timed(a, c, e))
                values[key].append(seconds)
                foreign.append(load)
            if tree(ours) != tree(theirs):
                raise SystemExit("the two sides left different files: not the same work")
            if tree(ours) == tree(pristine):
                raise SystemExit("ruff format changed nothing: the fixture is not unformatted")
            ours_s, theirs_s = values["agents_s"][-1], values["parallel_s"][-1]
            log(f"  agents {ours_s:.3f} s, {runner} {theirs_s:.3f} s")
    finished = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    med = {key: statistics.median(vals) for key, vals in values.items()}
    ratio = med["agents_s"] / med["parallel_s"]
    print(
        f"\nSame sitting, {started} .. {finished}, {os.cpu_count()} CPUs, Python "
        f"{sys.version.split()[0]}; {args.runs} rounds, sides alternating; medians over the "
        f"rounds. Other processes used at most {max(foreign):.1%} of the machine during a run.\n"
    )
    print(
        f"{args.files:,} files, {len(batches)} leaves of <= {batch}, {args.jobs} at once ({same})"
    )
    print(f"agents plan run --apply (sandboxes, then apply): {med['agents_s']:.3f} s")
    print(f"{runner}, ruff format: {med['parallel_s']:.3f} s")
    print(f"agents / {runner.split(' ')[0]}{' parallel' if version else ''}: {ratio:.2f}x")
    write_json(
        args.out,
        {
            "started": started,
            "finished": finished,
            "args": vars(args),
            "runner": runner,
            "leaves": len(batches),
            "batch": batch,
            "same_batches": same == "the same batches",
            "values": values,
            "medians": med,
            "ratio": ratio,
            "foreign_load": foreign,
        },
    )


if __name__ == "__main__":
    main()
