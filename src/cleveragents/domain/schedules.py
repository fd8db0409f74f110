"""Schedules: a job enqueued at every slot of a cron expression (in a time zone) or of a fixed
interval, and the rule that decides which slot a late check runs.

Cron expressions are parsed and stepped by cronsim (docs/choices.md): five fields, the
extensions of Debian's cron (``L``, ``#``, ``W``), daylight-saving changes handled as cron
does. An interval's slots are ``created_at + k * every`` (the first one interval after it was
added).

A check that finds slots missed (no worker ran meanwhile) runs **at most the latest** of them:
never a backfill storm after downtime. With ``catch_up = skip`` it runs even that one only if
it is less than :data:`MISSED_AFTER_S` late.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cleveragents.errors import InvalidInputError

MISSED_AFTER_S = 60.0  # a slot checked this late counts as missed (for catch_up = skip)
MIN_EVERY_S = 1.0  # the shortest interval
MAX_EVERY_S = 366 * 86_400.0  # the longest interval: a year (use cron beyond)
MAX_CRON_STEPS = 1_000_000  # slots stepped over at most when catching up (a year of minutes)
_FIELDS = ("minute", "hour", "day of month", "month", "day of week")


class CatchUp(StrEnum):
    """What a check does with missed slots: run the latest of them, or none."""

    LATEST = "latest"
    SKIP = "skip"


class Schedule(BaseModel):
    """One row of ``schedules``."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: str
    payload: dict[str, Any] = Field(default_factory=dict)
    job: dict[str, Any] = Field(default_factory=dict)  # NewJob options: queue, priority, ...
    cron: str | None = None
    timezone: str | None = None
    every_s: float | None = None
    catch_up: CatchUp = CatchUp.LATEST
    paused: bool = False
    created_at: datetime
    next_run_at: datetime
    last_run_at: datetime | None = None
    last_job_id: str | None = None

    @property
    def when(self) -> str:
        """How `schedule list` says when it runs: ``*/15 * * * * (Europe/Paris)``, ``every 30s``."""
        if self.cron is not None:
            return f"{self.cron} ({self.timezone or 'UTC'})"
        return f"every {self.every_s:g}s"

    def to_json(self) -> dict[str, Any]:
        """The schedule as a JSON-ready dict."""
        return self.model_dump(mode="json")


def _zone(name: str | None) -> Any:
    if name is None:
        return UTC  # no time zone database needed
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Paris"
        ) from None


def check_cron(expression: str, timezone: str | None) -> None:
    """Raise :class:`InvalidInputError` naming the field at fault unless ``expression`` is a
    cron expression of five fields and ``timezone`` a known zone."""
    from cronsim import CronSim, CronSimError

    zone = _zone(timezone)
    fields = expression.split()
    if len(fields) != len(_FIELDS):
        raise InvalidInputError(
            f"invalid cron expression {expression!r}: it has {len(fields)} fields, "
            "cron has 5 (minute hour day-of-month month day-of-week)"
        )
    try:
        CronSim(expression, datetime.now(zone))
    except CronSimError as exc:
        message = str(exc)
        where = next(
            (
                f" at field {index + 1} ({name}: {fields[index]!r})"
                for index, name in enumerate(_FIELDS)
                if name.split()[-1] in message.lower()
            ),
            "",
        )
        raise InvalidInputError(
            f"invalid cron expression {expression!r}{where}: {message}"
        ) from None


def _cron(schedule: Schedule, moment: datetime) -> Iterator[datetime]:
    """The schedule's cron slots strictly after ``moment``, in UTC."""
    from cronsim import CronSim

    assert schedule.cron is not None, "a schedule has a cron expression or an interval"
    for slot in CronSim(schedule.cron, moment.astimezone(_zone(schedule.timezone))):
        yield slot.astimezone(UTC)


def slot_after(schedule: Schedule, moment: datetime) -> datetime:
    """The schedule's first slot strictly after ``moment`` (UTC)."""
    if schedule.every_s is not None:
        elapsed = (moment - schedule.created_at).total_seconds()
        steps = max(math.floor(elapsed / schedule.every_s) + 1, 1)
        return schedule.created_at + timedelta(seconds=steps * schedule.every_s)
    # A wall-clock time repeated when daylight saving ends can come back as its first
    # occurrence, before ``moment``: step on to a slot that is really later.
    return next(slot for slot in _cron(schedule, moment) if slot > moment)


def due(schedule: Schedule, now: datetime) -> tuple[datetime | None, datetime]:
    """At ``now``: the slot to run (None when none is due, or when the latest missed one is
    skipped) and the schedule's next slot after ``now``."""
    if schedule.next_run_at > now:
        return None, schedule.next_run_at
    if schedule.every_s is not None:
        following = slot_after(schedule, now)
        latest = max(following - timedelta(seconds=schedule.every_s), schedule.next_run_at)
    else:
        latest, following = schedule.next_run_at, schedule.next_run_at
        slots = _cron(schedule, schedule.next_run_at)
        for _ in range(MAX_CRON_STEPS):
            following = next(slots)
            if following > now:
                break
            latest = following
        else:  # more missed slots than anyone needs: start afresh from now
            following = slot_after(schedule, now)
    late = (now - latest).total_seconds()
    if schedule.catch_up is CatchUp.SKIP and late >= MISSED_AFTER_S:
        return None, following
    return latest, following
