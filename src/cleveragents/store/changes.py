"""Changes of sandboxed subplans: recorded when a leaf completes, read by diff, marked by apply.

A leaf's changes are replaced as a whole in one transaction, so a leaf that runs again (a resume
after a crash) never leaves a mix of two attempts behind. Contents are stored once per content
hash (store/blobs.py) and read only when a diff or an apply needs them, a few hundred at a time.
A path is stored as ``domain/paths.py`` ``path_to_text`` writes it (a name that is not UTF-8,
escaped reversibly).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, case, delete, func, insert, null, select, update

from cleveragents.domain.changes import CapturedChange, ChangeKind, FileChange
from cleveragents.domain.paths import path_from_text, path_to_text, safe_text
from cleveragents.domain.plans import EventKind, Plan, SubplanState
from cleveragents.errors import ConflictError, InvalidInputError, NotFoundError
from cleveragents.store import blobs
from cleveragents.store.engine import Database
from cleveragents.store.tables import changes, plan_events, plans, subplans

_c = changes.c
_LISTED = (
    _c.id,
    _c.plan_id,
    _c.subplan_id,
    _c.path,
    _c.change,
    _c.base_sha256,
    _c.base_mode,
    _c.new_sha256,
    _c.mode,
    _c.size,
    _c.applied_at,
    _c.in_scope,
)
CONTENT_PAGE = 200  # rows of content read at once


def _to_change(m: RowMapping) -> FileChange:
    return FileChange(
        id=m["id"],
        plan_id=m["plan_id"],
        subplan_id=m["subplan_id"],
        path=path_from_text(m["path"]),
        kind=ChangeKind(m["change"]),
        base_sha256=m["base_sha256"],
        base_mode=m["base_mode"],
        new_sha256=m["new_sha256"],
        mode=m["mode"],
        size=m["size"],
        applied_at=m["applied_at"],
        in_scope=m["in_scope"],
    )


def _row(plan_id: str, subplan_id: str, change: CapturedChange) -> dict[str, Any]:
    return {
        "plan_id": plan_id,
        "subplan_id": subplan_id,
        "path": path_to_text(change.path),  # a name that is not UTF-8, escaped reversibly
        "change": change.kind.value,
        "base_sha256": change.base_sha256,
        "base_mode": change.base_mode,
        "base_kept": change.base_content is not None,
        "new_sha256": change.new_sha256,
        "mode": change.mode,
        "size": change.size,
        "in_scope": change.in_scope,
    }


def _contents(found: Sequence[CapturedChange]) -> dict[str, bytes]:
    """The contents ``found`` brings, by SHA-256: each new content, and each base content read."""
    contents: dict[str, bytes] = {}
    for change in found:
        if change.new_sha256 is not None and change.content is not None:
            contents[change.new_sha256] = change.content
        if change.base_sha256 is not None and change.base_content is not None:
            contents[change.base_sha256] = change.base_content
    return contents


def discard_changes(conn: Connection, plan_id: str, leaf_state: SubplanState) -> int:
    """In the caller's transaction: delete the changes of the plan's leaves in ``leaf_state``."""
    leaves = select(subplans.c.id).where(
        subplans.c.plan_id == plan_id, subplans.c.state == leaf_state.value
    )
    result = conn.execute(delete(changes).where(_c.plan_id == plan_id, _c.subplan_id.in_(leaves)))
    return max(int(result.rowcount), 0)


class ChangeStore:
    """The ``changes`` table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def replace(
        self, plan_id: str, subplan_id: str, found: Sequence[CapturedChange], now: datetime
    ) -> None:
        """Make ``found`` the leaf's changes (and store their contents), in one transaction."""
        with self.db.write() as conn:
            conn.execute(delete(changes).where(_c.subplan_id == subplan_id))
            if found:
                blobs.put(conn, _contents(found), now)
                conn.execute(insert(changes), [_row(plan_id, subplan_id, c) for c in found])

    def for_plan(self, plan_id: str) -> list[FileChange]:
        """The plan's changes by path (and subplan, for two leaves changing one path)."""
        query = select(*_LISTED).where(_c.plan_id == plan_id).order_by(_c.path, _c.subplan_id)
        with self.db.read() as conn:
            return [_to_change(row._mapping) for row in conn.execute(query)]

    def contents(
        self, ids: Sequence[int], *, with_base: bool = False
    ) -> Iterator[tuple[bytes | None, bytes | None]]:
        """``(base content, new content)`` for each of ``ids`` in order, read a page at a time
        (the base only ``with_base``: apply needs just the new content)."""
        kept_base = case((_c.base_kept, _c.base_sha256), else_=null())
        columns = (_c.id, _c.new_sha256, kept_base if with_base else null())
        for start in range(0, len(ids), CONTENT_PAGE):
            page = list(ids[start : start + CONTENT_PAGE])
            with self.db.read() as conn:
                rows = conn.execute(select(*columns).where(_c.id.in_(page))).all()
                data = blobs.read(conn, [sha for row in rows for sha in row[1:] if sha])
            found = {row[0]: (data.get(row[2] or ""), data.get(row[1] or "")) for row in rows}
            for change_id in page:
                yield found.get(change_id, (None, None))

    def labels(self, plan_id: str) -> dict[str, str]:
        """Each leaf of the plan's label, by subplan id (to name the leaves of a conflict)."""
        query = select(subplans.c.id, subplans.c.label).where(
            subplans.c.plan_id == plan_id, subplans.c.is_leaf.is_(True)
        )
        with self.db.read() as conn:
            return {row.id: row.label for row in conn.execute(query)}

    def by_subplan(self, plan_id: str) -> dict[str, tuple[int, int]]:
        """Each subplan with recorded changes: (its changes, how many of them are applied)."""
        query = (
            select(_c.subplan_id, func.count(), func.count(_c.applied_at))
            .where(_c.plan_id == plan_id)
            .group_by(_c.subplan_id)
        )
        with self.db.read() as conn:
            return {row[0]: (row[1], row[2]) for row in conn.execute(query)}

    def summary(self, plan_id: str) -> dict[str, int]:
        """Changes by kind, plus ``applied`` and ``paths`` (distinct) for the plan."""
        query = (
            select(_c.change, func.count(), func.count(_c.applied_at))
            .where(_c.plan_id == plan_id)
            .group_by(_c.change)
        )
        counts = {kind.value: 0 for kind in ChangeKind}
        applied = 0
        with self.db.read() as conn:
            for kind, count, done in conn.execute(query):
                counts[kind] = count
                applied += done
            paths = conn.execute(
                select(func.count(func.distinct(_c.path))).where(_c.plan_id == plan_id)
            ).scalar_one()
        return {**counts, "applied": applied, "paths": paths}

    def mark_applied(self, ids: Sequence[int], at: datetime) -> None:
        """Record that ``ids`` are written to the project."""
        with self.db.write() as conn:
            conn.execute(update(changes).where(_c.id.in_(list(ids))).values(applied_at=at))

    def reject(self, plan: Plan, subplan_ids: Sequence[str], reason: str, now: datetime) -> int:
        """Drop the changes of these leaves of ``plan`` (while it is in the phase it was read
        in) and mark them rejected with ``reason``; how many changes were dropped. Raises
        :class:`NotFoundError` for an id that is not one of its leaves and
        :class:`InvalidInputError` for a leaf with changes applied already."""
        with self.db.write() as conn:
            found = {
                row.id: row.label
                for row in conn.execute(
                    select(subplans.c.id, subplans.c.label).where(
                        subplans.c.plan_id == plan.id,
                        subplans.c.is_leaf.is_(True),
                        subplans.c.id.in_(list(subplan_ids)),
                    )
                )
            }
            for subplan_id in subplan_ids:
                if subplan_id not in found:
                    raise NotFoundError(f"plan {plan.id} has no leaf subplan {subplan_id}")
            applied = conn.execute(
                select(_c.subplan_id).where(
                    _c.subplan_id.in_(list(found)), _c.applied_at.is_not(None)
                )
            ).first()
            if applied is not None:
                raise InvalidInputError(
                    f"subplan {applied.subplan_id} of plan {plan.id} is applied already; "
                    "its changes cannot be rejected"
                )
            phase = conn.execute(select(plans.c.phase).where(plans.c.id == plan.id)).scalar()
            if phase != plan.phase.value:
                raise ConflictError(f"plan {plan.id} is {phase} now; try again")
            dropped = conn.execute(delete(changes).where(_c.subplan_id.in_(list(found)))).rowcount
            conn.execute(
                update(subplans).where(subplans.c.id.in_(list(found))).values(rejection=reason)
            )
            conn.execute(
                insert(plan_events),
                [
                    {
                        "plan_id": plan.id,
                        "subplan_id": subplan_id,
                        "at": now,
                        "kind": EventKind.SUBPLAN.value,
                        "state": SubplanState.COMPLETED.value,
                        "data_json": {"label": safe_text(found[subplan_id]), "rejected": reason},
                    }
                    for subplan_id in found
                ],
            )
            return max(int(dropped), 0)
