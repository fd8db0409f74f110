"""How one attempt at a leaf ended (:class:`LeafResult`), and how a command's end becomes one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cleveragents.domain.paths import safe_text
from cleveragents.plans.results import AttemptResult

OUTPUT_KEPT = 8192  # the last characters of a leaf's output kept with its result


@dataclass(frozen=True)
class LeafResult:
    """How one attempt at a leaf ended."""

    exit_code: int | None
    output: str = ""
    error_message: str | None = None
    cancelled: bool = False
    timed_out: bool = False
    duration_s: float = 0.0
    verification: str | None = None  # how the action's verify command came out, if it has one
    result: AttemptResult | None = None  # what the command reported about itself (results.py)
    over_budget: bool = False  # failed for costing more than the leaf's budget

    def __post_init__(self) -> None:
        # A message or output quoting a file name that is not UTF-8 (``bad\udcff.txt``) holds a
        # surrogate that no database, terminal or JSON reader takes: escaped here, once.
        object.__setattr__(self, "output", safe_text(self.output))
        if self.error_message is not None:
            object.__setattr__(self, "error_message", safe_text(self.error_message))

    @property
    def ok(self) -> bool:
        """True when the leaf completed."""
        return (
            self.exit_code is not None
            and self.error_message is None  # the action's success_exit_codes decided
            and not self.cancelled
            and not self.timed_out
        )


def command_result(
    exit_code: int,
    output: str,
    *,
    cancelled: bool,
    timed_out: bool,
    duration: float,
    success: Sequence[int],
    timeout_s: float,
) -> LeafResult:
    """The result of a command that ended with ``exit_code`` (a success if in ``success``)."""
    error = None
    if timed_out:
        error = f"timed out after {timeout_s:g} s"
    elif cancelled:
        error = "cancelled"
    elif exit_code not in success:
        error = f"exit code {exit_code}"
        last = output.strip().splitlines()[-1:] if output.strip() else []
        if last:
            error += f": {last[0][:200]}"
    return LeafResult(
        exit_code=exit_code,
        output=output[-OUTPUT_KEPT:],
        error_message=error,
        cancelled=cancelled,
        timed_out=timed_out,
        duration_s=round(duration, 6),
    )
