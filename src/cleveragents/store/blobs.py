"""File contents, stored once per content hash (table ``blobs``), compressed.

A leaf's changes name their contents by SHA-256 (``changes.new_sha256``, and ``base_sha256``
when the content before was read: ``base_kept``); recording a change puts its contents here
unless they are here already, so twenty runs of a codemod over one project keep each file's
bytes once. Nothing is deleted with a plan: :func:`collect` removes the blobs no change refers
to any more.

Concurrency: a recording refreshes ``used_at`` of every blob it refers to, in its own
transaction, which also locks those rows. On PostgreSQL a collection deletes only blobs unused
for :data:`PG_GRACE_S`: a recording that has not committed yet (its change rows invisible to the
collection) holds its blobs' rows, and once it commits their ``used_at`` is too new. SQLite runs
one writer at a time, so there no recording can be half-way when a collection runs.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select

from cleveragents.store.tables import blobs, changes
from cleveragents.store.upserts import insert_on_conflict

LEVEL = 6  # zlib's default: source code shrinks 3-5x, at tens of MB/s
PG_GRACE_S = 300.0
PAGE = 500  # blobs read or written per statement

_b = blobs.c


def put(conn: Connection, contents: Mapping[str, bytes], now: datetime) -> None:
    """In the caller's transaction: make sure a blob holds each of ``contents`` (by its SHA-256),
    and mark each as used now."""
    if not contents:
        return
    known = set(find(conn, contents))
    fresh = [
        {"sha256": sha, "size": len(data), "data": zlib.compress(data, LEVEL), "used_at": now}
        for sha, data in contents.items()
        if sha not in known
    ]
    if known:
        touch = blobs.update().where(_b.sha256 == bindparam("b_sha")).values(used_at=now)
        conn.execute(touch, [{"b_sha": sha} for sha in known])
    if fresh:
        _insert_new(conn, fresh)


def _insert_new(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``; one another writer inserted meanwhile is left as it is (same bytes)."""
    statement = insert_on_conflict(conn.dialect.name, blobs)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[_b.sha256], set_={"used_at": statement.excluded.used_at}
        ),
        rows,
    )


def find(conn: Connection, shas: Iterable[str]) -> list[str]:
    """Which of ``shas`` have a blob."""
    wanted = list(dict.fromkeys(shas))
    found: list[str] = []
    for start in range(0, len(wanted), PAGE):
        page = wanted[start : start + PAGE]
        found += conn.execute(select(_b.sha256).where(_b.sha256.in_(page))).scalars().all()
    return found


def read(conn: Connection, shas: Sequence[str]) -> dict[str, bytes]:
    """The contents of the blobs ``shas`` (those that exist), decompressed."""
    out: dict[str, bytes] = {}
    wanted = list(dict.fromkeys(shas))
    for start in range(0, len(wanted), PAGE):
        page = wanted[start : start + PAGE]
        for sha, data in conn.execute(select(_b.sha256, _b.data).where(_b.sha256.in_(page))):
            out[sha] = zlib.decompress(data)
    return out


def collect(conn: Connection, now: datetime) -> int:
    """In the caller's transaction: delete the blobs no change refers to (on PostgreSQL, those
    unused for PG_GRACE_S as well); how many went."""
    # Two uncorrelated subqueries, each read once (no index on the hashes of changes: that
    # would cost every recorded change more than an occasional scan costs a removal).
    new = select(changes.c.new_sha256).where(changes.c.new_sha256.is_not(None))
    base = select(changes.c.base_sha256).where(changes.c.base_kept)
    unused = _b.sha256.not_in(new) & _b.sha256.not_in(base)
    if conn.dialect.name == "postgresql":
        unused = unused & (_b.used_at < now - timedelta(seconds=PG_GRACE_S))
    return max(int(conn.execute(delete(blobs).where(unused)).rowcount), 0)
