"""PlanJournal: makes the tracker's transitions durable, in batches, on one writer thread.

Group commit: while one batch is being written, the next transitions queue up and go in the next
transaction. Dispatcher threads never wait for the disk, and SQLite sees one writer per run
instead of ``max_parallel`` writers queueing for its lock. :meth:`close` returns only when every
submitted transition is stored (or raises the error that stopped it).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from cleveragents.errors import AgentsError, StoreError
from cleveragents.store.logs import LogChunk
from cleveragents.store.plans import PlanStore, SubplanUpdate

log = logging.getLogger("cleveragents.plans")

MAX_BATCH = 512
# A batch waits this long for company: more transitions per transaction, and a few ms of delay
# before `plan watch` sees them.
BATCH_WINDOW_S = 0.005
_CLOSE = object()


class PlanJournal:
    """A background writer of :class:`SubplanUpdate` batches for one plan."""

    def __init__(
        self,
        store: PlanStore,
        plan_id: str,
        on_error: Callable[[], None] = lambda: None,
        max_batch: int = MAX_BATCH,
        owner: str | None = None,
    ) -> None:
        self._on_error = on_error
        self._store = store
        self._plan_id = plan_id
        self._owner = owner  # the run writing: its writes stop once the plan is another's
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.error: AgentsError | None = None
        self.written = 0
        self._thread = threading.Thread(target=self._run, name="agents-journal", daemon=True)
        self._thread.start()

    def submit(self, update: SubplanUpdate) -> None:
        """Queue a transition to be written."""
        self._queue.put(update)

    def submit_log(self, chunk: LogChunk) -> None:
        """Queue a piece of a leaf's output to be written (before what is submitted later)."""
        self._queue.put(chunk)

    def close(self) -> None:
        """Write everything submitted so far, stop the writer; raise if writing failed."""
        self._queue.put(_CLOSE)
        self._thread.join()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        closing = False
        while not closing:
            batch: list[SubplanUpdate] = []
            logs: list[LogChunk] = []
            deadline = 0.0
            item = self._queue.get()
            while True:
                if item is _CLOSE:
                    closing = True
                    break
                if isinstance(item, LogChunk):
                    logs.append(item)
                else:
                    assert isinstance(item, SubplanUpdate)
                    batch.append(item)
                if len(batch) + len(logs) == 1:
                    deadline = time.monotonic() + BATCH_WINDOW_S
                if len(batch) + len(logs) >= self._max_batch:
                    break
                try:
                    item = self._queue.get(timeout=max(deadline - time.monotonic(), 0))
                except queue.Empty:
                    break
            if (batch or logs) and self.error is None:
                try:
                    self._store.record(self._plan_id, batch, logs, self._owner)
                    self.written += len(batch)
                except Exception as exc:  # any failure: the run cannot go on unrecorded
                    log.error(
                        "could not record subplan progress of plan %s: %s", self._plan_id, exc
                    )
                    self.error = exc if isinstance(exc, AgentsError) else StoreError(repr(exc))
                    self._on_error()
