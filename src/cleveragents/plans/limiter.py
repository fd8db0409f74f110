"""The effective concurrency of a plan whose tool rate-limits it: additive increase,
multiplicative decrease (AIMD), as TCP shares a link.

A rate-limited attempt halves the limit (never below 1), once per "window": attempts that
started before the last decrease do not halve it again, so a burst of 429s from leaves that were
all running at once counts as one signal. Each run of ``limit`` successes in a row raises it by
one, never above ``max_parallel``.
"""

from __future__ import annotations

import threading


class AdaptiveLimit:
    """How many leaves may run at once now."""

    def __init__(self, max_parallel: int) -> None:
        self.max_parallel = max_parallel
        self.limit = max_parallel
        self._lock = threading.Lock()
        self._started = 0  # attempts started so far (their order)
        self._decreased_at = -1  # the order of the last attempt started before the last decrease
        self._streak = 0

    def started(self) -> int:
        """An attempt starts: its order, to hand back with its outcome."""
        with self._lock:
            self._started += 1
            return self._started

    def succeeded(self) -> bool:
        """An attempt completed; True if the limit rose."""
        with self._lock:
            self._streak += 1
            if self._streak < self.limit or self.limit >= self.max_parallel:
                return False
            self._streak = 0
            self.limit += 1
            return True

    def rate_limited(self, order: int) -> bool:
        """The attempt of that order was rate-limited; True if the limit fell."""
        with self._lock:
            self._streak = 0
            if order <= self._decreased_at or self.limit == 1:
                return False  # started before the last decrease: the same signal
            self.limit = max(1, self.limit // 2)
            self._decreased_at = self._started
            return True
