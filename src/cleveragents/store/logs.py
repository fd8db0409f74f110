"""Leaves' output: each attempt's chunks, written with the run's progress, read in order.

Chunks are redacted UTF-8 text compressed with zlib. They are written by the plan's journal in
the same transactions as the leaves' transitions (``PlanProgress.record``), so a leaf that is
terminal has all of its output stored. Reads page by id: a plan's logs are never held in memory.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, tuple_

from cleveragents.store.engine import Database
from cleveragents.store.tables import subplan_logs, subplans

_l = subplan_logs.c
_s = subplans.c
PAGE = 256  # chunks per read


@dataclass(frozen=True)
class LogChunk:
    """A piece of one attempt's output (redacted text)."""

    subplan_id: str
    attempt: int
    text: str
    id: int = 0  # set when read back: the order it was written in


def insert_chunks(conn: Connection, plan_id: str, chunks: Sequence[LogChunk]) -> None:
    """In the caller's transaction: store ``chunks`` in order."""
    if chunks:
        conn.execute(
            insert(subplan_logs),
            [
                {
                    "plan_id": plan_id,
                    "subplan_id": chunk.subplan_id,
                    "attempt": chunk.attempt,
                    "data": zlib.compress(chunk.text.encode("utf-8", "surrogateescape"), 1),
                    "size": len(chunk.text),
                }
                for chunk in chunks
            ],
        )


def _latest_attempt() -> Any:
    """The attempt number of the chunk's leaf's latest attempt (a correlated subquery)."""
    return (
        select(_s.attempts).where(_s.id == _l.subplan_id).correlate(subplan_logs).scalar_subquery()
    )


class LogStore:
    """Reads of ``subplan_logs``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def chunks(
        self,
        plan_id: str,
        subplan_ids: Sequence[str] | None = None,
        attempt: int | None = None,
        *,
        latest: bool = False,
        after_id: int = 0,
        until_id: int | None = None,
        by_leaf: bool = True,
    ) -> Iterator[LogChunk]:
        """The plan's chunks, leaf by leaf (``by_leaf``) or in the order written; only those of
        ``subplan_ids``, of ``attempt``, or of each leaf's latest attempt, between ``after_id`` and
        ``until_id``.
        """
        query = select(_l.id, _l.subplan_id, _l.attempt, _l.data).where(
            _l.plan_id == plan_id, _l.id > after_id
        )
        if until_id is not None:
            query = query.where(_l.id <= until_id)
        if subplan_ids is not None:
            query = query.where(_l.subplan_id.in_(list(subplan_ids)))
        if attempt is not None:
            query = query.where(_l.attempt == attempt)
        if latest:
            query = query.where(_l.attempt == _latest_attempt())
        order = (_l.subplan_id, _l.attempt, _l.id) if by_leaf else (_l.id,)
        last: tuple[Any, ...] = ()
        while True:  # keyset pages: each read is short, and memory stays flat
            page = query
            if last:
                page = page.where(tuple_(*order) > tuple_(*last))
            with self.db.read() as conn:
                rows = conn.execute(page.order_by(*order).limit(PAGE)).all()
            for row in rows:
                text = zlib.decompress(row.data).decode("utf-8", "surrogateescape")
                yield LogChunk(row.subplan_id, row.attempt, text, row.id)
            if len(rows) < PAGE:
                return
            tail = rows[-1]
            last = (tail.subplan_id, tail.attempt, tail.id) if by_leaf else (tail.id,)

    def size(self, plan_id: str) -> int:
        """Characters of output the plan's latest attempts hold."""
        with self.db.read() as conn:
            total = conn.execute(
                select(func.sum(_l.size)).where(
                    _l.plan_id == plan_id, _l.attempt == _latest_attempt()
                )
            ).scalar()
            return int(total or 0)

    def last_id(self, plan_id: str) -> int:
        """The newest chunk's id of the plan (0 if none)."""
        with self.db.read() as conn:
            newest = conn.execute(select(func.max(_l.id)).where(_l.plan_id == plan_id)).scalar()
            return int(newest or 0)
