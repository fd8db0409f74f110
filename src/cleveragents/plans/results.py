"""What an attempt reports about itself: a JSON object with its cost, tokens and a summary.

A command writes the object to ``$AGENTS_RESULT_FILE``, or, with ``result_from =
"stdout-json"``, prints it (the last line of its output that is a JSON object: what
``claude -p --output-format json`` and ``codex exec --json`` print). The known numeric fields
(``cost_usd``, ``input_tokens``, ``output_tokens``) are summed per leaf over its attempts and
per plan. A result that is not a JSON object, or whose known fields are not numbers, is recorded
as invalid with the reason; the leaf itself runs to its end as it would without one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from pydantic import BaseModel, Field, field_validator

from cleveragents.domain.redaction import redact

RESULT_FILE, STDOUT_JSON = "file", "stdout-json"
KNOWN = ("cost_usd", "input_tokens", "output_tokens")
PLACES = 9  # decimals kept of summed costs and tokens
MAX_RESULT_BYTES = 64 * 1024  # a bigger result keeps its known fields only
OUTPUT_SEARCHED = 256 * 1024  # the tail of the output a stdout-json result is looked for in


class ResultFields(BaseModel):
    """The result fields of an action (``ActionSpec`` inherits them)."""

    result_from: Literal["file", "stdout-json"] = "file"
    # Where a known field is in the tool's own object, as a dotted path:
    # {cost_usd = "total_cost_usd", input_tokens = "usage.input_tokens"} for `claude -p`.
    result_fields: dict[str, str] = Field(default_factory=dict)

    @field_validator("result_fields")
    @classmethod
    def _known_fields(cls, fields: dict[str, str]) -> dict[str, str]:
        for key in fields:
            if key not in KNOWN:
                raise ValueError(
                    f"{key!r} is not a field that is summed (known: {', '.join(KNOWN)})"
                )
        return fields


@dataclass(frozen=True)
class AttemptResult:
    """An attempt's result: the object (redacted), or why it is invalid."""

    data: dict[str, Any] | None = None
    error: str | None = None
    totals: dict[str, float] = field(default_factory=dict)  # its known numeric fields


def _lookup(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _check(text: str, where: str, paths: Mapping[str, str]) -> AttemptResult:
    try:
        data = json.loads(text)
    except ValueError as exc:
        return AttemptResult(error=f"{where} is not JSON: {exc}")
    if not isinstance(data, dict):
        return AttemptResult(error=f"{where} is not a JSON object (got {type(data).__name__})")
    totals: dict[str, float] = {}
    for key in KNOWN:
        value = _lookup(data, paths.get(key, key))
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            return AttemptResult(error=f"{where}: {key} is not a number >= 0 (got {value!r})")
        totals[key] = value
    if len(text.encode("utf-8", "surrogateescape")) > MAX_RESULT_BYTES:
        data = {**totals, "truncated": True}
    return AttemptResult(data=_redacted(data), totals=totals)


def _redacted(value: Any, key: str = "") -> Any:
    """``value`` with every string redacted, by its own shape or by the key it is under."""
    if isinstance(value, dict):
        return {k: _redacted(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(item, key) for item in value]
    if isinstance(value, str):
        pair = f"{key}={value}"
        return redact(value) if redact(pair) == pair else "[REDACTED]"
    return value


def read_result_file(path: str, paths: Mapping[str, str]) -> AttemptResult | None:
    """The result a command wrote to ``path``, if it wrote one."""
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            text = handle.read()
    except FileNotFoundError:  # it reported nothing: most commands
        return None
    except OSError as exc:
        return AttemptResult(error=f"the result file cannot be read: {exc.strerror}")
    return _check(text, "the result file", paths)


def raw_tail(output: IO[bytes]) -> str:
    """The last ``OUTPUT_SEARCHED`` bytes a command wrote to ``output``, as they are."""
    size = output.seek(0, os.SEEK_END)
    output.seek(max(size - OUTPUT_SEARCHED, 0))
    return output.read().decode("utf-8", "replace")


def result_from_output(output: str, paths: Mapping[str, str]) -> AttemptResult | None:
    """The last line of ``output`` that is a JSON object, as a result (None if there is none)."""
    for line in reversed(output[-OUTPUT_SEARCHED:].splitlines()):
        stripped = line.strip()
        if stripped.startswith("{") and stripped.endswith("}"):
            found = _check(stripped, "the printed result", paths)
            if found.error is None or "is not JSON" not in found.error:
                return found
    return None


def add_totals(into: dict[str, float], more: dict[str, float]) -> dict[str, float]:
    """``into`` plus ``more``, field by field (a new dict)."""
    summed = dict(into)
    for key, value in more.items():
        summed[key] = money(summed.get(key, 0) + value)
    return summed


def money(value: float) -> float:
    """``value`` rounded to ``PLACES`` decimals: sums of costs such as 10 x 0.01 are 0.1, not
    0.09999999999999999, so a budget of 0.1 is reached exactly when it should be."""
    return round(value, PLACES)
