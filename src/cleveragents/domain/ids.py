"""ULID ids that sort in creation order, also within one millisecond of one process."""

from __future__ import annotations

import os
import threading
import time

from ulid import base32

_lock = threading.Lock()
_last = 0


def new_ids(count: int) -> list[str]:
    """``count`` new ULID strings, in increasing order, each greater than any made before here.

    Plain ULIDs are random within a millisecond, so two jobs enqueued in the same millisecond
    could be claimed out of order; continuing from the previous value keeps FIFO order within a
    priority (the monotonic variant of the ULID spec).
    """
    global _last
    with _lock:
        first = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
        first = max(first, _last + 1)
        _last = first + count - 1
    return [base32.encode((first + n).to_bytes(16, "big")) for n in range(count)]


def new_id() -> str:
    """One new ULID string (see :func:`new_ids`)."""
    return new_ids(1)[0]
