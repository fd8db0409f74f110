"""LockService: plan and project locks with a TTL, in the ``locks`` table.

The database decides every race. Acquiring is one ``INSERT … ON CONFLICT DO UPDATE … WHERE`` that
only updates the existing row when it is the caller's own (re-entrant: the expiry is extended) or
has expired (taken over), and returns a row only when the caller holds the lock afterwards; there
is no read-then-insert window. Renewing is one ``UPDATE`` over every lock an owner holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, delete, func, literal, select, update
from sqlalchemy.sql.dml import ReturningInsert

from cleveragents.domain.ids import new_id
from cleveragents.domain.locks import Lock, ResourceType
from cleveragents.domain.owners import describe_owner
from cleveragents.errors import LockConflictError, LockExpiredError
from cleveragents.store.engine import Database
from cleveragents.store.hot import CompiledStatement
from cleveragents.store.tables import UTCDateTime, locks
from cleveragents.store.upserts import insert_on_conflict

_l = locks.c


# Acquire and release are the hot verbs (a lock round trip per plan phase, and the benchmark's
# unit): written once as Core statements, compiled once per dialect (see hot.py).
def _acquire_statement(dialect_name: str) -> ReturningInsert[Any]:
    """The acquire, for SQLite or PostgreSQL (the same ``ON CONFLICT`` clause in both)."""
    new = insert_on_conflict(dialect_name, locks).values(
        id=bindparam("b_id"),
        owner_id=bindparam("b_owner"),
        resource_type=bindparam("b_type"),
        resource_id=bindparam("b_rid"),
        acquired_at=bindparam("b_now"),
        expires_at=bindparam("b_expires"),
    )
    statement: ReturningInsert[Any] = new.on_conflict_do_update(
        index_elements=[_l.resource_type, _l.resource_id],
        set_={
            "owner_id": new.excluded.owner_id,
            # re-entry keeps the original acquisition time; a takeover starts a new one
            "acquired_at": case(
                (_l.owner_id == new.excluded.owner_id, _l.acquired_at),
                else_=new.excluded.acquired_at,
            ),
            "expires_at": new.excluded.expires_at,
        },
        # only the caller's own lock, or an expired one, is updated: otherwise nothing returns
        where=(_l.owner_id == new.excluded.owner_id) | (_l.expires_at <= bindparam("b_now")),
    ).returning(*locks.c)
    return statement


_RELEASE = delete(locks).where(
    _l.resource_type == bindparam("b_type"),
    _l.resource_id == bindparam("b_rid"),
    _l.owner_id == bindparam("b_owner"),
)
_PARAM_TYPES = {
    "b_id": _l.id,
    "b_owner": _l.owner_id,
    "b_type": _l.resource_type,
    "b_rid": _l.resource_id,
    "b_now": _l.acquired_at,
    "b_expires": _l.expires_at,
}
_NAMES = [column.name for column in locks.c]
_HOT: dict[str, tuple[CompiledStatement, CompiledStatement]] = {}


def _compiled(conn: Connection) -> tuple[CompiledStatement, CompiledStatement]:
    dialect = conn.dialect
    if dialect.name not in _HOT:  # compiling twice in a race is harmless
        _HOT[dialect.name] = (
            CompiledStatement(
                _acquire_statement(dialect.name), dialect, _PARAM_TYPES, list(locks.c)
            ),
            CompiledStatement(_RELEASE, dialect, _PARAM_TYPES),
        )
    return _HOT[dialect.name]


def _to_lock(row: object) -> Lock:
    return Lock.model_validate(dict(row._mapping))  # type: ignore[attr-defined]


class LockService:
    """Acquire, renew and release locks; every verb is one statement."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def acquire(
        self, resource_type: ResourceType, resource_id: str, owner: str, ttl_s: float, now: datetime
    ) -> Lock:
        """Take the lock (or extend it, if ``owner`` holds it already) until ``now + ttl_s``.

        Raises :class:`LockConflictError` naming the holder and the expiry when another owner
        holds a lock that has not expired.
        """
        values = {
            "b_id": new_id(),
            "b_owner": owner,
            "b_type": resource_type.value,
            "b_rid": resource_id,
            "b_now": now,
            "b_expires": now + timedelta(seconds=ttl_s),
        }
        with self.db.write() as conn:
            acquire, _ = _compiled(conn)
            rows = acquire.execute(conn, values)
            if rows:
                return Lock.model_validate(dict(zip(_NAMES, rows[0], strict=True)))
            holder = self._get(conn, resource_type, resource_id)
        assert holder is not None, "the conflict had a holder"
        raise LockConflictError(
            f"{resource_type.value} {resource_id} is locked by {describe_owner(holder.owner_id)} "
            f"until {holder.expires_at.isoformat(timespec='seconds')}"
        )

    @staticmethod
    def _get(conn: Connection, resource_type: ResourceType, resource_id: str) -> Lock | None:
        row = conn.execute(
            select(locks).where(
                _l.resource_type == resource_type.value, _l.resource_id == resource_id
            )
        ).first()
        return None if row is None else _to_lock(row)

    def get(self, resource_type: ResourceType, resource_id: str) -> Lock | None:
        """The lock on a resource, expired or not, if there is a row."""
        with self.db.read() as conn:
            return self._get(conn, resource_type, resource_id)

    def is_locked(self, resource_type: ResourceType, resource_id: str, now: datetime) -> bool:
        """True while someone holds an unexpired lock on the resource."""
        lock = self.get(resource_type, resource_id)
        return lock is not None and not lock.is_stale(now)

    def renew(
        self, resource_type: ResourceType, resource_id: str, owner: str, ttl_s: float, now: datetime
    ) -> Lock:
        """Extend a lock ``owner`` still holds; :class:`LockExpiredError` if it was lost."""
        with self.db.write() as conn:
            row = conn.execute(
                update(locks)
                .where(
                    _l.resource_type == resource_type.value,
                    _l.resource_id == resource_id,
                    _l.owner_id == owner,
                    _l.expires_at > now,
                )
                .values(expires_at=now + timedelta(seconds=ttl_s))
                .returning(*locks.c)
            ).first()
        if row is None:
            raise LockExpiredError(
                f"the lock on {resource_type.value} {resource_id} was lost "
                "(it expired, and may have been taken by someone else)"
            )
        return _to_lock(row)

    def renew_all(self, owner: str, ttl_s: Mapping[ResourceType, float], now: datetime) -> int:
        """Extend every unexpired lock ``owner`` holds, each by its type's TTL, in one statement.

        Returns how many were extended; a lock that had already expired is not revived.
        """
        new_expiry = case(
            *(
                (
                    _l.resource_type == kind.value,
                    literal(now + timedelta(seconds=ttl), UTCDateTime()),
                )
                for kind, ttl in ttl_s.items()
            ),
            else_=_l.expires_at,
        )
        with self.db.write() as conn:
            return conn.execute(
                update(locks)
                .where(
                    _l.owner_id == owner,
                    _l.expires_at > now,
                    _l.resource_type.in_([kind.value for kind in ttl_s]),
                )
                .values(expires_at=new_expiry)
            ).rowcount

    def release(self, resource_type: ResourceType, resource_id: str, owner: str) -> bool:
        """Give a lock up; True if ``owner`` held it (expired or not)."""
        values = {"b_type": resource_type.value, "b_rid": resource_id, "b_owner": owner}
        with self.db.write() as conn:
            _, release = _compiled(conn)
            return bool(release.execute_many(conn, [values]))

    def force_release(self, resource_type: ResourceType, resource_id: str) -> Lock | None:
        """Remove a lock whoever holds it; returns what was removed."""
        with self.db.write() as conn:
            row = conn.execute(
                delete(locks)
                .where(_l.resource_type == resource_type.value, _l.resource_id == resource_id)
                .returning(*locks.c)
            ).first()
        return None if row is None else _to_lock(row)

    def take_over(self, lock: Lock) -> bool:
        """Remove ``lock`` if it is still exactly that row (same owner): for a holder that is
        known to be dead. True if it was removed."""
        with self.db.write() as conn:
            return bool(
                conn.execute(
                    delete(locks).where(and_(_l.id == lock.id, _l.owner_id == lock.owner_id))
                ).rowcount
            )

    def release_all_for_owner(self, owner: str) -> int:
        """Give up every lock ``owner`` holds."""
        with self.db.write() as conn:
            return conn.execute(delete(locks).where(_l.owner_id == owner)).rowcount

    def cleanup_expired(self, now: datetime) -> int:
        """Purge expired locks."""
        with self.db.write() as conn:
            return conn.execute(delete(locks).where(_l.expires_at <= now)).rowcount

    def count_stale(self, now: datetime) -> int:
        """Expired locks not purged yet."""
        with self.db.read() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(locks).where(_l.expires_at <= now)
                ).scalar_one()
            )

    def find(self) -> list[Lock]:
        """Every lock row, by resource."""
        with self.db.read() as conn:
            rows = conn.execute(select(locks).order_by(_l.resource_type, _l.resource_id))
            return [_to_lock(row) for row in rows]
