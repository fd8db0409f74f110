"""A ``threading.Event`` that ``select()`` can wait on too, beside a database's socket or file
watch: the worker's idle loop blocks on both at once instead of looking at each in turn.

:meth:`Doorbell.ring` only writes a byte to a non-blocking pipe: it takes no lock, so a signal
handler may call it (running on the main thread, possibly while that thread holds the event's
lock) to cut a wait short.
"""

from __future__ import annotations

import os
import threading
import weakref


class Doorbell:
    """``set`` / ``clear`` / ``is_set`` / ``wait`` as an Event; ``fileno()`` is readable once
    it was set or rung, until the next ``clear``."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._read, self._write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._closer = weakref.finalize(self, _close, self._read, self._write)

    def set(self) -> None:
        """Set the event and make ``fileno()`` readable."""
        self._event.set()
        self.ring()

    def ring(self) -> None:
        """Make ``fileno()`` readable without touching the event (safe in a signal handler)."""
        try:
            os.write(self._write, b"\0")
        except BlockingIOError:  # the pipe is full: it is readable already
            pass

    def clear(self) -> None:
        """Unset; a ``set`` racing with this leaves the event set or the pipe readable."""
        try:
            while os.read(self._read, 4096):
                pass
        except BlockingIOError:
            pass
        self._event.clear()

    def is_set(self) -> bool:
        """Whether the event is set."""
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until set or ``timeout`` seconds pass; True if set."""
        return self._event.wait(timeout)

    def fileno(self) -> int:
        """The pipe's read end, for ``select()``."""
        return self._read

    def close(self) -> None:
        """Close the pipe (also done when the doorbell is collected)."""
        self._closer()


def _close(*fds: int) -> None:
    for fd in fds:
        os.close(fd)
