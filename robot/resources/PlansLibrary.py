"""Keywords about plans: generated projects, command actions, `agents plan status` and its
leaves, waits for a plan's counts and for a file's lines, and the overlap of the commands a
plan ran.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _robot_support import LOG_POLL_INTERVAL_S, WAIT_TIMEOUT, agents_library, counted, poll_until
from robot.api import logger
from robot.api.deco import keyword, library

ENDED = ("executed", "failed", "cancelled")


@library(scope="GLOBAL", auto_keywords=False)
class PlansLibrary:
    """Projects, actions and plans, through the real `agents` command."""

    @keyword
    def generate_project(self, name: str, files: int = 2000, dirs: int = 30) -> str:
        """Write a project of ``files`` small text files spread over ``dirs`` directories into
        the work dir (``NAME/dNN/fNNNNN.txt``, 1 to 5 lines each); return its path."""
        root = agents_library().work_dir() / name
        for index in range(int(dirs)):
            (root / f"d{index:02d}").mkdir(parents=True, exist_ok=True)
        for index in range(int(files)):
            path = root / f"d{index % int(dirs):02d}" / f"f{index:05d}.txt"
            path.write_text(f"line of file {index}\n" * (index % 5 + 1), encoding="utf-8")
        return str(root)

    @keyword
    def project_files(self, root: str) -> list[str]:
        """Every file under ``root``, as sorted relative POSIX paths."""
        base = Path(root)
        return sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())

    @keyword
    def write_command_action(
        self, name: str, script: str, scope: str = "files", **decompose: str
    ) -> str:
        """Write ``NAME.toml`` in the work dir: an action running ``sh -c SCRIPT sh {files}``
        with that ``scope``; other named arguments go to ``[action.decompose]``
        (``max_files_per_subplan=10``). Returns the file's path."""
        command = ["sh", "-c", script, "sh", "{files}"]
        lines = [
            "[action]",
            f"name = {json.dumps(name)}",
            f"command = [{', '.join(json.dumps(part) for part in command)}]",
            f"scope = {json.dumps(scope)}",
        ]
        if decompose:
            lines.append("")
            lines.append("[action.decompose]")
            lines.extend(f"{key} = {int(value)}" for key, value in decompose.items())
        path = agents_library().work_dir() / f"{name}.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        logger.info(f"{path}:\n{path.read_text(encoding='utf-8')}")
        return str(path)

    @keyword
    def plan_status(self, plan_id: str) -> dict[str, Any]:
        """The plan as `agents plan status ID --json` prints it."""
        document: dict[str, Any] = agents_library().agents_json("plan", "status", plan_id, "--json")
        return document

    @keyword
    def leaf_subplans(self, status: dict[str, Any]) -> list[dict[str, Any]]:
        """The leaves (subplans no other subplan names as its parent) of a plan status."""
        parents = {node["parent_id"] for node in status["subplans"]}
        return [node for node in status["subplans"] if node["id"] not in parents]

    @keyword
    def leaves_should_cover_files_once(
        self, status: dict[str, Any], expected: list[str]
    ) -> list[dict[str, Any]]:
        """The leaves' files add up to ``expected`` exactly: none missing, none extra, none in
        two leaves; inner subplans hold no files. Returns the leaves."""
        leaves = self.leaf_subplans(status)
        leaf_ids = {leaf["id"] for leaf in leaves}
        inner_with_files = [
            node["id"]
            for node in status["subplans"]
            if node["id"] not in leaf_ids and node["files"]
        ]
        if inner_with_files:
            raise AssertionError(f"inner subplans list files: {inner_with_files}")
        seen: dict[str, str] = {}
        twice = []
        for leaf in leaves:
            for path in leaf["files"]:
                if path in seen:
                    twice.append(f"{path} in {seen[path]} and {leaf['id']}")
                seen[path] = leaf["id"]
        total = sum(len(leaf["files"]) for leaf in leaves)
        missing = sorted(set(expected) - set(seen))
        extra = sorted(set(seen) - set(expected))
        problems = counted(
            ("file(s) in two leaves", twice),
            ("file(s) in no leaf", missing),
            ("unexpected file(s)", extra),
        )
        if total != len(expected):
            problems.append(f"the leaves hold {total} files, expected {len(expected)}")
        if problems:
            raise AssertionError("; ".join(problems))
        return leaves

    @keyword
    def wait_until_plan_counts(
        self, plan_id: str, timeout: str = WAIT_TIMEOUT, **minimums: str
    ) -> dict[str, Any]:
        """Poll `agents plan status` until every named leaf count is at least its value
        (``running=3``); return the status. Fails at once if the plan ends first."""
        wanted = {name: int(value) for name, value in minimums.items()}
        seen: dict[str, Any] = {}

        def reached() -> dict[str, Any] | None:
            status = seen["status"] = self.plan_status(plan_id)
            counts = status["counts"]
            if all(counts[name] >= value for name, value in wanted.items()):
                return status
            if status["phase"] in ENDED:
                raise AssertionError(
                    f"plan {plan_id} ended {status['phase']} with {counts}, waiting for {wanted}"
                )
            return None

        return poll_until(
            reached,
            timeout,
            lambda: f"plan {plan_id} counts {wanted}; they are {seen['status']['counts']}",
        )

    @keyword
    def wait_until_file_has_lines(
        self, path: str, count: int, timeout: str = WAIT_TIMEOUT
    ) -> list[str]:
        """Poll a file until it holds at least ``count`` lines; return them."""
        lines: list[str] = []

        def enough() -> list[str] | None:
            lines[:] = agents_library().lines_of_file(path)
            return lines if len(lines) >= int(count) else None

        return poll_until(
            enough,
            timeout,
            lambda: f"{count} line(s) in {path}; it has {len(lines)}",
            interval=LOG_POLL_INTERVAL_S,
        )

    @keyword
    def max_overlap_in_log(self, path: str) -> int:
        """The most commands running at once according to a log of ``start TS PID ...`` and
        ``end TS PID ...`` lines (TS in seconds): a sweep over the intervals, ends first on
        ties. Every start must have its end, once."""
        starts: dict[str, float] = {}
        ends: dict[str, float] = {}
        for line in agents_library().lines_of_file(path):
            kind, stamp, pid, *_ = line.split()
            target = starts if kind == "start" else ends
            if kind not in ("start", "end") or pid in target:
                raise AssertionError(f"unexpected line in {path}: {line!r}")
            target[pid] = float(stamp)
        if set(starts) != set(ends):
            raise AssertionError(f"unmatched starts/ends in {path}: {set(starts) ^ set(ends)}")
        events = sorted(
            [(stamp, 1) for stamp in starts.values()] + [(stamp, -1) for stamp in ends.values()],
            key=lambda event: (event[0], event[1]),
        )
        running = peak = 0
        for _, delta in events:
            running += delta
            peak = max(peak, running)
        logger.info(f"{len(starts)} commands; at most {peak} at once")
        return peak
