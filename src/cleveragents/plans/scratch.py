"""A plan run's private resources on this host: its scratch directory in TMPDIR (the leaves'
file lists, prompts, results and workspaces), one reused output file per pool thread, and the
spawner whose helpers start commands inside overlays. All of it goes when the run ends; what a
killed run left behind is removed by the next run of the plan (:func:`remove_leftover_scratch`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from cleveragents.plans.sandbox import remove_tree
from cleveragents.runtime.namespaces import Overlay
from cleveragents.runtime.processes import Child, Spawn
from cleveragents.runtime.spawner import Spawner

SCRATCH_PREFIX = "agents-plan-"  # + the plan id + "-": a run's private directory in TMPDIR


def remove_leftover_scratch(plan_id: str) -> int:
    """Remove the private directories a killed run of ``plan_id`` left in TMPDIR; how many."""
    pattern = os.path.join(tempfile.gettempdir(), f"{glob.escape(SCRATCH_PREFIX + plan_id)}-*")
    leftovers = glob.glob(pattern)
    for path in leftovers:
        remove_tree(Path(path))
    return len(leftovers)


class RunScratch:
    """The scratch directory, output files and spawner of one run (made when first needed)."""

    def __init__(self, plan_id: str) -> None:
        self.plan_id = plan_id
        self._lock = threading.Lock()
        self._dir: Path | None = None
        self._outputs: list[IO[bytes]] = []
        self._local = threading.local()
        self._spawner: Spawner | None = None

    def dir(self) -> Path:
        """One private directory per run."""
        with self._lock:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{self.plan_id}-"))
            return self._dir

    def output(self) -> IO[bytes]:
        """This thread's output file (anonymous, reused by each command the thread runs)."""
        output: IO[bytes] | None = getattr(self._local, "output", None)
        if output is None:
            output = tempfile.TemporaryFile(prefix="agents-output-")
            self._local.output = output
            with self._lock:
                self._outputs.append(output)
        return output

    def spawn(self, overlay: Overlay | None) -> Spawn | None:
        """How a command that must enter ``overlay`` starts: from the run's spawner's helpers,
        so that this (big, threaded) process never forks for it (``runtime/spawner.py``)."""
        if overlay is None:
            return None
        with self._lock:
            if self._spawner is None:
                self._spawner = Spawner()
            spawner = self._spawner

        def spawn(argv: list[str], cwd: str, env: Mapping[str, str], output: int) -> Child:
            return spawner.spawn(argv, cwd=cwd, env=env, stdout_fd=output, overlay=overlay)

        return spawn

    def close(self) -> None:
        """Stop the spawner, close the output files, remove the directory."""
        with self._lock:
            if self._spawner is not None:
                self._spawner.close()
                self._spawner = None
            for output in self._outputs:
                output.close()
            self._outputs.clear()
            if self._dir is not None:
                with contextlib.suppress(OSError):  # best effort: TMPDIR is the OS's to clean
                    remove_tree(self._dir)
                self._dir = None
