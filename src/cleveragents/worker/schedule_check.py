"""A worker's check of the schedules: at most once a second (by the worker's clock), one
indexed read unless something is due (store/schedules.py), and a log line for each job it
enqueued and each schedule it had to pause."""

from __future__ import annotations

import logging
from datetime import datetime

from cleveragents.store.schedules import ScheduleStore

log = logging.getLogger("cleveragents.worker")

SCHEDULE_CHECK_INTERVAL_S = 1.0  # how often a worker asks whether a schedule is due


class ScheduleCheck:
    """Called by every worker pass; acts at most once per SCHEDULE_CHECK_INTERVAL_S."""

    def __init__(self, store: ScheduleStore) -> None:
        self.store = store
        self.last: datetime | None = None

    def __call__(self, now: datetime) -> None:
        if self.last is not None and (now - self.last).total_seconds() < SCHEDULE_CHECK_INTERVAL_S:
            return
        self.last = now
        report = self.store.enqueue_due(now)
        for name, slot, job_id in report.enqueued:
            log.info("schedule %s: enqueued job %s for %s", name, job_id, slot.isoformat())
        for name, why in report.paused:
            log.error("schedule %s paused: this worker cannot run it (%s)", name, why)
