"""ULID ids that sort in creation order, also within one millisecond of one process."""

from __future__ import annotations

import os
import threading
import time

from ulid import ULID

_lock = threading.Lock()
_last = 0


def new_id() -> str:
    """A new ULID string, strictly greater than every id this process made before.

    Plain ULIDs are random within a millisecond, so two jobs enqueued in the same millisecond could
    be claimed out of order; bumping the previous value keeps FIFO order within a priority.
    """
    global _last
    with _lock:
        candidate = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
        if candidate <= _last:
            candidate = _last + 1
        _last = candidate
    return str(ULID.from_int(candidate))
