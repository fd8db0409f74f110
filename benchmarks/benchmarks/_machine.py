"""The machine's other load, for the side-by-side comparison scripts (compare_*.py).

Figures taken while something else keeps the cores busy are not comparable, so the scripts
wait for a quiet machine and report how much of it others used during each measurement.
"""

from __future__ import annotations

import os
import sys
import time

QUIET_WINDOW_S = 2.0  # how long the machine is watched before a round starts


def log(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


def busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    with open("/proc/stat") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


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
