"""Keywords for the agents suite (robot/agents.robot): actions running the fake AI agent of the
behave features (features/fixtures/fake_agent.py) with the interpreter running Robot, and what its
ledger says: one JSON line per instance (``FAKE_AGENT_LEDGER``), written as it ends, with the
count of instances it saw running, whether it worked or answered 429, and the cost it reported.

An instance that worked writes its line only after its result, so a line means a result the run
may have recorded; an instance killed before that leaves none. Every check here compares the
ledger with what `agents plan status --json` recorded: which leaf each instance ran
(``$AGENTS_SUBPLAN_ID``), how many attempts, what it cost.
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from _robot_support import WAIT_TIMEOUT, agents_library, counted, poll_until
from robot.api import logger
from robot.api.deco import keyword, library
from robot.libraries.BuiltIn import BuiltIn

FAKE_AGENT = Path(__file__).resolve().parents[2] / "features" / "fixtures" / "fake_agent.py"
LEDGER_FIELDS = {"pid", "subplan", "files", "running", "outcome", "cost_usd", "started", "ended"}
COST_TOLERANCE = 1e-9  # costs are sums of floats (0.01 each): equal up to rounding


@library(scope="GLOBAL", auto_keywords=False)
class FakeAgentLibrary:
    """The fake agent's actions and ledger, held against the plan's record."""

    # -- the action ---------------------------------------------------------------------------

    @keyword
    def write_fake_agent_action(self, name: str, **fields: str) -> str:
        """Write ``NAME.toml`` in the work dir: the fake agent (run by this interpreter) on each
        leaf's files, with the prompt ``APPEND: # done`` and one file per leaf; other named
        arguments are action fields, written as TOML literal strings
        (``retry_after_pattern=Retry-After: (\\\\d+)``). Returns the file's path."""
        if not FAKE_AGENT.is_file():
            raise AssertionError(f"no fake agent at {FAKE_AGENT}")
        command = [sys.executable, str(FAKE_AGENT), "{files}"]
        lines = [
            "[action]",
            f"name = {json.dumps(name)}",
            f"command = [{', '.join(json.dumps(part) for part in command)}]",
            'prompt = "APPEND: # done"',
        ]
        for key, value in fields.items():
            if "'" in value or "\n" in value:
                raise AssertionError(f"{key}: not writable as a TOML literal string: {value!r}")
            lines.append(f"{key} = '{value}'")
        lines += [
            "",
            "[action.decompose]",
            "max_files_per_subplan = 1",
            "min_files_per_subplan = 1",
        ]
        path = agents_library().work_dir() / f"{name}.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        logger.info(f"{path}:\n{path.read_text(encoding='utf-8')}")
        return str(path)

    # -- the ledger ---------------------------------------------------------------------------

    @keyword
    def ledger_entries(self, path: str) -> list[dict[str, Any]]:
        """The ledger's lines, parsed (an empty list when no instance wrote one yet). Each must
        be a whole JSON object with every field: a torn or partial line fails."""
        entries = []
        for number, line in enumerate(agents_library().lines_of_file(path), 1):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                raise AssertionError(f"{path}:{number}: not JSON: {line!r}") from None
            if not isinstance(entry, dict) or set(entry) != LEDGER_FIELDS:
                raise AssertionError(f"{path}:{number}: not a ledger line: {line!r}")
            entries.append(entry)
        outcomes = Counter(entry["outcome"] for entry in entries)
        logger.info(f"{len(entries)} ledger lines: {dict(outcomes)}")
        return entries

    @keyword
    def worked_entries(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The lines of instances that worked (wrote a result)."""
        return [entry for entry in entries if entry["outcome"] == "worked"]

    @keyword
    def ledger_cost(self, entries: list[dict[str, Any]]) -> float:
        """What the instances that worked reported costing, summed (``math.fsum``)."""
        return math.fsum(entry["cost_usd"] for entry in self.worked_entries(entries))

    @keyword
    def concurrency_log_should_match_ledger(
        self, log_path: str, entries: list[dict[str, Any]]
    ) -> None:
        """The fake agent's concurrency log holds one count per instance, and they are the
        counts the ledger's lines saw: every instance that counted itself in ended with a
        line (none was lost, none killed)."""
        logged = Counter(int(line) for line in agents_library().lines_of_file(log_path))
        seen = Counter(entry["running"] for entry in entries)
        if logged != seen:
            raise AssertionError(
                f"the concurrency log's counts {dict(logged)} are not the ledger's {dict(seen)}"
            )

    @keyword
    def working_instances_should_stay_within(
        self, entries: list[dict[str, Any]], limit: int
    ) -> int:
        """The fake agent's limit held for the instances that worked, and was reached:

        - every instance that worked saw at most ``limit`` running, every one that answered
          429 saw more, and at least one did (the plan really was rate-limited);
        - the intervals the working instances worked (from their count to the end of their
          work, on the machine's one monotonic clock) never overlapped more than ``limit`` deep.

        Returns that deepest overlap."""
        limit = int(limit)
        worked = self.worked_entries(entries)
        limited = [entry for entry in entries if entry["outcome"] == "429"]
        other = [entry for entry in entries if entry["outcome"] not in ("worked", "429")]
        problems = counted(
            ("instance(s) worked above the limit", [e for e in worked if e["running"] > limit]),
            ("429 answer(s) within the limit", [e for e in limited if e["running"] <= limit]),
            ("instance(s) that neither worked nor answered 429", other),
        )
        if not limited:
            problems.append(f"no instance answered 429: the limit of {limit} was never reached")
        events = sorted(
            [(entry["started"], 1) for entry in worked] + [(entry["ended"], -1) for entry in worked]
        )  # an end before a start at the same instant
        depth = peak = 0
        for _, delta in events:
            depth += delta
            peak = max(peak, depth)
        if peak > limit:
            problems.append(f"{peak} instances worked at once, over the limit of {limit}")
        if problems:
            raise AssertionError("; ".join(problems))
        logger.info(
            f"{len(worked)} worked (at most {peak} at once), {len(limited)} answered 429 "
            f"(they saw {sorted(Counter(e['running'] for e in limited).items())} running)"
        )
        return peak

    @keyword
    def ledger_by_leaf(self, entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        """The ledger's lines per subplan id, in the ledger's order."""
        by_leaf: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for entry in entries:
            by_leaf[entry["subplan"]].append(entry)
        return dict(by_leaf)

    @keyword
    def each_leaf_should_have_worked_once(
        self, leaves: list[dict[str, Any]], entries: list[dict[str, Any]]
    ) -> None:
        """Every leaf's instances are in the ledger and only they: exactly one worked, on the
        leaf's own files, costing what the plan recorded for the leaf; the plan's count of its
        attempts is its number of instances (each 429 was an attempt, each attempt an
        instance); no instance ran for a subplan the plan does not have."""
        by_leaf = self.ledger_by_leaf(entries)
        problems: list[str] = []
        for leaf in leaves:
            mine = by_leaf.pop(leaf["id"], [])
            worked = self.worked_entries(mine)
            where = f"leaf {leaf['label']} ({leaf['id']})"
            if len(worked) != 1:
                problems.append(f"{where} worked {len(worked)} times")
                continue
            if worked[0]["files"] != leaf["files"]:
                problems.append(f"{where} ran on {worked[0]['files']}, not {leaf['files']}")
            if not _same_cost(leaf["cost_usd"], worked[0]["cost_usd"]):
                problems.append(
                    f"{where} recorded cost {leaf['cost_usd']}, reported {worked[0]['cost_usd']}"
                )
            if leaf["attempts"] != len(mine):
                problems.append(f"{where}: {leaf['attempts']} attempts, {len(mine)} instances")
        if by_leaf:
            problems.append(f"instances of no leaf of the plan: {sorted(by_leaf)}")
        if problems:
            raise AssertionError(f"{len(problems)} problem(s): " + "; ".join(problems[:10]))

    @keyword
    def ledger_should_agree_with_killed_run(
        self, leaves: list[dict[str, Any]], entries: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """After a run was killed (and every instance of it ended): each leaf the plan records
        completed worked exactly once, costing what the plan recorded for it; each other leaf
        worked at most once (an instance that finished its work just before the kill, whose
        completion the run never recorded). Nothing answered 429 or failed. Returns the lines
        of those unrecorded instances."""
        by_leaf = self.ledger_by_leaf(entries)
        problems: list[str] = []
        unrecorded: list[dict[str, Any]] = []
        for leaf in leaves:
            mine = by_leaf.pop(leaf["id"], [])
            worked = self.worked_entries(mine)
            where = f"leaf {leaf['label']} ({leaf['state']})"
            if len(worked) != len(mine):
                problems.append(f"{where}: instances that did not work: {mine}")
            if leaf["state"] == "completed":
                if len(worked) != 1:
                    problems.append(f"{where} worked {len(worked)} times")
                elif not _same_cost(leaf["cost_usd"], worked[0]["cost_usd"]):
                    reported = worked[0]["cost_usd"]
                    problems.append(
                        f"{where} recorded cost {leaf['cost_usd']}, reported {reported}"
                    )
            elif len(worked) > 1:
                problems.append(f"{where} worked {len(worked)} times before the kill")
            else:
                if leaf["cost_usd"] is not None:
                    problems.append(f"{where} not completed, yet it has a cost: {leaf['cost_usd']}")
                unrecorded.extend(worked)
        if by_leaf:
            problems.append(f"instances of no leaf of the plan: {sorted(by_leaf)}")
        if problems:
            raise AssertionError(f"{len(problems)} problem(s): " + "; ".join(problems[:10]))
        logger.info(
            f"{len(entries)} instances worked before the kill; {len(unrecorded)} of them were "
            f"not recorded: {unrecorded}"
        )
        return unrecorded

    @keyword
    def resumed_run_should_have_run_the_rest_once(
        self,
        leaves: list[dict[str, Any]],
        before: list[dict[str, Any]],
        after: list[dict[str, Any]],
        done_before: list[str],
    ) -> list[dict[str, Any]]:
        """The ledger after the resumed run is the ledger before it plus exactly one worked
        instance per leaf not completed before the kill, on that leaf's files, costing what the
        plan now records for it; no leaf completed before the kill ran again. Returns the
        resumed run's lines."""
        if after[: len(before)] != before:
            raise AssertionError("the ledger's lines from before the kill changed")
        resumed = after[len(before) :]
        by_leaf = self.ledger_by_leaf(resumed)
        problems: list[str] = []
        for leaf in leaves:
            mine = by_leaf.pop(leaf["id"], [])
            where = f"leaf {leaf['label']} ({leaf['id']})"
            if leaf["id"] in done_before:
                if mine:
                    problems.append(f"{where}, completed before the kill, ran again: {mine}")
                continue
            worked = self.worked_entries(mine)
            if len(mine) != 1 or len(worked) != 1:
                problems.append(f"{where} ran {len(mine)} times on resuming: {mine}")
                continue
            if worked[0]["files"] != leaf["files"]:
                problems.append(f"{where} ran on {worked[0]['files']}, not {leaf['files']}")
            if not _same_cost(leaf["cost_usd"], worked[0]["cost_usd"]):
                problems.append(
                    f"{where} recorded cost {leaf['cost_usd']}, reported {worked[0]['cost_usd']}"
                )
        if by_leaf:
            problems.append(f"instances of no leaf of the plan: {sorted(by_leaf)}")
        if problems:
            raise AssertionError(f"{len(problems)} problem(s): " + "; ".join(problems[:10]))
        return resumed

    @keyword
    def leaves_should_have_worked_once_besides_the_unrecorded(
        self,
        leaves: list[dict[str, Any]],
        entries: list[dict[str, Any]],
        unrecorded: list[dict[str, Any]],
    ) -> None:
        """Over the whole ledger, each leaf worked exactly once, except a leaf with an
        instance in ``unrecorded`` (one that worked but whose completion the killed run never
        recorded), which worked exactly twice: that one, and the resumed run's."""
        times = Counter(entry["subplan"] for entry in self.worked_entries(entries))
        twice = Counter(entry["subplan"] for entry in unrecorded)
        wrong = [
            f"{leaf['label']} worked {times[leaf['id']]} times, not {1 + twice[leaf['id']]}"
            for leaf in leaves
            if times[leaf["id"]] != 1 + twice[leaf["id"]]
        ]
        if wrong:
            raise AssertionError(f"{len(wrong)} leaves: " + "; ".join(wrong[:10]))
        logger.info(f"{len(twice)} leaves worked twice, {len(leaves) - len(twice)} once")

    @keyword
    def final_attempts_cost(self, entries: list[dict[str, Any]]) -> float:
        """The cost of each leaf's last instance that worked (its final recorded attempt, once
        the plan executed), summed."""
        last: dict[str, float] = {}
        for entry in self.worked_entries(entries):
            last[entry["subplan"]] = entry["cost_usd"]
        return math.fsum(last.values())

    @keyword
    def costs_should_be_equal(self, recorded: float, reported: float, what: str = "cost") -> None:
        """Two sums of costs are equal up to float rounding (1e-9)."""
        if not _same_cost(recorded, reported):
            raise AssertionError(f"{what}: recorded {recorded!r}, reported {reported!r}")
        logger.info(f"{what}: {recorded!r} == {reported!r}")

    # -- the processes ------------------------------------------------------------------------

    @keyword
    def wait_until_plan_has_no_processes(self, plan_id: str, timeout: str = WAIT_TIMEOUT) -> None:
        """Poll until no live process carries the plan's id (`Processes Of Plan` finds none):
        no instance of the fake agent can write to its ledger any more."""
        processes = BuiltIn().get_library_instance("ProcessesLibrary")
        left: list[int] = []

        def gone() -> bool:
            left[:] = processes.processes_of_plan(plan_id)
            return not left

        poll_until(gone, timeout, lambda: f"the processes of plan {plan_id} to end: {left}")


def _same_cost(first: float | None, second: float | None) -> bool:
    if first is None or second is None:
        return first is None and second is None
    return math.isclose(first, second, rel_tol=0.0, abs_tol=COST_TOLERANCE)
