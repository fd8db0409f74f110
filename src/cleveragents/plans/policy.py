"""An action's exit policy: which exit codes succeed, which failures are worth another attempt,
and how long to wait before it.

``success_exit_codes`` decide success. A failure is *transient* when the action says so: its
exit code is in ``retry_exit_codes`` or its output matches ``retry_on_output``. An action that
names neither treats every failure as worth retrying (while ``retries`` allow), as before these
fields existed. The wait before attempt ``n + 1`` is full jitter over ``backoff_s * 2**(n-1)``,
capped by ``max_backoff_s``; a delay the tool asks for (``retry_after_pattern``, whose first group
is seconds) replaces it, up to the same cap.
"""

from __future__ import annotations

import random
import re

from pydantic import BaseModel, Field, field_validator

from cleveragents.domain.backoff import full_jitter

RATE_LIMIT_DEFAULT = r"(?i)\b(?:429|529)\b|rate.?limit|overloaded|too many requests"
OUTPUT_SEARCHED = 8192  # the last characters of an attempt's output the patterns look at


def _compile(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None


class ExitPolicy(BaseModel):
    """The exit-policy fields of an action (``ActionSpec`` inherits them)."""

    success_exit_codes: list[int] = Field(default_factory=lambda: [0], min_length=1)
    retry_exit_codes: list[int] = Field(default_factory=list)
    retry_on_output: str | None = None
    retry_after_pattern: str | None = None
    # A failure whose output matches is a rate limit: it waits and slows the plan down
    # (limiter.py). "" turns it off.
    rate_limit_on_output: str = RATE_LIMIT_DEFAULT
    backoff_s: float = Field(1.0, ge=0, le=3600)
    max_backoff_s: float = Field(300.0, ge=0, le=86400)

    @field_validator("success_exit_codes", "retry_exit_codes")
    @classmethod
    def _valid_exit_codes(cls, codes: list[int]) -> list[int]:
        for code in codes:
            if not 0 <= code <= 255:
                raise ValueError(f"an exit code is 0..255 (got {code})")
        return sorted(set(codes))

    @field_validator("retry_on_output", "retry_after_pattern", "rate_limit_on_output")
    @classmethod
    def _valid_pattern(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            _compile(pattern)
        return pattern

    @field_validator("retry_after_pattern")
    @classmethod
    def _has_group(cls, pattern: str | None) -> str | None:
        if pattern is not None and _compile(pattern).groups < 1:
            raise ValueError(r"needs a group that captures the seconds, e.g. 'Retry-After: (\d+)'")
        return pattern

    def rate_limited(self, output: str) -> bool:
        """Whether a failed attempt's output says it was rate-limited."""
        if not self.rate_limit_on_output:
            return False
        return _compile(self.rate_limit_on_output).search(output[-OUTPUT_SEARCHED:]) is not None

    def transient(self, exit_code: int | None, output: str) -> bool:
        """Whether a failed attempt (its exit code, if it ran, and its output) may be retried."""
        if not self.retry_exit_codes and self.retry_on_output is None:
            return True  # no policy: any failure is worth another attempt
        if exit_code is not None and exit_code in self.retry_exit_codes:
            return True
        if self.retry_on_output is None:
            return False
        return _compile(self.retry_on_output).search(output[-OUTPUT_SEARCHED:]) is not None

    def asked_delay(self, output: str) -> float | None:
        """The seconds the tool asked to wait (the last match of ``retry_after_pattern``)."""
        if self.retry_after_pattern is None:
            return None
        matches = list(_compile(self.retry_after_pattern).finditer(output[-OUTPUT_SEARCHED:]))
        if not matches:
            return None
        try:
            return max(float(matches[-1].group(1)), 0.0)
        except (TypeError, ValueError):  # the group matched no number: not a delay
            return None

    def delay(self, failed_attempt: int, output: str, rng: random.Random) -> float:
        """Seconds to wait after attempt ``failed_attempt`` (1-based) failed with ``output``."""
        asked = self.asked_delay(output)
        if asked is not None:
            return min(asked, self.max_backoff_s)
        return full_jitter(self.backoff_s, failed_attempt, self.max_backoff_s, rng)
