"""SIGTERM/SIGINT handling for a worker: the first signal asks for a graceful stop, a second one
ends the processes its jobs started and exits at once (the jobs are recovered later from their
stale heartbeats; their processes are gone by then).

The handlers only set a flag (or, the second time, write one line and exit): they take no lock,
since they run on the main thread at any point, possibly while it holds one."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from types import FrameType

from cleveragents.domain.markers import WORKER_ID
from cleveragents.runtime.sweep import end_marked
from cleveragents.worker.worker import AsyncWorker

EXIT_AT_ONCE = 130


def install_signal_handlers(worker: AsyncWorker) -> Callable[[], None]:
    """Install the handlers (main thread only); returns a function that restores the old ones."""
    received: list[int] = []

    def handle(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) > 1:
            os.write(2, b"second signal: ending running jobs' processes and exiting now\n")
            end_marked({WORKER_ID: worker.id})  # nothing it started outlives it
            os._exit(EXIT_AT_ONCE)
        worker.request_stop(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
