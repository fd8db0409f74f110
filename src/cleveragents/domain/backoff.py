"""Exponential backoff with full jitter: the wait before another try, shared by a leaf's retries
(plans/policy.py) and a failed job's (worker/execution.py)."""

from __future__ import annotations

import random


def full_jitter(backoff_s: float, failed_attempt: int, cap_s: float, rng: random.Random) -> float:
    """Seconds to wait after try ``failed_attempt`` (1-based) failed: uniform over
    ``[0, min(cap_s, backoff_s * 2**(failed_attempt - 1))]``, so retries of many failures at
    once spread out instead of arriving together (AWS's "full jitter")."""
    exponent = min(max(failed_attempt - 1, 0), 64)  # 2**64 seconds is past any cap
    return rng.uniform(0, min(backoff_s * 2**exponent, cap_s))
