"""Schedules in the database: add, list, pause, remove, and enqueue what is due.

:meth:`ScheduleStore.enqueue_due` is what every worker runs (at most once a second): one indexed
read says whether anything is due; only then a write transaction takes the due schedules (rows
locked, ``SKIP LOCKED``, on PostgreSQL; SQLite's write lock is exclusive anyway), inserts one
``schedule_runs`` row per slot (``ON CONFLICT DO NOTHING`` on its primary key: a slot that has
a row has run), enqueues the job only when that row was inserted, and moves the schedule on.
However many workers check at once, each slot gets exactly one job, decided by the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from cleveragents.domain.ids import new_id
from cleveragents.domain.jobs import NewJob
from cleveragents.domain.schedules import Schedule, due, slot_after
from cleveragents.errors import ConflictError, NotFoundError
from cleveragents.store.engine import Database
from cleveragents.store.job_rows import row_values
from cleveragents.store.schedule_tables import schedule_runs, schedules
from cleveragents.store.tables import async_jobs
from cleveragents.store.upserts import insert_on_conflict

DUE_BATCH = 100  # schedules handled per transaction
_s = schedules.c


def _schedule(row: Any) -> Schedule:
    m = row._mapping
    return Schedule(
        name=m["name"],
        kind=m["kind"],
        payload=m["payload_json"],
        job=m["job_json"],
        cron=m["cron"],
        timezone=m["timezone"],
        every_s=m["every_s"],
        catch_up=m["catch_up"],
        paused=m["paused"],
        created_at=m["created_at"],
        next_run_at=m["next_run_at"],
        last_run_at=m["last_run_at"],
        last_job_id=m["last_job_id"],
    )


@dataclass
class DueReport:
    """What a check of the schedules did: jobs enqueued (schedule, slot, job id), and schedules
    paused because this process cannot run them (schedule, why)."""

    enqueued: list[tuple[str, datetime, str]] = field(default_factory=list)
    paused: list[tuple[str, str]] = field(default_factory=list)


class ScheduleStore:
    """Domain verbs over ``schedules`` and ``schedule_runs``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, schedule: Schedule) -> Schedule:
        """Add ``schedule`` (its first slot computed from its creation); a name in use is a
        :class:`ConflictError`."""
        first = schedule.model_copy(
            update={"next_run_at": slot_after(schedule, schedule.created_at)}
        )
        taken = ConflictError(f"a schedule named {schedule.name!r} exists already")
        try:
            with self.db.write() as conn:
                if conn.execute(select(exists().where(_s.name == schedule.name))).scalar():
                    raise taken
                conn.execute(
                    insert(schedules).values(
                        name=first.name,
                        kind=first.kind,
                        payload_json=first.payload,
                        job_json=first.job,
                        cron=first.cron,
                        timezone=first.timezone,
                        every_s=first.every_s,
                        catch_up=first.catch_up.value,
                        paused=False,
                        created_at=first.created_at,
                        next_run_at=first.next_run_at,
                    )
                )
        except IntegrityError:  # added by another process between the check and the insert
            raise taken from None
        return first

    def find(self) -> list[Schedule]:
        """Every schedule, by name."""
        with self.db.read() as conn:
            return [_schedule(row) for row in conn.execute(select(schedules).order_by(_s.name))]

    def get(self, name: str) -> Schedule:
        """The schedule ``name``; :class:`NotFoundError` if there is none."""
        with self.db.read() as conn:
            return self._get(conn, name)

    @staticmethod
    def _get(conn: Connection, name: str) -> Schedule:
        row = conn.execute(select(schedules).where(_s.name == name)).first()
        if row is None:
            raise NotFoundError(f"no schedule named {name!r}")
        return _schedule(row)

    def runs(self, name: str, limit: int = 10) -> list[tuple[datetime, str]]:
        """The schedule's latest runs: (slot, job id), newest first."""
        with self.db.read() as conn:
            self._get(conn, name)
            rows = conn.execute(
                select(schedule_runs.c.slot, schedule_runs.c.job_id)
                .where(schedule_runs.c.schedule_name == name)
                .order_by(schedule_runs.c.slot.desc())
                .limit(limit)
            )
            return [(slot, job_id) for slot, job_id in rows]

    def remove(self, name: str) -> None:
        """Delete the schedule and its record of runs (the jobs it enqueued stay)."""
        with self.db.write() as conn:
            if not conn.execute(delete(schedules).where(_s.name == name)).rowcount:
                raise NotFoundError(f"no schedule named {name!r}")

    def set_paused(self, name: str, paused: bool, now: datetime) -> Schedule:
        """Pause or resume; a resumed schedule runs next at its first slot after ``now`` (the
        slots it was paused over are not run)."""
        with self.db.write() as conn:
            schedule = self._get(conn, name)
            values: dict[str, Any] = {"paused": paused}
            if not paused and schedule.paused:
                values["next_run_at"] = slot_after(schedule, now)
            conn.execute(update(schedules).where(_s.name == name).values(**values))
            return self._get(conn, name)

    def enqueue_due(self, now: datetime) -> DueReport:
        """Enqueue the job of every due schedule's slot (at most the latest missed one). A
        schedule this process cannot run (a time zone it does not know, options its version
        refuses) is paused, with the reason in the report, and the others go on."""
        report = DueReport()
        is_due = (_s.paused.is_(False), _s.next_run_at <= now)
        with self.db.read() as conn:  # the cheap, indexed question first
            if not conn.execute(select(exists().where(*is_due))).scalar():
                return report
        with self.db.write() as conn:
            rows = conn.execute(
                select(schedules)
                .where(*is_due)
                .order_by(_s.next_run_at)
                .limit(DUE_BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                schedule = _schedule(row)
                try:  # everything that depends on this schedule's data, before any write
                    slot, following = due(schedule, now)
                    job = NewJob(kind=schedule.kind, payload=schedule.payload, **schedule.job)
                except Exception as exc:
                    report.paused.append((schedule.name, f"{type(exc).__name__}: {exc}"))
                    conn.execute(
                        update(schedules).where(_s.name == schedule.name).values(paused=True)
                    )
                    continue
                job_id = _run(conn, schedule.name, job, slot, now) if slot is not None else None
                if job_id is not None and slot is not None:
                    report.enqueued.append((schedule.name, slot, job_id))
                conn.execute(
                    update(schedules)
                    .where(_s.name == schedule.name, _s.next_run_at == schedule.next_run_at)
                    .values(
                        next_run_at=following,
                        **({"last_run_at": slot, "last_job_id": job_id} if job_id else {}),
                    )
                )
        return report

    def prune_runs(self, before: datetime) -> int:
        """Forget runs recorded before ``before`` (the schedule's next slot is always later)."""
        with self.db.write() as conn:
            return int(
                conn.execute(
                    delete(schedule_runs).where(schedule_runs.c.created_at < before)
                ).rowcount
            )


def _run(conn: Connection, name: str, job: NewJob, slot: datetime, now: datetime) -> str | None:
    """Record the slot and enqueue its job, unless the slot has run: the new job's id, or None."""
    job_id = new_id()
    recorded = conn.execute(
        insert_on_conflict(conn.dialect.name, schedule_runs)
        .values(schedule_name=name, slot=slot, job_id=job_id, created_at=now)
        .on_conflict_do_nothing(
            index_elements=[schedule_runs.c.schedule_name, schedule_runs.c.slot]
        )
        .returning(schedule_runs.c.job_id)
    ).first()
    if recorded is None:
        return None
    conn.execute(insert(async_jobs), row_values(job, job_id, now))
    return job_id
