"""What a user may type for an id: the id itself, a unique prefix of it, or ``@last``.

Ids are ULIDs (26 characters of Crockford's base 32, upper case, time-ordered), so:

- a prefix of at least :data:`MIN_PREFIX` characters names the one id it starts (any case: a
  pasted lower-case id works); a prefix two ids start is refused with exit 2, listing them;
- ``@last`` names the newest (the greatest id, as ULIDs sort by creation time).

A prefix is looked up as a range of the primary key (``id >= P AND id <= P + "ZZZ…"``), so the
lookup uses the key's index on SQLite and PostgreSQL alike. The resolution is one rule, here;
the CLI applies it to every id argument it reads (cli/state.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import Column, ColumnElement, Connection, select

from cleveragents.errors import (
    InvalidInputError,
    JobNotFoundError,
    NotFoundError,
    PlanNotFoundError,
)
from cleveragents.store.engine import Database
from cleveragents.store.tables import async_jobs, plans, subplans

LAST = "@last"
MIN_PREFIX = 6
ID_LENGTH = 26
SHOWN_CANDIDATES = 5
_CROCKFORD = re.compile(r"[0-9A-HJKMNP-TV-Z]+")


def resolve_id(
    conn: Connection,
    column: Column[str],
    ref: str,
    not_found: Callable[[str], NotFoundError],
    noun: str,
    scope: ColumnElement[bool] | None = None,
) -> str:
    """The full id in ``column`` that ``ref`` names (within ``scope``, a condition on the same
    table); ``not_found(ref)`` when none does; :class:`InvalidInputError` when several do."""
    query = select(column)
    if scope is not None:
        query = query.where(scope)
    if ref == LAST:
        newest = conn.execute(query.order_by(column.desc()).limit(1)).scalar()
        if newest is None:
            raise not_found(ref)
        return str(newest)
    wanted = ref.upper()
    if not _CROCKFORD.fullmatch(wanted) or len(wanted) > ID_LENGTH:
        raise not_found(ref)
    if len(wanted) == ID_LENGTH or len(wanted) < MIN_PREFIX:
        found = conn.execute(query.where(column == wanted)).scalar()
        if found is None:
            raise not_found(ref)
        return str(found)
    upper = wanted + "Z" * (ID_LENGTH - len(wanted))
    rows = conn.execute(
        query.where(column >= wanted, column <= upper).order_by(column).limit(SHOWN_CANDIDATES + 1)
    ).scalars()
    matches = [str(row) for row in rows]
    if not matches:
        raise not_found(ref)
    if len(matches) > 1:
        shown = ", ".join(matches[:SHOWN_CANDIDATES])
        more = " and more" if len(matches) > SHOWN_CANDIDATES else ""
        raise InvalidInputError(
            f"{noun} id prefix {ref!r} is ambiguous: {shown}{more}; give more characters"
        )
    return matches[0]


def resolve_plan(db: Database, ref: str) -> str:
    """The id of the plan ``ref`` names."""
    with db.read() as conn:
        return resolve_id(conn, plans.c.id, ref, PlanNotFoundError.for_id, "plan")


def resolve_job(db: Database, ref: str) -> str:
    """The id of the job ``ref`` names."""
    with db.read() as conn:
        return resolve_id(conn, async_jobs.c.id, ref, JobNotFoundError.for_id, "job")


def resolve_subplan(db: Database, plan_id: str, ref: str) -> str:
    """The id of the subplan of ``plan_id`` that ``ref`` names (``@last``: the plan's newest)."""

    def not_found(missing: str) -> NotFoundError:
        return NotFoundError(f"plan {plan_id} has no subplan {missing} (see `agents plan status`)")

    with db.read() as conn:
        return resolve_id(
            conn, subplans.c.id, ref, not_found, "subplan", scope=subplans.c.plan_id == plan_id
        )
