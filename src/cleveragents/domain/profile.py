"""The automation profile: how a plan's leaf subplans run, and where each value came from.

Resolution, highest first: **plan** (command-line flags) > **action** (its file's
``[action.profile]`` table) > **global** (config file or environment) > **default**. Every
resolved value remembers its source, and a value out of range is refused with an error naming
field, value, range and source.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from cleveragents.domain.durations import DAY_S
from cleveragents.errors import InvalidInputError


class FailureMode(StrEnum):
    """What the dispatcher does when a subplan fails."""

    FAIL_FAST = "fail_fast"  # cancel everything else, fail the plan
    CONTINUE_ON_ERROR = "continue_on_error"  # run everything, then report every failure


def cores() -> int:
    """The cores this process may run on (its CPU affinity; all of them where there is none)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


DEFAULT_PARALLEL = min(32, max(1, cores()))  # max_parallel's default: one leaf per core


@dataclass(frozen=True)
class ProfileField:
    """One profile setting: its default and what it accepts."""

    name: str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    description: str = ""
    money: bool = False  # an amount in USD (a float), unset (None) by default: no budget

    @property
    def allowed(self) -> str:
        """The allowed values, as an error message shows them."""
        if self.choices:
            return " | ".join(self.choices)
        low, high = (_number(bound) for bound in (self.minimum, self.maximum))
        return f"{low}..{high}" + (" (USD), or unset" if self.money else "")

    def check(self, value: Any, source: str) -> Any:
        """Return ``value`` converted to the field's type, or raise naming the source."""
        if self.choices:
            if isinstance(value, str) and value in self.choices:
                return value
        elif self.money:
            if value is None:
                return None
            if isinstance(value, int | float) and not isinstance(value, bool):
                assert self.minimum is not None and self.maximum is not None
                if self.minimum <= value <= self.maximum:
                    return float(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            assert self.minimum is not None and self.maximum is not None
            if self.minimum <= value <= self.maximum:
                return value
        raise InvalidInputError(
            f"{self.name} = {value!r} is not allowed (allowed: {self.allowed}); "
            f"it came from {source}"
        )


def _number(value: float | None) -> str:
    return str(int(value)) if value is not None and float(value).is_integer() else str(value)


PROFILE_FIELDS: dict[str, ProfileField] = {
    field.name: field
    for field in (
        ProfileField(
            "max_parallel",
            DEFAULT_PARALLEL,
            1,
            32,
            description="leaf subplans running at once (default: the cores, up to 32)",
        ),
        ProfileField(
            "failure_mode",
            FailureMode.FAIL_FAST.value,
            choices=tuple(mode.value for mode in FailureMode),
            description="fail_fast cancels the rest on the first failure",
        ),
        ProfileField("timeout_s", 1800, 1, DAY_S, description="seconds one subplan may run"),
        ProfileField("retries", 0, 0, 10, description="extra attempts for a failed subplan"),
        ProfileField(
            "max_cost_usd", None, 0, 1e6, money=True, description="budget of the plan (USD)"
        ),
        ProfileField(
            "max_leaf_cost_usd", None, 0, 1e6, money=True, description="budget of one leaf (USD)"
        ),
    )
}

DEFAULT_SOURCE = "default"


class ProfileValue(BaseModel):
    """A resolved value and where it came from."""

    model_config = ConfigDict(frozen=True)

    value: Any
    source: str


class AutomationProfile(BaseModel):
    """The resolved profile of a plan (``ParallelExecutionConfig`` plus timeout and retries)."""

    model_config = ConfigDict(frozen=True)

    max_parallel: ProfileValue
    failure_mode: ProfileValue
    timeout_s: ProfileValue
    retries: ProfileValue
    # Budgets (results.py reports the costs); a plan stored before they existed has none.
    max_cost_usd: ProfileValue = ProfileValue(value=None, source=DEFAULT_SOURCE)
    max_leaf_cost_usd: ProfileValue = ProfileValue(value=None, source=DEFAULT_SOURCE)

    @property
    def parallel(self) -> int:
        """Leaf subplans running at once."""
        return int(self.max_parallel.value)

    @property
    def mode(self) -> FailureMode:
        """The failure mode."""
        return FailureMode(self.failure_mode.value)

    @property
    def timeout(self) -> float:
        """Seconds one subplan may run."""
        return float(self.timeout_s.value)

    @property
    def attempts(self) -> int:
        """Attempts per subplan (1 + retries)."""
        return 1 + int(self.retries.value)

    def as_json(self) -> dict[str, dict[str, Any]]:
        """``{"max_parallel": {"value", "source"}, ...}``: the shape of ``plan status --json``."""
        return {name: getattr(self, name).model_dump() for name in PROFILE_FIELDS}


# One layer: a source name and the values it sets. A global layer can name a source per key.
Layer = tuple[str, Mapping[str, Any]]


def resolve_profile(
    layers: Sequence[Layer], global_values: Mapping[str, tuple[Any, str]] | None = None
) -> AutomationProfile:
    """Resolve the profile from ``layers`` (highest first), then ``global_values``, then defaults.

    ``global_values`` maps a field to ``(value, source)``; a source of ``"default"`` there counts as
    not set. Unknown fields in a layer and values out of range raise :class:`InvalidInputError`.
    """
    for source, values in layers:
        unknown = sorted(set(values) - set(PROFILE_FIELDS))
        if unknown:
            raise InvalidInputError(
                f"unknown profile field {unknown[0]!r} from {source} "
                f"(known: {', '.join(PROFILE_FIELDS)})"
            )
    resolved: dict[str, ProfileValue] = {}
    for name, field in PROFILE_FIELDS.items():
        for source, values in layers:
            if values.get(name) is not None:
                resolved[name] = ProfileValue(
                    value=field.check(values[name], source), source=source
                )
                break
        else:
            value, source = (global_values or {}).get(name, (field.default, DEFAULT_SOURCE))
            resolved[name] = ProfileValue(value=field.check(value, source), source=source)
    return AutomationProfile(**resolved)
