"""Liveness of owners: does the process an owner id names still run, does a live owner hold a lock.

The one place these rules live; plan runs, lock takeover and diagnostics all ask here.
"""

from __future__ import annotations

from datetime import datetime

from cleveragents.domain.locks import Lock
from cleveragents.domain.owners import parse_owner, this_host

PID_REUSE_SLACK_S = 1.0  # process start times and ULID times come from different clocks


def owner_alive(owner_id: str) -> bool:
    """Whether the process an owner id names may still run.

    Only a process of this host can be checked; another host's, or an id that names no process,
    counts as alive (its lock's expiry is what frees it). A process with the pid that started
    after the id was made is another process: the owner is dead and its pid was reused.
    """
    owner = parse_owner(owner_id)
    if owner is None or owner.host != this_host():
        return True
    import psutil  # here, not at the top: most commands never ask, and it costs start-up

    try:
        started = psutil.Process(owner.pid).create_time()
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # pragma: no cover - not ours to inspect: it exists, so maybe alive
        return True
    minted = owner.minted_at
    # A process that started after the id was made is not the owner: its pid was reused.
    return minted is None or started <= minted + PID_REUSE_SLACK_S


def holder_is_live(lock: Lock | None, now: datetime) -> bool:
    """Whether ``lock`` is held by a live owner: it exists, has not expired, and its holder may
    still run. A plan whose lock fails this has no live run, whatever its phase says."""
    return lock is not None and not lock.is_stale(now) and owner_alive(lock.owner_id)
