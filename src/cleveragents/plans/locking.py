"""Holding a plan's lock for a whole execution: take it (or take over a dead holder's), renew it
from a background thread, and stop the run rather than go on unprotected if it is lost."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from cleveragents.domain.locks import Lock, ResourceType
from cleveragents.domain.plans import Plan, PlanPhase
from cleveragents.errors import AgentsError, LockConflictError, LockExpiredError
from cleveragents.runtime.owners import holder_is_live, owner_alive
from cleveragents.store.locks import LockService

log = logging.getLogger("cleveragents.plans")

RENEW_FRACTION = 1 / 3  # renew when a third of the TTL has passed: two chances before it lapses
# A run whose renewals fail (the database unreachable, this host cut off) stops itself once its
# lock may lapse within this fraction of the TTL: before anyone else can take it over.
SILENCE_MARGIN = RENEW_FRACTION / 2


def acquire_plan_lock(
    locks: LockService, plan_id: str, owner: str, ttl_s: float, now: datetime
) -> Lock:
    """The plan's lock for ``owner`` (see :func:`acquire_lock`)."""
    return acquire_lock(locks, ResourceType.PLAN, plan_id, owner, ttl_s, now)


def acquire_lock(
    locks: LockService,
    resource_type: ResourceType,
    resource_id: str,
    owner: str,
    ttl_s: float,
    now: datetime,
) -> Lock:
    """The lock for ``owner``. A holder that is provably dead (a process of this host that no
    longer exists) is taken over at once instead of waiting for its lock to expire."""
    try:
        return locks.acquire(resource_type, resource_id, owner, ttl_s, now)
    except LockConflictError:
        holder = locks.get(resource_type, resource_id)
        if holder is None or owner_alive(holder.owner_id) or not locks.take_over(holder):
            raise
        log.warning(
            "took over the lock of %s %s from %s (gone)", resource_type, resource_id, holder.holder
        )
        return locks.acquire(resource_type, resource_id, owner, ttl_s, now)


def run_is_live(locks: LockService, plan: Plan, now: datetime) -> bool:
    """Whether a live run holds the executing plan: an unexpired lock whose holder may be alive."""
    if plan.phase is not PlanPhase.EXECUTING:
        return False
    return holder_is_live(locks.get(ResourceType.PLAN, plan.id), now)


class LockRenewer:
    """Renews one lock every ``ttl_s * RENEW_FRACTION`` until stopped; calls ``on_lost`` once
    if the lock was lost (expired and possibly taken), and then stops.

    It also fences itself: a watchdog thread that never touches the database calls ``on_lost``
    once no renewal has succeeded for ``ttl_s * (1 - SILENCE_MARGIN)`` seconds (a renewal that
    hangs on a cut network included), so the run stops before the lock can lapse and be taken.
    """

    def __init__(
        self,
        locks: LockService,
        resource_type: ResourceType,
        resource_id: str,
        owner: str,
        ttl_s: float,
        clock: Callable[[], datetime],
        on_lost: Callable[[str], None],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._locks = locks
        self._resource = (resource_type, resource_id)
        self._owner = owner
        self._ttl_s = ttl_s
        self._clock = clock
        self._on_lost = on_lost
        self._monotonic = monotonic
        self._renewed_at = monotonic()  # the lock was just taken
        self._done = threading.Event()
        self._losing = threading.Lock()
        self.lost: str | None = None
        self._threads = [
            threading.Thread(target=self._run, name="agents-lock-renewal", daemon=True),
            threading.Thread(target=self._watch, name="agents-lock-watchdog", daemon=True),
        ]

    def __enter__(self) -> LockRenewer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._threads[1].join()
        # A renewal hanging on a dead connection ends with the connection's own timeout; the
        # run is over and stopped already, so it is not waited for.
        self._threads[0].join(timeout=0 if self.lost else None)

    def _lose(self, message: str) -> bool:
        """Report the loss once; False if it was reported already."""
        with self._losing:
            if self.lost is not None:
                return False
            self.lost = message
        log.error("%s; stopping the run", message)
        self._on_lost(message)
        return True

    def check_silence(self, mono: float | None = None) -> bool:
        """Stop the run if no renewal succeeded for too long; True once the lock is lost (the
        watchdog's call; tests call it with an injected monotonic time)."""
        silent = (self._monotonic() if mono is None else mono) - self._renewed_at
        if self.lost is None and silent > self._ttl_s * (1 - SILENCE_MARGIN):
            resource_type, resource_id = self._resource
            self._lose(
                f"the lock on {resource_type} {resource_id} was not renewed for {silent:.1f} s "
                f"(its TTL is {self._ttl_s:g} s)"
            )
        return self.lost is not None

    def _watch(self) -> None:
        interval = min(self._ttl_s * SILENCE_MARGIN / 2, 1.0)
        while not self._done.wait(interval):
            if self.check_silence():
                return

    def renew_once(self) -> bool:
        """One renewal; False once the lock is lost."""
        resource_type, resource_id = self._resource
        try:
            self._locks.renew(resource_type, resource_id, self._owner, self._ttl_s, self._clock())
        except LockExpiredError as exc:
            self._lose(exc.message)
            return False
        except AgentsError as exc:  # a busy database: try again at the next tick
            log.warning("could not renew the lock on %s %s: %s", resource_type, resource_id, exc)
            return self.lost is None
        self._renewed_at = self._monotonic()
        return self.lost is None

    def _run(self) -> None:
        while not self._done.wait(self._ttl_s * RENEW_FRACTION):
            if not self.renew_once():
                return
