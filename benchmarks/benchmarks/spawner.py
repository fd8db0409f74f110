"""Starting commands: ``subprocess.Popen`` of this (big) process against the spawner's helpers.

``COMMANDS`` runs of ``true`` from ``THREADS`` threads at once, each started the way
``runtime/processes.py`` starts a command (its own session, stdin ``/dev/null``, output in a
temporary file of its thread, an explicit environment) and waited for. The process has imported
what a worker running a plan holds (``cleveragents.cli.workers``, the plan executor) first, so
its heap is a real worker's, and Python's after-fork hooks are the real ones. The ways, in
alternating rounds:

- ``popen``: ``subprocess.Popen`` without a ``preexec_fn`` (CPython uses ``vfork``): the floor,
  what a command run in place costs;
- ``popen_overlay``: ``subprocess.Popen(preexec_fn=Overlay.enter_hook(cwd))``, what a sandboxed
  leaf cost before the spawner (a full ``fork`` of this process, then the mount);
- ``spawnerN``: ``Spawner(helpers=N).spawn`` without an overlay, for N in ``HELPERS``;
- ``spawnerN_overlay``: the same with an overlay.

Each overlay command gets upper and work directories of its own (made before the timing), over
one small project. Figures are wall-clock milliseconds per command (total / ``COMMANDS``; the
median of ``ROUNDS``); the overlay ways need mount rights (root, or unprivileged user
namespaces), else they are NaN. ``AGENTS_BENCH_SPAWNS`` sets ``COMMANDS`` (default 1,000). Run it
alone with ``python -m benchmarks.spawner`` from ``benchmarks/``; run it as another user than
root (``setpriv``) for the way of user namespaces.
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, ClassVar

# a realistic heap: what a worker process running a plan holds
import cleveragents.cli.workers
import cleveragents.plans.executor  # noqa: F401
from cleveragents.runtime.namespaces import Overlay, overlay_problem
from cleveragents.runtime.spawner import Spawner

from ._support import temp_dir

COMMANDS = int(os.environ.get("AGENTS_BENCH_SPAWNS", "1000"))
THREADS = 8
ROUNDS = 3
HELPERS = (1, 2, 4)
WAYS = (
    "popen",
    "popen_overlay",
    *(f"spawner{n}{kind}" for n in HELPERS for kind in ("", "_overlay")),
)

Start = Callable[[list[str], str, dict[str, str], IO[bytes], Overlay | None], int]


def _popen(hooked: bool) -> Start:
    def start(
        argv: list[str], cwd: str, env: dict[str, str], out: IO[bytes], ov: Overlay | None
    ) -> int:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=ov.enter_hook(cwd) if hooked and ov is not None else None,
        )
        return proc.wait()

    return start


def _spawned(spawner: Spawner, overlaid: bool) -> Start:
    def start(
        argv: list[str], cwd: str, env: dict[str, str], out: IO[bytes], ov: Overlay | None
    ) -> int:
        overlay = ov if overlaid else None
        return spawner.spawn(argv, cwd=cwd, env=env, stdout_fd=out.fileno(), overlay=overlay).wait()

    return start


def _run(start: Start, project: str, overlays: list[Overlay] | None) -> float:
    """Seconds for COMMANDS commands from THREADS threads; every exit code checked."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AGENTS_RUN_ID": "bench"}
    counter = iter(range(COMMANDS))
    lock = threading.Lock()
    failures: list[str] = []

    def worker() -> None:
        with tempfile.TemporaryFile(prefix="agents-bench-") as out:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                overlay = overlays[index] if overlays is not None else None
                code = start(["true"], project, env, out, overlay)
                if code != 0:
                    out.seek(0)
                    failures.append(f"exit {code}: {out.read()[-200:]!r}")

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} commands failed, first: {failures[0]}")
    return elapsed


def _overlays(project: str, scratch: Path, round_: int) -> list[Overlay]:
    result = []
    for index in range(COMMANDS):
        place = scratch / f"r{round_}-{index}"
        (place / "upper").mkdir(parents=True)
        (place / "work").mkdir()
        result.append(Overlay(project, str(place / "upper"), str(place / "work")))
    return result


def measure() -> dict[str, float]:
    """Median ms per command of each way over ROUNDS alternating rounds."""
    times: dict[str, list[float]] = {way: [] for way in WAYS}
    with temp_dir() as tmp, contextlib.ExitStack() as stack:
        project = os.path.realpath(tmp / "project")
        os.mkdir(project)
        for index in range(20):
            Path(project, f"file{index}.txt").write_text("some text\n")
        mountable = overlay_problem(project) is None
        starts = {"popen": _popen(False), "popen_overlay": _popen(True)}
        for n in HELPERS:
            spawner = stack.enter_context(Spawner(helpers=n))
            starts[f"spawner{n}"] = _spawned(spawner, False)
            starts[f"spawner{n}_overlay"] = _spawned(spawner, True)
            _run(starts[f"spawner{n}"], project, None)  # its helpers started, caches warm
        for round_ in range(ROUNDS):
            for way in WAYS:
                overlaid = way.endswith("overlay")
                if overlaid and not mountable:
                    continue
                overlays = _overlays(project, tmp / way, round_) if overlaid else None
                times[way].append(_run(starts[way], project, overlays))
    return {
        way: statistics.median(values) * 1000 / COMMANDS if values else math.nan
        for way, values in times.items()
    }


class StartCommands:
    """ms per command, COMMANDS ``true`` from THREADS threads, for each way (module doc)."""

    params: ClassVar[list[str]] = list(WAYS)
    param_names: ClassVar[list[str]] = ["way"]

    def setup_cache(self) -> dict[str, float]:
        return measure()

    setup_cache.timeout = 900.0  # type: ignore[attr-defined]

    def track_ms_per_command(self, cache: dict[str, float], way: str) -> float:
        """Wall-clock ms per command (NaN: an overlay way where nothing can be mounted)."""
        return cache[way]

    track_ms_per_command.unit = "ms"  # type: ignore[attr-defined]


if __name__ == "__main__":
    print(f"{COMMANDS} x true from {THREADS} threads, median of {ROUNDS} rounds")
    for way, ms in measure().items():
        print(f"{way:18s} {ms:6.3f} ms per command")
