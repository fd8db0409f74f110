"""Deadlines: one thread that calls callbacks when their time comes.

A ``threading.Timer`` is a thread per deadline; a plan of built-in actions sets one deadline per
leaf, thousands a second, and almost all are cancelled long before they fire. Here adding and
cancelling one is a heap push and a flag.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable


class Deadline:
    """A scheduled callback; :meth:`cancel` makes sure it never runs."""

    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], object]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        """Do not call it (harmless once it ran)."""
        self.cancelled = True


class Deadlines:
    """Calls each callback at its ``time.monotonic()`` deadline, on one daemon thread."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def call_later(self, delay_s: float, callback: Callable[[], object]) -> Deadline:
        """Call ``callback`` in ``delay_s`` seconds unless cancelled first."""
        deadline = Deadline(time.monotonic() + delay_s, callback)
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="agents-deadlines", daemon=True
                )
                self._thread.start()
            if len(self._heap) > 1024 and len(self._heap) > 2 * self._live():
                self._heap = [entry for entry in self._heap if not entry[2].cancelled]
                heapq.heapify(self._heap)
            heapq.heappush(self._heap, (deadline.when, next(self._order), deadline))
            self._cond.notify()
        return deadline

    def _live(self) -> int:
        return sum(1 for entry in self._heap if not entry[2].cancelled)

    def close(self) -> None:
        """Stop the thread; callbacks not run yet never run."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    if self._heap and self._heap[0][2].cancelled:
                        heapq.heappop(self._heap)
                        continue
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    if wait is not None and wait <= 0:
                        break
                    self._cond.wait(wait)
                if self._closed:
                    return
                _, _, due = heapq.heappop(self._heap)
            if not due.cancelled:
                due.callback()
