"""Cooperative cancellation: the only way to stop work running on a pool thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import StrEnum


class CancelReason(StrEnum):
    """Why a job was asked to stop; it decides the job's final status."""

    CANCELLED = "cancelled"  # a user ran `agents jobs cancel` -> cancelled
    TIMEOUT = "timeout"  # it ran past async.job_timeout -> failed
    SHUTDOWN = "shutdown"  # its worker is stopping -> back to queued
    LOST = "lost"  # its worker lost its claim (recovered elsewhere, or no heartbeat) -> stop now


class JobCancelled(Exception):  # an outcome signal, not an error family
    """Raised by a job handler that stopped because its token was cancelled."""


class CancellationToken:
    """Set once, with a reason; handlers wait on it or poll it, callbacks react to it."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []
        self.reason: CancelReason | None = None

    def cancel(self, reason: CancelReason) -> bool:
        """Cancel with ``reason``; the first reason wins. Returns True if this call cancelled."""
        with self._lock:
            if self._event.is_set():
                return False
            self.reason = reason
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()
        return True

    @property
    def cancelled(self) -> bool:
        """True once cancelled."""
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block up to ``timeout`` seconds; True if cancelled meanwhile."""
        return self._event.wait(timeout)

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when cancelled (at once if already cancelled)."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return
        callback()
