"""The environment variables that mark every process agents starts, so that what a run started can
be found and ended later, whoever its parent is now (``runtime/sweep.py``).

A process inherits its environment from its parent, ``setsid`` or not, so a daemon a command
starts carries its command's markers. Markers are read from ``/proc/PID/environ``: a process that
clears its environment before it starts another escapes them (documented in docs/queue.md).
"""

from __future__ import annotations

RUN_ID = "AGENTS_RUN_ID"  # one value per command started: what a command's own end sweeps
JOB_ID = "AGENTS_JOB_ID"  # a command job's id ...
JOB_ATTEMPT = "AGENTS_JOB_ATTEMPT"  # ... and the attempt (claim number) that started it
WORKER_ID = "AGENTS_WORKER_ID"  # the worker whose job started it: a dead worker's orphans
PLAN_ID = "AGENTS_PLAN_ID"  # a plan's leaves: what a takeover of a dead run ends
SUBPLAN_ID = "AGENTS_SUBPLAN_ID"
