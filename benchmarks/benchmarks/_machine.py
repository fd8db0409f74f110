"""The machine's other load, for the side-by-side comparison scripts (compare_*.py).

Figures taken while something else keeps the cores busy are not comparable, so the scripts
wait for a quiet machine and report how much of it others used during each measurement.
Also what the scripts' command lines and outputs share.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import psutil

QUIET_WINDOW_S = 2.0  # how long the machine is watched before a round starts
T = TypeVar("T")


def log(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


def busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores): user, nice, system, irq,
    softirq and steal time (``psutil.cpu_times``; guest time is part of user time)."""
    t = psutil.cpu_times()
    busy = t.user + t.nice + t.system
    for name in ("irq", "softirq", "steal"):  # Linux
        busy += getattr(t, name, 0.0)
    return float(busy)


def own_s() -> float:
    """CPU seconds of this process and of every child it waited for (and theirs)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def wait_quiet(max_wait: float, threshold: float) -> float:
    """Wait until others use under ``threshold`` of the machine over a window; returns that
    share. (The window is a measurement interval, not a wait for some event.)"""
    deadline = time.monotonic() + max_wait
    while True:
        busy0, wall0 = busy_s(), time.monotonic()
        time.sleep(QUIET_WINDOW_S)
        share = (busy_s() - busy0) / ((time.monotonic() - wall0) * (os.cpu_count() or 1))
        if share < threshold or time.monotonic() > deadline:
            return share
        log(f"  waiting: the machine is {share:.0%} busy with other work")


def measured(run: Callable[[], T], ours_s: Callable[[], float] = own_s) -> tuple[T, float]:
    """Run ``run``; also return the share of the machine others used meanwhile: busy time
    minus ``ours_s`` (by default this process and its children)."""
    busy0, ours0, wall0 = busy_s(), ours_s(), time.monotonic()
    values = run()
    wall = time.monotonic() - wall0
    foreign = max(0.0, (busy_s() - busy0) - (ours_s() - ours0))
    return values, foreign / (wall * (os.cpu_count() or 1))


def guarded(
    what: str,
    run: Callable[[], T],
    args: argparse.Namespace,
    ours_s: Callable[[], float] = own_s,
) -> tuple[T, float]:
    """Run one half-round after a quiet spell; redo it while others used more than
    ``--max-foreign`` of the machine meanwhile (up to ``--retries`` times)."""
    for attempt in range(args.retries + 1):
        wait_quiet(args.max_wait, args.max_foreign)
        values, foreign = measured(run, ours_s)
        if foreign <= args.max_foreign or attempt == args.retries:
            return values, foreign
        log(f"  {what}: others used {foreign:.1%} of the machine meanwhile; running it again")
    raise AssertionError("unreachable")


def add_quiet_options(parser: argparse.ArgumentParser, max_wait: float, retries: bool) -> None:
    """``--max-foreign``, ``--max-wait`` (and ``--retries``, for scripts that redo a disturbed
    half-round) and ``--out``."""
    during = "during a half-round" if retries else "before a round starts"
    parser.add_argument(
        "--max-foreign",
        type=float,
        default=0.05,
        help=f"share of the machine others may use {during} (default 0.05)",
    )
    if retries:
        parser.add_argument(
            "--retries", type=int, default=3, help="re-runs of a disturbed half-round"
        )
    parser.add_argument(
        "--max-wait", type=float, default=max_wait, help="seconds to wait for quiet"
    )
    parser.add_argument("--out", help="write every value here as JSON")


def write_run(args: Any, revision: str, started: str, finished: str, **fields: Any) -> None:
    """Write a comparison's ``--out`` document: when and on what it ran, then ``fields``."""
    header = {"revision": revision, "started": started, "finished": finished, "args": vars(args)}
    write_json(args.out, {**header, **fields})


def write_json(path: str | None, document: dict[str, Any]) -> None:
    """Write ``document`` to ``path`` (``--out``) as indented JSON, if a path was given."""
    if path:
        Path(path).write_text(json.dumps(document, indent=2) + "\n")
        log(f"wrote {path}")
