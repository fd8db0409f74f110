"""Hot-path statements: written once as SQLAlchemy Core, run on the driver's cursor.

A worker pass runs two statements (record outcomes, claim) per few jobs. SQLAlchemy's per-call
work (execution context, events, per-parameter processing) costs more than SQLite takes to run
them, so the Core statement is compiled once per dialect and then executed directly on the DBAPI
cursor of the connection that holds the transaction. Parameters and results go through the
columns' own type processors, so what is stored and read back is exactly what the Core path
would store and read: the statement stays the single, portable definition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Dialect, Float
from sqlalchemy.sql.dml import UpdateBase

Processor = Callable[[Any], Any]


class CompiledStatement:
    """A Core statement compiled for one dialect, with its parameter and result processors."""

    def __init__(
        self,
        statement: UpdateBase,
        dialect: Dialect,
        param_types: Mapping[str, Column[Any]],
        result_columns: Sequence[Column[Any]] = (),
    ) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        names = list(compiled.positiontup or [])
        # Values written into the statement itself (status='running', attempts + 1) are bound
        # parameters too; they keep the value they were compiled with. Parameters named b_* are
        # the caller's to give, every time.
        self._constants = {k: v for k, v in compiled.params.items() if not k.startswith("b_")}
        identity: Processor = _identity
        self._params: list[tuple[str, Processor]] = []
        for name in names:
            column = param_types.get(name)
            processor = _bind(column, dialect) if column is not None else None
            self._params.append((name, processor or identity))
        self._results: list[Processor] = [
            _result(column, dialect) or identity for column in result_columns
        ]

    def params(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The positional parameters for one execution."""
        constants = self._constants
        return tuple(
            process(values[name] if name in values else constants[name])
            for name, process in self._params
        )

    def execute(self, conn: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run once on the transaction's cursor; returns the processed rows (if it returns any)."""
        cursor = _cursor(conn)
        try:
            cursor.execute(self.sql, self.params(values))
            rows = cursor.fetchall() if self._results else []
        finally:
            cursor.close()
        return [tuple(p(v) for p, v in zip(self._results, row, strict=True)) for row in rows]

    def execute_many(self, conn: Connection, values: Sequence[Mapping[str, Any]]) -> int:
        """Run once per parameter set; returns the total row count."""
        cursor = _cursor(conn)
        try:
            cursor.executemany(self.sql, [self.params(v) for v in values])
            return int(cursor.rowcount)
        finally:
            cursor.close()


def _identity(value: Any) -> Any:
    return value


def _cursor(conn: Connection) -> Any:
    return conn.connection.driver_connection.cursor()  # type: ignore[union-attr]


def _bind(column: Column[Any], dialect: Dialect) -> Processor | None:
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def _result(column: Column[Any], dialect: Dialect) -> Processor | None:
    if isinstance(column.type, Float) and not column.type.asdecimal:
        # Both drivers return a Python float already (SQLite REAL, PostgreSQL double
        # precision); psycopg's numeric processor would need the column's type oid to say so.
        return None
    return column.type.dialect_impl(dialect).result_processor(dialect, None)
