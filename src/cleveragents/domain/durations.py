"""Durations as people type them: ``90``, ``90s``, ``15m``, ``12h``, ``7d``, ``2w``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from cleveragents.errors import InvalidInputError

DAY_S = 86_400  # seconds in a day, for every range written in days
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": DAY_S, "w": 7 * DAY_S}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """Seconds in ``text``; raises :class:`InvalidInputError` for anything else."""
    match = _PATTERN.match(text)
    if not match:
        raise InvalidInputError(
            f"invalid duration {text!r}: use a number with an optional unit s, m, h, d or w "
            "(e.g. 90s, 15m, 7d)"
        )
    return float(match.group(1)) * _UNITS[match.group(2).lower()]


def parse_instant(text: str) -> datetime:
    """The moment ``text`` names, in ISO 8601 with its time zone (``2026-12-24T08:00:00Z``,
    ``2026-12-24T09:00:00+01:00``); raises :class:`InvalidInputError` for anything else, a time
    without a zone included (it would be ambiguous)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInputError(
            f"invalid time {text!r}: use ISO 8601 with a time zone, e.g. 2026-12-24T08:00:00Z"
        )
    return moment.astimezone(UTC)
