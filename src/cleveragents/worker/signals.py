"""SIGTERM/SIGINT handling for a worker: the first signal asks for a graceful stop, a second one
exits at once (the jobs it leaves running are recovered later from their stale heartbeats)."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from types import FrameType

from cleveragents.worker.worker import AsyncWorker

log = logging.getLogger("cleveragents.worker")
EXIT_AT_ONCE = 130


def install_signal_handlers(worker: AsyncWorker) -> Callable[[], None]:
    """Install the handlers (main thread only); returns a function that restores the old ones."""
    received: list[int] = []

    def handle(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        if len(received) > 1:
            os.write(2, b"second signal: exiting now; running jobs will be recovered\n")
            os._exit(EXIT_AT_ONCE)
        log.info("received %s: finishing running jobs, then stopping", signal.Signals(signum).name)
        worker.stop()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
